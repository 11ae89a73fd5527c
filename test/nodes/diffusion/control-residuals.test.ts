import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import { SessionHandle, type SessionSource } from '../../../runtime/session-handle.js';
import { UNetQueue } from '../../../runtime/batching/unet-queue.js';
import { ModelSampling } from '../../../sampling/model-sampling.js';
import { ControlNetError, applyControlToUncond, makeControlRunner } from '../../../nodes/diffusion/control-residuals.js';
import type { CondEntry, ControlLink, ControlNetModel, DiffusionModel } from '../../../sockets/index.js';
import type { DiffusionSession } from '../../../runtime/session-handle.js';
import type { IoMeta } from '../../../runtime/io-meta.js';

const never: SessionSource = { session: () => Promise.reject(new Error('not opened in this test')) };
const net = (name: string, crossAttentionDim?: number): ControlNetModel => {
  const session = new SessionHandle(never, `/x/${name}`);
  return { name, session, queue: new UNetQueue(session, {}, 'all'), crossAttentionDim };
};
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

/** A session with declared I/O whose run is given (the structural DiffusionSession). */
function fakeSession(inputs: string[], outputs: string[], run: (feeds: Record<string, Tensor>) => Record<string, Tensor>): DiffusionSession {
  const meta = (name: string): IoMeta => ({ name, dtype: 'float32', shape: [], shapeKnown: false });
  return { inputs: inputs.map(meta), outputs: outputs.map(meta), run: async (feeds) => run(feeds as Record<string, Tensor>) };
}

function sourceOf(sessions: Record<string, DiffusionSession>): SessionSource {
  return { session: async (p) => sessions[p]! };
}

describe('ControlRunner.submit', () => {
  const rows = 2;
  const request = {
    sample: new Tensor('float32', new Float32Array(rows * 4 * 2 * 2).fill(0.5), [rows, 4, 2, 2]),
    timesteps: Float64Array.of(500, 500),
    encoderHiddenStates: new Tensor('float32', new Float32Array(rows * 2 * 32), [rows, 2, 32]),
  };
  const embeds = request.encoderHiddenStates;
  const UNET_IN = ['sample', 'timestep', 'encoder_hidden_states', 'down_block_0', 'down_block_1', 'mid_block_additional_residual'];

  function setup(cnOutputs: string[], value: (name: string) => number, cnInputs = ['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond']) {
    const seen: Record<string, Tensor>[] = [];
    const cn = fakeSession(cnInputs, cnOutputs, (f) => {
      expect(f.controlnet_cond!.shape).toEqual([rows, 3, 16, 16]);
      return Object.fromEntries(cnOutputs.map((n) => [n, new Tensor('float32', new Float32Array(rows * 2 * 2 * 2).fill(value(n)), [rows, 2, 2, 2])]));
    });
    const unet = fakeSession(UNET_IN, ['out_sample'], (f) => {
      seen.push(f);
      return { out_sample: new Tensor('float32', new Float32Array(f.sample!.size), f.sample!.shape) };
    });
    const source = sourceOf({ '/cn': cn, '/cnet': unet });
    const m = { ...model(true), residualUnet: new UNetQueue(new SessionHandle(source, '/cnet')) } as DiffusionModel;
    const session = new SessionHandle(source, '/cn');
    const net: ControlNetModel = { name: 'cn', session, queue: new UNetQueue(session, {}, 'all') };
    return { m, net, seen };
  }

  it('feeds the residual U-Net the sum of each link output times its strength, bound by name', async () => {
    const { m, net, seen } = setup(['down_block_1', 'down_block_0', 'mid_block_res_sample'], (n) => (n === 'down_block_0' ? 1 : n === 'down_block_1' ? 10 : 100));
    const a: ControlLink = { net, hint, strength: 0.5, start: 0, end: 1 };
    const b: ControlLink = { net, hint, strength: 2, start: 0, end: 1, previous: a };
    const r = makeControlRunner(m, [entry(b)])!;
    await r.submit(r.active(b, 5), { request, embeds, entries: 2 });
    const f = seen[0]!;
    expect(f.down_block_0!.data[0]).toBeCloseTo(2.5, 6);
    expect(f.down_block_1!.data[0]).toBeCloseTo(25, 6);
    expect(f.mid_block_additional_residual!.data[0]).toBeCloseTo(250, 6);
  });

  it('refuses a ControlNet whose residual count does not fit, and an image-only model (T2I-Adapter)', async () => {
    const short = setup(['down_block_0', 'mid_block_res_sample'], () => 1);
    const l: ControlLink = { net: short.net, hint, strength: 1, start: 0, end: 1 };
    const r = makeControlRunner(short.m, [entry(l)])!;
    await expect(r.submit([l], { request, embeds, entries: 2 })).rejects.toThrow(/'cn' does not fit the residual U-Net of 'ck'.*gives 1 down-block residuals but the U-Net takes 2/);
    // ready() (awaited before a run's first U-Net call) reports it too, whatever the control's range.
    const late: ControlLink = { ...l, start: 0.9 };
    await expect(makeControlRunner(short.m, [entry(late)])!.ready()).rejects.toThrow(/does not fit/);
    const adapter = setup(['f0', 'f1', 'f2'], () => 1, ['input']);
    const la: ControlLink = { net: adapter.net, hint, strength: 1, start: 0, end: 1 };
    const ra = makeControlRunner(adapter.m, [entry(la)])!;
    await expect(ra.submit([la], { request, embeds, entries: 2 })).rejects.toThrow(/'cn' is not a ControlNet: it takes input.*T2I-Adapter/);
  });
});
