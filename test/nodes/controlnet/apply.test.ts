import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../runtime/tensor.js';
import { SessionHandle, type SessionSource } from '../../../runtime/session-handle.js';
import { UNetQueue } from '../../../runtime/batching/unet-queue.js';
import { ControlNetApply, ControlNetApplyAdvanced } from '../../../nodes/controlnet/index.js';
import type { CondEntry, ControlNetModel } from '../../../sockets/index.js';
import { nodeContext, runOutput } from '../../fixtures/run-node.js';

const ctx = nodeContext();
const never: SessionSource = { session: () => Promise.reject(new Error('not opened in this test')) };
const net = (name: string): ControlNetModel => {
  const session = new SessionHandle(never, `/nowhere/${name}.onnx`);
  return { name, session, queue: new UNetQueue(session, {}, 'all') };
};
const image = new Tensor('float32', new Float32Array(2 * 2 * 3).fill(1), [1, 2, 2, 3]);
const entry = (v: number): CondEntry => ({ embeds: new Tensor('float32', Float32Array.of(v, v), [1, 1, 2]), strength: 1 });

describe('ControlNetApplyAdvanced', () => {
  it('puts one link on positive and negative (shared, so both rows can share a call) with its range and strength', () => {
    const a = net('a');
    const inputs = { positive: [entry(1)], negative: [entry(2)], control_net: a, image, strength: 0.7, start_percent: 0.1, end_percent: 0.5 };
    const { positive: pos, negative: neg } = ControlNetApplyAdvanced.run(ctx, inputs) as { positive: CondEntry[]; negative: CondEntry[] };
    expect(pos[0]!.control).toMatchObject({ net: a, strength: 0.7, start: 0.1, end: 0.5, previous: undefined });
    expect(pos[0]!.control!.hint).toBe(image);
    expect(neg[0]!.control).toBe(pos[0]!.control);
    expect(pos[0]!.controlApplyToUncond).toBe(false);
  });

  it('chains onto the control an entry already carries (residuals add)', () => {
    const first = ControlNetApplyAdvanced.run(ctx, { positive: [entry(1)], negative: [entry(2)], control_net: net('a'), image, strength: 1, start_percent: 0, end_percent: 1 }) as { positive: CondEntry[]; negative: CondEntry[] };
    const second = ControlNetApplyAdvanced.run(ctx, { positive: first.positive, negative: first.negative, control_net: net('b'), image, strength: 0.5, start_percent: 0, end_percent: 1 }) as { positive: CondEntry[]; negative: CondEntry[] };
    const link = second.positive[0]!.control!;
    expect(link.net.name).toBe('b');
    expect(link.previous).toBe(first.positive[0]!.control);
    expect(second.negative[0]!.control).toBe(link);
  });

  it('strength 0 returns the conditionings unchanged (ComfyUI)', () => {
    const positive = [entry(1)];
    const negative = [entry(2)];
    const out = ControlNetApplyAdvanced.run(ctx, { positive, negative, control_net: net('a'), image, strength: 0, start_percent: 0, end_percent: 1 }) as { positive: CondEntry[]; negative: CondEntry[] };
    expect(out.positive).toBe(positive);
    expect(out.negative).toBe(negative);
  });

  it('refuses an image that is not [B,H,W,C], naming node and input', () => {
    const bad = new Tensor('float32', new Float32Array(4), [2, 2]);
    expect(() => ControlNetApplyAdvanced.run(ctx, { positive: [entry(1)], negative: [entry(2)], control_net: net('a'), image: bad, strength: 1, start_percent: 0, end_percent: 1 })).toThrow(/ControlNetApplyAdvanced: input 'image'/);
  });
});

describe('ControlNetApply (deprecated)', () => {
  it('controls the whole schedule and marks the entry for the uncond copy', async () => {
    const [e] = await runOutput(ControlNetApply, { conditioning: [entry(1)], control_net: net('a'), image, strength: 0.8 }, 'CONDITIONING', ctx);
    expect(e!.control).toMatchObject({ strength: 0.8, start: 0, end: 1 });
    expect(e!.controlApplyToUncond).toBe(true);
  });
});
