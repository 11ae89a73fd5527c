import { describe, expect, it } from 'vitest';
import type { IoMeta } from '../../runtime/io-meta.js';
import { ResidualBindingError, bindControlNetOutputs, bindUNetResiduals, residualMismatches } from '../../runtime/residual-binding.js';

const meta = (name: string, shape: (number | string)[] = ['B', 32, 'h', 'w']): IoMeta => ({ name, dtype: 'float32', shape, shapeKnown: true });
const base = [meta('sample', ['B', 4, 'h', 'w']), meta('timestep', ['B']), meta('encoder_hidden_states', ['B', 77, 32])];

describe('bindUNetResiduals', () => {
  it('a plain U-Net has no residual inputs', () => {
    expect(bindUNetResiduals([...base, meta('text_embeds', ['B', 32]), meta('time_ids', ['B', 6])])).toBeUndefined();
  });

  it("onnx-web's down_block_i + mid_block_additional_residual, in index order whatever the declared order", () => {
    const b = bindUNetResiduals([...base, meta('mid_block_additional_residual'), meta('down_block_1'), meta('down_block_0'), meta('down_block_2')]);
    expect(b).toEqual({ down: ['down_block_0', 'down_block_1', 'down_block_2'], mid: 'mid_block_additional_residual', scheme: 'onnx-web' });
  });

  it("OnnxStack's down_block_{i}_additional_residual", () => {
    const b = bindUNetResiduals([...base, meta('down_block_0_additional_residual'), meta('down_block_1_additional_residual'), meta('mid_block_additional_residual')]);
    expect(b?.scheme).toBe('onnxstack');
    expect(b?.down).toEqual(['down_block_0_additional_residual', 'down_block_1_additional_residual']);
  });

  it('down_block_additional_residual_{i}', () => {
    const b = bindUNetResiduals([...base, meta('down_block_additional_residual_1'), meta('down_block_additional_residual_0'), meta('mid_block_additional_residual')]);
    expect(b).toMatchObject({ scheme: 'indexed', down: ['down_block_additional_residual_0', 'down_block_additional_residual_1'] });
  });

  it('unknown names bind by declared order, the last one as mid', () => {
    const b = bindUNetResiduals([...base, meta('r_a'), meta('r_b'), meta('r_c')]);
    expect(b).toEqual({ down: ['r_a', 'r_b'], mid: 'r_c', scheme: 'order' });
  });

  it('a gap in the indices falls back to order', () => {
    expect(bindUNetResiduals([...base, meta('down_block_0'), meta('down_block_2'), meta('mid_block_additional_residual')])?.scheme).toBe('order');
  });

  it('refuses a residual that is not 4-D', () => {
    expect(() => bindUNetResiduals([...base, meta('down_block_0', ['B', 32]), meta('mid_block_additional_residual')])).toThrow(ResidualBindingError);
  });
});

describe('bindControlNetOutputs and residualMismatches', () => {
  const outs = [meta('down_block_0'), meta('down_block_1', ['B', 48, 'h', 'w']), meta('mid_block_res_sample', ['B', 48, 'h', 'w'])];
  it('binds diffusers ControlNet outputs', () => {
    expect(bindControlNetOutputs(outs)).toEqual({ down: ['down_block_0', 'down_block_1'], mid: 'mid_block_res_sample', scheme: 'onnx-web' });
  });

  it('names count and channel mismatches', () => {
    const ins = [...base, meta('down_block_0'), meta('down_block_1'), meta('mid_block_additional_residual', ['B', 48, 'h', 'w'])];
    const cn = bindControlNetOutputs(outs);
    expect(residualMismatches(cn, outs, bindUNetResiduals(ins)!, ins)).toEqual(["ControlNet output 'down_block_1' has 48 channels but U-Net input 'down_block_1' takes 32"]);
    const three = [...base, meta('down_block_0'), meta('down_block_1'), meta('down_block_2'), meta('mid_block_additional_residual')];
    expect(residualMismatches(cn, outs, bindUNetResiduals(three)!, three)[0]).toMatch(/gives 2 down-block residuals but the U-Net takes 3/);
  });
});
