import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { defineNode, COMBO, STRING, NodeInputError, writePngText, asciiJson, stringifyJson, containedPath, type NodeContext, type ApiWorkflow, type Services } from '../../engine/index.js';
import { IMAGE, MASK } from '../../sockets/index.js';
import { FOLDERS } from '../../runtime/services.js';
import { decodeImage, encodePng, imageHeader, ImageTooLargeError } from '../../imaging/codec.js';
import { Tensor } from '../../runtime/tensor.js';

const IMAGE_EXT = /\.(png|jpe?g|webp|gif|bmp|tiff?|avif)$/i;

/**
 * Files under input/ (subfolders included, as `sub/name.png`), sorted: LoadImage's choices. Entries
 * whose real path leaves input/ (symlinks to elsewhere) are left out, as LoadImage refuses them.
 */
export function listInputImages(services: Services): string[] {
  const root = services.get(FOLDERS).input;
  const out: string[] = [];
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return out;
  }
  const inside = (full: string) => {
    try {
      const real = realpathSync(full);
      return real === realRoot || real.startsWith(realRoot + path.sep);
    } catch {
      return false;
    }
  };
  const walk = (dir: string, prefix: string, depth: number) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      if (name.startsWith('.')) continue;
      const full = path.join(dir, name);
      if (!inside(full)) continue;
      let st;
      try {
        st = statSync(full);
      } catch {
        continue;
      }
      if (st.isDirectory() && depth < 3) walk(full, `${prefix}${name}/`, depth + 1);
      else if (st.isFile() && IMAGE_EXT.test(name)) out.push(`${prefix}${name}`);
    }
  };
  walk(root, '', 0);
  return out.sort();
}

/** Strips ComfyUI's " [input]" / " [output]" annotation from an image name. */
function inputPath(services: Services, name: string): string {
  const clean = name.replace(/ \[(input|output|temp)\]$/, '');
  return containedPath(services.get(FOLDERS).input, clean);
}

/** The bytes of an input image; its real path must stay inside input/ (PathEscapeError otherwise). */
async function readInput(services: Services, name: string): Promise<Buffer> {
  try {
    return await readFile(inputPath(services, name));
  } catch (e) {
    // NOTE: fs messages carry the server's absolute path, which must not reach API clients.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') throw new NodeInputError('image', `'${name}' is not a file in the input folder`);
    throw e;
  }
}

/** Loads an image from input/; MASK is 1 - alpha, as ComfyUI's LoadImage. */
export const LoadImage = defineNode({
  type: 'LoadImage',
  displayName: 'Load Image',
  category: 'image',
  version: '1.0.0',
  inputs: { image: COMBO(listInputImages, { imageUpload: true }) },
  outputs: { IMAGE, MASK },
  async infer({ image }, _shapes, services) {
    if (image === undefined) return {};
    const { width, height, hasAlpha } = await imageHeader(await readInput(services, image));
    return { IMAGE: [1, height, width, 3], MASK: hasAlpha ? [1, height, width] : [1, 64, 64] };
  },
  async fingerprint({ image }, services) {
    const bytes = await readInput(services, image);
    return createHash('sha256').update(bytes).digest('hex');
  },
  async run(ctx, { image }) {
    const bytes = await readInput(ctx.services, image);
    let decoded;
    try {
      decoded = await decodeImage(bytes);
    } catch (e) {
      if (e instanceof ImageTooLargeError) throw new NodeInputError('image', `'${image}': ${e.message}`);
      throw e;
    }
    // NOTE: ComfyUI returns a 64x64 zero mask when the image has no alpha channel.
    const mask = decoded.hasAlpha ? decoded.mask : Tensor.zeros([1, 64, 64]);
    return { IMAGE: decoded.image, MASK: mask };
  },
});

interface PngMeta {
  prompt: ApiWorkflow;
  extra_pnginfo: Record<string, unknown> | undefined;
}

async function saveImages(ctx: NodeContext, images: Tensor<'float32'>, prefix: string, type: 'output' | 'temp', meta: PngMeta, compression: number) {
  const count = images.shape[0]!;
  const files = await ctx.files.reserve({ type, prefix, extension: 'png', count, nodeId: ctx.nodeId });
  const text: Record<string, string> = { prompt: asciiJson(stringifyJson(meta.prompt)) };
  for (const [k, v] of Object.entries(meta.extra_pnginfo ?? {})) text[k] = asciiJson(stringifyJson(v));
  const results: { filename: string; subfolder: string; type: string }[] = [];
  for (let b = 0; b < count; b++) {
    ctx.signal.throwIfAborted();
    const png = writePngText(await encodePng(images, b, compression), text);
    const f = files[b]!;
    await ctx.files.writeAtomic(f.path, png);
    results.push({ filename: f.filename, subfolder: f.subfolder, type: f.type });
  }
  return results;
}

function checkImages(images: Tensor<'float32'>): void {
  if (images.shape.length !== 4) throw new NodeInputError('images', `expected an IMAGE [B,H,W,C], got ${images.describe()}`);
}

/** Saves PNGs with `prompt` and `workflow` tEXt chunks, named `{prefix}_{counter:05}_.png` (ComfyUI's SaveImage). */
export const SaveImage = defineNode({
  type: 'SaveImage',
  displayName: 'Save Image',
  category: 'image',
  version: '1.0.0',
  description: 'Saves the input images to your output directory.',
  inputs: {
    images: IMAGE,
    filename_prefix: STRING({ default: 'latentflow', tooltip: 'The prefix for the file to save. May contain subfolders and %date:yyyy-MM-dd%.' }),
  },
  hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' },
  outputs: {},
  outputNode: true,
  async run(ctx, { images, filename_prefix, prompt, extra_pnginfo }) {
    checkImages(images);
    const saved = await saveImages(ctx, images, filename_prefix, 'output', { prompt, extra_pnginfo }, 4);
    return { ui: { images: saved } };
  },
});

/** Saves to temp/ for display only (ComfyUI's PreviewImage). */
export const PreviewImage = defineNode({
  type: 'PreviewImage',
  displayName: 'Preview Image',
  category: 'image',
  version: '1.0.0',
  description: 'Saves the input images to the temporary directory for display.',
  inputs: { images: IMAGE },
  hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' },
  outputs: {},
  outputNode: true,
  async run(ctx, { images, prompt, extra_pnginfo }) {
    checkImages(images);
    const suffix = Array.from(randomBytes(5), (b) => 'abcdefghijklmnopqrstupvxyz'[b % 26]).join('');
    const saved = await saveImages(ctx, images, `latentflow_temp_${suffix}`, 'temp', { prompt, extra_pnginfo }, 1);
    return { ui: { images: saved } };
  },
});

