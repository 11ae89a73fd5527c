import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import { SessionHandle, type SessionSource } from '../../../runtime/session-handle.js';
import { UNetQueue } from '../../../runtime/batching/unet-queue.js';
import { ModelSampling } from '../../../sampling/model-sampling.js';
import { ControlNetError, applyControlToUncond, makeControlRunner } from '../../../nodes/diffusion/control-residuals.js';
import type { CondEntry, ControlLink, ControlNetModel, DiffusionModel } from '../../../sockets/index.js';

const never: SessionSource = { session: () => Promise.reject(new Error('not opened in this test')) };
const net = (name: string, crossAttentionDim?: number): ControlNetModel => ({ name, session: new SessionHandle(never, `/x/${name}`), crossAttentionDim });
const hint = new Tensor('float32', new Float32Array(12), [1, 2, 2, 3]);
const link = (n: ControlNetModel, start = 0, end = 1, previous?: ControlLink): ControlLink => ({ net: n, hint, strength: 1, start, end, previous });
const entry = (control?: ControlLink, extra: Partial<CondEntry> = {}): CondEntry => ({ embeds: new Tensor('float32', new Float32Array(2 * 32), [1, 2, 32]), strength: 1, control, ...extra });

function model(residual: boolean): DiffusionModel {
  const q = () => new UNetQueue(new SessionHandle(never, '/x/unet'));
  const sampling = ModelSampling.fromSchedulerConfig({});
  return { name: 'ck', unet: q(), residualUnet: residual ? q() : undefined, sampling, trainingSigmas: sampling.sigmas, timestepMode: 'nearest', latentScale: 0.18215, latentChannels: 4, lcmGuidance: 8.5 } as unknown as DiffusionModel;
}

describe('makeControlRunner', () => {
  it('is absent when no entry carries a control', () => {
    expect(makeControlRunner(model(false), [entry()])).toBeUndefined();
  });

  it('refuses a ControlNet on a checkpoint without a residual U-Net, before sampling, naming both', () => {
    expect(() => makeControlRunner(model(false), [entry(link(net('canny')))])).toThrow(ControlNetError);
    expect(() => makeControlRunner(model(false), [entry(link(net('canny')))])).toThrow(/'canny'.*checkpoint 'ck' has no residual U-Net \(cnet\/model.onnx/);
  });

  it('refuses an SDXL ControlNet (cross-attention 2048) on a 32-wide conditioning', () => {
    expect(() => makeControlRunner(model(true), [entry(link(net('xl', 2048)))])).toThrow(/'xl' is made for cross-attention width 2048 \(SDXL\) but the conditioning of 'ck' has width 32/);
  });

  it('a link applies while sigma(start) >= sigma >= sigma(end); an inactive link defers to the previous one', () => {
    const m = model(true);
    const early = link(net('early'), 0, 0.5);
    const late = link(net('late'), 0.5, 1, early);
    const r = makeControlRunner(m, [entry(late)])!;
    const mid = m.sampling.percentToSigma(0.5);
    expect(r.active(late, 14).map((l) => l.net.name)).toEqual(['early']);
    expect(r.active(late, mid).map((l) => l.net.name)).toEqual(['late', 'early']);
    expect(r.active(late, 0.1).map((l) => l.net.name)).toEqual(['late']);
  });
});

describe('applyControlToUncond (ControlNetApply)', () => {
  it('copies the control onto uncond entries without an area while none has a control', () => {
    const l = link(net('a'));
    const neg = [entry(), entry(undefined, { area: { h: 1, w: 1, y: 0, x: 0 } })];
    const out = applyControlToUncond([entry(l, { controlApplyToUncond: true })], neg);
    expect(out[0]!.control).toBe(l);
    expect(out[1]!.control).toBeUndefined();
  });

  it('leaves the negative alone for ControlNetApplyAdvanced entries or when it has its own control', () => {
    const l = link(net('a'));
    const neg = [entry()];
    expect(applyControlToUncond([entry(l)], neg)).toBe(neg);
    const own = [entry(link(net('b')))];
    expect(applyControlToUncond([entry(l, { controlApplyToUncond: true })], own)).toBe(own);
  });
});
