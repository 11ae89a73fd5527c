/**
 * Stub-node pack for the server tests (loaded with `serve --custom-nodes`): a slow generator with
 * progress and JPEG previews, a failing node, a node that kills the process, one that crashes it from
 * its own work (an uncaught exception), and a slow saver that
 * pauses between files (to kill the server while outputs are being written).
 */
import sharp from 'sharp';
import { defineNode, INT, FLOAT, STRING } from '../../engine/index.js';
import { IMAGE } from '../../sockets/index.js';
import { Tensor } from '../../runtime/tensor.js';

const PREVIEW_JPEG = new Uint8Array(await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 30, b: 30 } } }).jpeg().toBuffer());

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A gray image after `steps` timed steps, each reporting progress with a preview. */
export const SlowImage = defineNode({
  type: 'SlowImage',
  category: 'test',
  version: '1.0.0',
  inputs: {
    steps: INT({ default: 3, min: 1, max: 1000 }),
    delay_ms: INT({ default: 20, min: 0, max: 60000 }),
    value: FLOAT({ default: 0.5, min: 0, max: 1 }),
    size: INT({ default: 8, min: 1, max: 256 }),
    seed: INT({ default: 0, min: 0, max: 2n ** 64n - 1n }),
  },
  outputs: { IMAGE },
  infer: ({ size }) => (size !== undefined ? { IMAGE: [1, size, size, 3] } : {}),
  async run(ctx, { steps, delay_ms, value, size }) {
    for (let i = 1; i <= steps; i++) {
      await sleep(delay_ms, ctx.signal);
      ctx.progress(i, steps, { format: 'JPEG', data: PREVIEW_JPEG });
    }
    return { IMAGE: Tensor.float32(new Float32Array(size * size * 3).fill(value), [1, size, size, 3]) };
  },
});

export class StubFailure extends Error {
  override name = 'StubFailure';
}

/** Always fails with the given message. */
export const FailingNode = defineNode({
  type: 'FailingNode',
  category: 'test',
  version: '1.0.0',
  inputs: { images: IMAGE, message: STRING({ default: 'boom' }) },
  outputs: {},
  outputNode: true,
  run(_ctx, { message }) {
    throw new StubFailure(message);
  },
});

/** Kills its own process (SIGKILL): a job that takes the server down every time it runs. */
export const CrashNode = defineNode({
  type: 'CrashNode',
  category: 'test',
  version: '1.0.0',
  inputs: { images: IMAGE },
  outputs: {},
  outputNode: true,
  run() {
    process.kill(process.pid, 'SIGKILL');
    return {};
  },
});

export class InjectedCrash extends Error {
  override name = 'InjectedCrash';
}

/** Throws from a timer inside its own work: an uncaught exception that ends the process, caused by the job. */
export const ThrowingNode = defineNode({
  type: 'ThrowingNode',
  category: 'test',
  version: '1.0.0',
  inputs: { images: IMAGE },
  outputs: {},
  outputNode: true,
  run() {
    setTimeout(() => {
      throw new InjectedCrash('injected crash in a node');
    }, 0);
    return new Promise<Record<string, never>>(() => undefined);
  },
});

/** Allocates `gib` GiB of float32 at once: an allocation that fails (RangeError) inside a node. */
export const AllocNode = defineNode({
  type: 'AllocNode',
  category: 'test',
  version: '1.0.0',
  inputs: { images: IMAGE, gib: INT({ default: 1, min: 0, max: 2 ** 40 }) },
  outputs: {},
  outputNode: true,
  run(_ctx, { gib }) {
    const data = new Float32Array(gib * 2 ** 28);
    return { ui: { sizes: [data.length] } };
  },
});

/** Reports whether the run renders step previews (`ctx.wantsPreviews`) in its UI output. */
export const PreviewFlag = defineNode({
  type: 'PreviewFlag',
  category: 'test',
  version: '1.0.0',
  inputs: { images: IMAGE },
  outputs: {},
  outputNode: true,
  run(ctx) {
    return { ui: { wants_previews: [ctx.wantsPreviews] } };
  },
});

/** Saves `images` `copies` times as PNG-ish bytes, pausing between files. */
export const SlowSave = defineNode({
  type: 'SlowSave',
  category: 'test',
  version: '1.0.0',
  inputs: { images: IMAGE, copies: INT({ default: 3, min: 1, max: 20 }), pause_ms: INT({ default: 200, min: 0, max: 60000 }), filename_prefix: STRING({ default: 'slow' }) },
  outputs: {},
  outputNode: true,
  async run(ctx, { images, copies, pause_ms, filename_prefix }) {
    const files = await ctx.files.reserve({ type: 'output', prefix: filename_prefix, extension: 'bin', count: copies, nodeId: ctx.nodeId });
    const bytes = new Uint8Array(images.data.buffer.slice(0));
    const saved: { filename: string; subfolder: string; type: string }[] = [];
    for (const f of files) {
      await ctx.files.writeAtomic(f.path, bytes);
      saved.push({ filename: f.filename, subfolder: f.subfolder, type: f.type });
      await sleep(pause_ms, ctx.signal);
    }
    return { ui: { images: saved } };
  },
});

export const NODES = [SlowImage, FailingNode, CrashNode, ThrowingNode, AllocNode, PreviewFlag, SlowSave];
