import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createRegistry } from '../../host/registry.js';
import path from 'node:path';
import { startServerProcess, postJson, getJson, WsRecorder, REPO } from './helpers.js';

const registry = createRegistry();
const ready = ['CheckpointLoaderSimple', 'KSampler', 'CLIPTextEncode', 'EmptyLatentImage', 'VAEDecode'].every((t) => registry.has(t));

/** ComfyUI's default txt2img graph, small. */
function txt2img(ckpt: string): Record<string, unknown> {
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: ckpt } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a red circle', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['4', 1] } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
    '3': { class_type: 'KSampler', inputs: { model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0], seed: 42, steps: 4, cfg: 4, sampler_name: 'euler', scheduler: 'normal', denoise: 1 } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'txt2img' } },
  };
}

// Runs once the diffusion nodes are registered (they are written concurrently with the server).
describe.skipIf(!ready)('txt2img on toyworld through the server', () => {
  it('queues txt2img, receives progress, previews and executed, and fetches the image', async () => {
    const srv = await startServerProcess({ toyworld: true, args: ['--models-dir', path.join(REPO, 'models')] });
    try {
      const info = await getJson<{ CheckpointLoaderSimple: { input: { required: { ckpt_name: [string[]] } } } }>(`${srv.url}/object_info/CheckpointLoaderSimple`);
      const ckpt = info.CheckpointLoaderSimple.input.required.ckpt_name[0].find((n) => n.includes('toyworld-shapes'));
      expect(ckpt).toBeDefined();
      // Shapes before running: what the editor shows on the outputs.
      const shapes = await postJson(`${srv.url}/api/latentflow/shapes`, { prompt: txt2img(ckpt!) });
      expect(shapes.status, shapes.text).toBe(200);
      expect(shapes.json).toMatchObject({ shapes: { '5': [[1, 4, 8, 8]], '3': [[1, 4, 8, 8]], '8': [[1, 64, 64, 3]], '4': [null, null, null], '9': [] } });
      expect((await postJson(`${srv.url}/api/latentflow/shapes`, { nothing: 1 })).status).toBe(400);
      const ws = await WsRecorder.open(srv.url, 'tw');
      const r = await postJson(`${srv.url}/prompt`, { prompt: txt2img(ckpt!), client_id: 'tw' });
      expect(r.status, r.text).toBe(200);
      const id = (r.json as { prompt_id: string }).prompt_id;
      await ws.done(id);
      expect(ws.messages.filter((m) => m.type === 'progress' && m.data.node === '3').length).toBe(4);
      const executed = ws.messages.find((m) => m.type === 'executed' && m.data.node === '9')!;
      const img = (executed.data.output as { images: { filename: string; subfolder: string; type: string }[] }).images[0]!;
      const res = await fetch(`${srv.url}/view?filename=${encodeURIComponent(img.filename)}&type=${img.type}&subfolder=${img.subfolder}`);
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      expect([meta.width, meta.height]).toEqual([64, 64]);
    } finally {
      await srv.stop();
    }
  });
});
