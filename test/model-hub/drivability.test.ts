import { describe, expect, it } from 'vitest';
import { checkComponent, type Signature } from '../../model-hub/drivability.js';
import { describeFlavour } from '../../model-hub/flavour.js';
import type { Dim, ElementType, IoMeta } from '../../runtime/io-meta.js';

const io = (name: string, dtype: ElementType, shape: Dim[]): IoMeta => ({ name, dtype, shape, shapeKnown: true });
const sd15Unet = (timestep: IoMeta, extra: IoMeta[] = [], out = 'out_sample'): Signature => ({
  inputs: [io('sample', 'float32', ['B', 4, 'h', 'w']), timestep, io('encoder_hidden_states', 'float32', ['B', 77, 768]), ...extra],
  outputs: [io(out, 'float32', ['B', 4, 'h', 'w'])],
});

describe('checkComponent', () => {
  it('accepts every timestep form the runtime adapts', () => {
    for (const t of [io('timestep', 'float32', ['B']), io('timestep', 'int64', ['B']), io('timestep', 'float32', []), io('timestep', 'float16', [1])]) {
      expect(checkComponent('unet', sd15Unet(t))).toMatchObject({ ok: true, problems: [] });
    }
  });

  it("drives SDXL's extra inputs (base [B,6], refiner [B,5]) and names shapes it cannot feed", () => {
    const xl = (ids: number, extra: IoMeta[] = [io('text_embeds', 'float32', ['B', 1280])]) => sd15Unet(io('timestep', 'float32', []), [...extra, io('time_ids', 'float32', ['B', ids])]);
    expect(checkComponent('unet', xl(6))).toMatchObject({ ok: true, notes: ['SDXL: text_embeds + time_ids [B,6] (size, crop, target size)'] });
    expect(checkComponent('unet', xl(5))).toMatchObject({ ok: true, notes: ['SDXL refiner: text_embeds + time_ids [B,5] (size, crop, aesthetic score)'] });
    expect(checkComponent('unet', xl(7)).problems).toEqual(['input time_ids: float32[B,7]: SDXL time_ids have 6 values (base) or 5 (refiner)']);
    expect(checkComponent('unet', xl(6, [])).problems).toEqual(['SDXL U-Net: takes time_ids without text_embeds; latentflow feeds both or neither']);
  });

  it('reports a missing timestep input and unknown inputs', () => {
    const sig: Signature = { inputs: [io('sample', 'float32', ['B', 4, 'h', 'w']), io('t', 'float32', ['B']), io('encoder_hidden_states', 'float32', ['B', 77, 768])], outputs: [io('out_sample', 'float32', ['B', 4, 'h', 'w'])] };
    const d = checkComponent('unet', sig);
    expect(d.problems).toEqual([
      "no 'timestep' input (inputs: sample, t, encoder_hidden_states)",
      'unsupported input(s) t: latentflow feeds sample, timestep, encoder_hidden_states (+ timestep_cond for LCM, text_embeds + time_ids for SDXL)',
    ]);
  });

  it('falls back to output 0 only when its rank fits', () => {
    expect(checkComponent('unet', sd15Unet(io('timestep', 'float32', ['B']), [], 'noise_pred'))).toMatchObject({ ok: true, notes: ["no out_sample/latent output; output 0 'noise_pred' is used"] });
    const vision: Signature = { inputs: [io('pixel_values', 'float32', ['B', 3, 224, 224])], outputs: [io('last_hidden_state', 'float32', ['B', 50, 768])] };
    expect(checkComponent('clip_vision', vision).problems[0]).toMatch(/^unsupported output names: none of image_embeds, embeds/);
  });

  it('accepts the onnxruntime demo names and an LCM timestep_cond', () => {
    const unet = sd15Unet(io('timestep', 'float32', [1]), [io('timestep_cond', 'float32', ['B', 256])], 'latent');
    expect(checkComponent('unet', unet)).toMatchObject({ ok: true });
    const text: Signature = { inputs: [io('input_ids', 'int32', ['B', 77])], outputs: [io('text_embeddings', 'float32', ['B', 77, 768])] };
    expect(checkComponent('text_encoder', text).ok).toBe(true);
    expect(describeFlavour('checkpoint', new Map([['unet', unet], ['text_encoder', text]]), '/nonexistent'))
      .toBe('onnxruntime demo fp32 (int32 ids, float timestep [1]), LCM');
  });

  it('rejects inputs it would feed wrongly and label counts that do not match', () => {
    const text: Signature = { inputs: [io('input_ids', 'int64', ['B', 77]), io('position_ids', 'int64', ['B', 77])], outputs: [io('last_hidden_state', 'float32', ['B', 77, 768])] };
    expect(checkComponent('text_encoder', text).problems).toEqual(['unsupported input(s) position_ids: the text encode feeds input_ids (and attention_mask) only']);
    const cls: Signature = { inputs: [io('input', 'float32', ['B', 3, 224, 224])], outputs: [io('logits', 'float32', ['B', 1000])] };
    expect(checkComponent('classifier', cls, { labels: 40 }).problems).toEqual(['labels.txt has 40 labels but the model outputs 1000 logits']);
    const bf: Signature = { inputs: [io('latent_sample', 'bfloat16', ['B', 4, 'h', 'w'])], outputs: [io('sample', 'float32', ['B', 3, 'H', 'W'])] };
    expect(checkComponent('vae_decoder', bf).ok).toBe(false);
  });
});
