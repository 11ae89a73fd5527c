import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelsListCommand, modelsPullCommand, modelsVerifyCommand, type ModelsIo } from '../../cli/commands/models.js';
import { startFakeHub, type FakeHub } from '../model-hub/fake-hub.js';
import { tempDir } from '../fixtures/temp-dir.js';
import { REPO_MODELS, tempToyworld } from '../fixtures/toyworld.js';
import { webgpuProblem, webgpuTitle } from '../fixtures/webgpu.js';

function capture(env: NodeJS.ProcessEnv): ModelsIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => {
      io.stdout += t;
    },
    err: { write: (t: string) => (io.stderr += t), isTTY: false },
    env,
  };
  return io;
}

let hub: FakeHub;
let base = '';
beforeAll(async () => {
  const pack = await tempToyworld();
  hub = await startFakeHub({
    repos: { 'toy/sd': path.join(pack, 'checkpoints', 'toyworld-shapes-int64t'), 'toy/clip': path.join(pack, 'clip_vision', 'toyworld-clip') },
    token: 'hf_abc',
  });
  base = tempDir('lf-cli-models-');
});
afterAll(() => hub?.close());

describe('latentflow models', () => {
  it('pull explains a 401 with HF_TOKEN, succeeds with it, then list and verify report the model', async () => {
    const denied = capture({ HF_ENDPOINT: hub.endpoint });
    expect(await modelsPullCommand('toy/sd', { baseDir: base }, denied)).toBe(1);
    expect(denied.stderr).toMatch(/latentflow models pull: listing toy\/sd@main: access denied \(401\); .*set HF_TOKEN/);

    const env = { HF_ENDPOINT: hub.endpoint, HF_TOKEN: 'hf_abc' };
    const ok = capture(env);
    expect(await modelsPullCommand('toy/sd@main', { baseDir: base, name: 'sd-int64' }, ok)).toBe(0);
    expect(ok.stdout.trim()).toBe(path.join(base, 'models', 'checkpoints', 'sd-int64'));
    expect(ok.stderr).toMatch(/diffusers ONNX pipeline -> checkpoint 'sd-int64': 14 files, 7.7 MiB/);
    expect(ok.stderr).toMatch(/\[1\/14\] model_index\.json \(587 B\)/);
    expect(await modelsPullCommand('toy/clip', { baseDir: base, kind: 'clip_vision' }, capture(env))).toBe(0);

    const list = capture(env);
    expect(await modelsListCommand({ baseDir: base }, list)).toBe(0);
    expect(list.stdout).toMatch(/^KIND\s+NAME\s+SIZE\s+FLAVOUR\n/);
    expect(list.stdout).toMatch(/checkpoint\s+sd-int64\s+7\.7 MiB\s+optimum <=1\.23 fp32 \(int32 ids, int64 timestep \[B\]\)\s+from toy\/sd@main/);
    expect(list.stdout).toMatch(/clip_vision\s+clip\s+\d\.\d MiB\s+transformers\.js clip/);

    const verify = capture(env);
    expect(await modelsVerifyCommand('sd-int64', { baseDir: base }, verify)).toBe(0);
    expect(verify.stdout).toMatch(/^checkpoint sd-int64: OK, latentflow can drive it/);
    expect(verify.stdout).toMatch(/in  timestep: int64\[batch\]/);
  });

  it('pull names the missing repository; verify fails on an unknown name', async () => {
    const env = { HF_ENDPOINT: hub.endpoint, HF_TOKEN: 'hf_abc' };
    const io = capture(env);
    expect(await modelsPullCommand('toy/missing', { baseDir: base }, io)).toBe(1);
    expect(io.stderr).toBe('latentflow models pull: listing toy/missing@main: repository not found (404) (hub says: Repository not found)\n');
    const bad = capture(env);
    expect(await modelsPullCommand('not a repo', { baseDir: base }, bad)).toBe(1);
    expect(bad.stderr).toMatch(/expected <owner>\/<name>\[@revision\]/);
    const v = capture(env);
    expect(await modelsVerifyCommand('nope', { baseDir: base }, v)).toBe(1);
    expect(v.stderr).toMatch(/no installed model 'nope'/);
  });

  it('is registered in the latentflow program', async () => {
    const bin = path.resolve('bin', 'latentflow.js');
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'models', 'list', '--json', '--base-dir', base], { timeout: 60_000 });
    const parsed: unknown = JSON.parse(stdout);
    expect(Array.isArray(parsed) && parsed.map((m: { name?: string }) => m.name)).toEqual(['sd-int64', 'clip']);
  });
});

const gpuProblem = await webgpuProblem();
describe.skipIf(gpuProblem !== undefined)(webgpuTitle('models verify --device webgpu', gpuProblem), () => {
  it('opens the sessions on webgpu and notes, per component, which nodes run on the CPU', { timeout: 240_000 }, async () => {
    const io = capture({});
    expect(await modelsVerifyCommand('checkpoint/toyworld-shapes', { baseDir: tempDir('lf-verify-gpu-'), modelsDir: REPO_MODELS, device: { kind: 'webgpu' } }, io)).toBe(0);
    expect(io.stderr).toContain('device webgpu');
    expect(io.stdout).toMatch(/ok {3}unet \(unet\/model\.onnx\)[\s\S]*note: on webgpu: (\d+ of \d+ nodes run on the CPU|every node runs on the device)/);
    expect(io.stdout.match(/note: on webgpu:/g)?.length).toBeGreaterThanOrEqual(4);
  });
});
