import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChecksumMismatchError, HubAuthError, HubNotFoundError, ModelExistsError, PullAbortedError } from '../../model-hub/errors.js';
import { SOURCE_FILE } from '../../model-hub/kinds.js';
import { pullModel, pullTmpDir, type PullOptions } from '../../model-hub/pull.js';
import { startFakeHub, type FakeHub, type FakeHubOptions } from './fake-hub.js';
import { tempDir } from '../fixtures/temp-dir.js';
import { tempToyworld } from '../fixtures/toyworld.js';

let packDir = '';
let hub: FakeHub | undefined;
beforeAll(async () => {
  packDir = await tempToyworld();
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

const CKPT_REPO = 'toy/toyworld-shapes';

async function serve(extra: Partial<FakeHubOptions> = {}): Promise<FakeHub> {
  hub = await startFakeHub({
    repos: {
      [CKPT_REPO]: path.join(packDir, 'checkpoints', 'toyworld-shapes'),
      'toy/toyworld-clip': path.join(packDir, 'clip_vision', 'toyworld-clip'),
    },
    ...extra,
  });
  return hub;
}

function pull(h: FakeHub, modelsDir: string, o: Partial<PullOptions> = {}): ReturnType<typeof pullModel> {
  return pullModel({ modelsDir, spec: CKPT_REPO, hub: { endpoint: h.endpoint }, retryDelayMs: 5, ...o });
}

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? filesUnder(dir, rel) : [rel];
  }).sort();
}

/** The installed folder holds exactly the source's files, byte for byte (plus the provenance file). */
function expectSameTree(installed: string, source: string): void {
  expect(filesUnder(installed).filter((f) => f !== SOURCE_FILE)).toEqual(filesUnder(source));
  for (const f of filesUnder(source)) expect(sha(path.join(installed, f)), f).toBe(sha(path.join(source, f)));
}

describe('pullModel against a local hub', () => {
  it('lists with pagination, follows LFS redirects to the CDN without the token, installs atomically', async () => {
    const h = await serve({ pageSize: 4 });
    const models = tempDir('lf-pull-');
    const r = await pullModel({ modelsDir: models, spec: CKPT_REPO, hub: { endpoint: h.endpoint, token: 'secret' }, retryDelayMs: 5 });
    expect(r.kind).toBe('checkpoint');
    expect(r.dir).toBe(path.join(models, 'checkpoints', 'toyworld-shapes'));
    expectSameTree(r.dir, path.join(packDir, 'checkpoints', 'toyworld-shapes'));
    expect(h.requests.filter((q) => q.url.includes('/tree/main')).length).toBe(Math.ceil(r.files.length / 4));
    const cdn = h.requests.filter((q) => q.server === 'cdn');
    expect(cdn.map((q) => q.url).sort()).toEqual(r.files.filter((f) => f.local.endsWith('.onnx')).map((f) => `/lfs/${CKPT_REPO}/${f.remote}`).sort());
    expect(cdn.every((q) => q.auth === undefined)).toBe(true);
    expect(h.requests.filter((q) => q.server === 'hub').every((q) => q.auth === 'Bearer secret')).toBe(true);
    expect(existsSync(pullTmpDir(models, 'toyworld-shapes'))).toBe(false);
    const source = JSON.parse(readFileSync(path.join(r.dir, SOURCE_FILE), 'utf8'));
    expect(source).toMatchObject({ repo: CKPT_REPO, revision: 'main', kind: 'checkpoint', commit: 'c'.repeat(40) });
    expect(r.transferred).toBe(r.bytes);
  });

  it('resumes a connection dropped mid-file with a Range request; the sha256 comes out right', async () => {
    const cut = 1_000_003;
    const h = await serve({ dropAfter: new Map([['unet/model.onnx', cut]]) });
    const models = tempDir('lf-pull-');
    const r = await pull(h, models);
    const ranged = h.requests.filter((q) => q.url.endsWith('unet/model.onnx') && q.range !== undefined);
    expect(ranged.map((q) => q.range)).toContain(`bytes=${cut}-`);
    expect(sha(path.join(r.dir, 'unet', 'model.onnx'))).toBe(sha(path.join(packDir, 'checkpoints', 'toyworld-shapes', 'unet', 'model.onnx')));
  });

  it('keeps partials in the tmp folder on Ctrl+C, installs nothing, and a second run resumes them', async () => {
    const h = await serve();
    const models = tempDir('lf-pull-');
    const ac = new AbortController();
    const first = pull(h, models, {
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'progress' && e.file.local === 'unet/model.onnx' && e.received > 2_000_000) ac.abort();
      },
    });
    await expect(first).rejects.toBeInstanceOf(PullAbortedError);
    expect(existsSync(path.join(models, 'checkpoints', 'toyworld-shapes'))).toBe(false);
    const partial = path.join(pullTmpDir(models, 'toyworld-shapes'), 'model', 'unet', 'model.onnx.partial');
    const kept = statSync(partial).size;
    expect(kept).toBeGreaterThan(0);
    expect(existsSync(path.join(pullTmpDir(models, 'toyworld-shapes'), '.lock'))).toBe(false);

    h.requests.length = 0;
    const r = await pull(h, models);
    expect(h.requests.find((q) => q.url.endsWith('unet/model.onnx') && q.server === 'cdn')?.range).toBe(`bytes=${kept}-`);
    // Files completed before the interruption are verified in place, not fetched again.
    expect(h.requests.some((q) => q.url.endsWith('text_encoder/model.onnx'))).toBe(false);
    expect(r.transferred).toBeLessThan(r.bytes);
    expectSameTree(r.dir, path.join(packDir, 'checkpoints', 'toyworld-shapes'));
  });

  it('restarts from zero when the server ignores Range (200 instead of 206)', async () => {
    const h = await serve({ ignoreRange: true, dropAfter: new Map([['unet/model.onnx', 500_000]]) });
    const r = await pull(h, tempDir('lf-pull-'));
    expect(sha(path.join(r.dir, 'unet', 'model.onnx'))).toBe(sha(path.join(packDir, 'checkpoints', 'toyworld-shapes', 'unet', 'model.onnx')));
  });

  it('rejects a file whose sha256 differs from the listing and installs nothing', async () => {
    const h = await serve({ wrongSha256: new Set(['vae_decoder/model.onnx']) });
    const models = tempDir('lf-pull-');
    const err = await pull(h, models).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect(String(err)).toMatch(/vae_decoder\/model\.onnx: sha256 [0-9a-f]{64} differs/);
    expect(existsSync(path.join(models, 'checkpoints'))).toBe(false);
    expect(existsSync(path.join(pullTmpDir(models, 'toyworld-shapes'), 'model', 'vae_decoder', 'model.onnx.partial'))).toBe(false);
    expect(existsSync(path.join(pullTmpDir(models, 'toyworld-shapes'), 'model', 'vae_decoder', 'model.onnx'))).toBe(false);
  });

  it('names HF_TOKEN on a 401 and succeeds with the token', async () => {
    const h = await serve({ token: 'hf_right' });
    const models = tempDir('lf-pull-');
    const err = await pull(h, models).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubAuthError);
    expect(String(err)).toMatch(/401.*set HF_TOKEN/);
    const wrong = await pull(h, models, { hub: { endpoint: h.endpoint, token: 'hf_wrong' } }).catch((e: unknown) => e);
    expect(String(wrong)).toMatch(/HF_TOKEN was sent but refused/);
    const r = await pull(h, models, { hub: { endpoint: h.endpoint, token: 'hf_right' } });
    expectSameTree(r.dir, path.join(packDir, 'checkpoints', 'toyworld-shapes'));
  });

  it('says which of repository or revision is missing on a 404', async () => {
    const h = await serve();
    const models = tempDir('lf-pull-');
    const repo = await pull(h, models, { spec: 'toy/nope' }).catch((e: unknown) => e);
    expect(repo).toBeInstanceOf(HubNotFoundError);
    expect(String(repo)).toMatch(/toy\/nope@main: repository not found \(404\)/);
    const rev = await pull(h, models, { spec: `${CKPT_REPO}@v9` }).catch((e: unknown) => e);
    expect(String(rev)).toMatch(/revision not found \(404\).*v9/);
    expect(existsSync(path.join(models, 'checkpoints'))).toBe(false);
  });

  it('falls back to the revision API when the tree API is missing', async () => {
    const h = await serve({ noTreeApi: true });
    const r = await pull(h, tempDir('lf-pull-'));
    expect(h.requests.some((q) => q.url.includes('/revision/main'))).toBe(true);
    expectSameTree(r.dir, path.join(packDir, 'checkpoints', 'toyworld-shapes'));
  });

  it('refuses to overwrite an installed model unless forced', async () => {
    const h = await serve();
    const models = tempDir('lf-pull-');
    await pull(h, models);
    await expect(pull(h, models)).rejects.toBeInstanceOf(ModelExistsError);
    const r = await pull(h, models, { force: true });
    expectSameTree(r.dir, path.join(packDir, 'checkpoints', 'toyworld-shapes'));
  });

  it('detects a Transformers.js CLIP repository and places it under clip_vision/', async () => {
    const h = await serve();
    const models = tempDir('lf-pull-');
    const r = await pull(h, models, { spec: 'toy/toyworld-clip', name: 'my-clip' });
    expect(r.kind).toBe('clip_vision');
    expect(r.dir).toBe(path.join(models, 'clip_vision', 'my-clip'));
    expectSameTree(r.dir, path.join(packDir, 'clip_vision', 'toyworld-clip'));
  });
});
