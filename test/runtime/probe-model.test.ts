import { afterAll, describe, expect, it } from 'vitest';
import { DeviceUnavailableError } from '../../runtime/devices.js';
import { SessionClient } from '../../runtime/session-client.js';
import { webgpuProblem, webgpuTitle } from '../fixtures/webgpu.js';

const client = new SessionClient();
afterAll(() => client.close());

describe('device probe (in an inference worker)', () => {
  it('passes on the CPU', async () => {
    await expect(client.probe({ kind: 'cpu' })).resolves.toEqual({ float16: true });
  });

  it('refuses a provider this platform cannot have, saying why', async () => {
    const other = process.platform === 'win32' ? 'coreml' : 'dml';
    const err = await client.probe({ kind: other }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect(String(err)).toMatch(/only/);
  });

  it.runIf(process.platform === 'linux' && process.arch === 'x64')('refuses CUDA without its provider libraries, naming the install flag', async () => {
    const err = await client.probe({ kind: 'cuda', index: 7 }).catch((e: unknown) => e);
    // Passes only where the cuda12 libraries and a GPU with index 7 exist, which no CI machine has.
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect(String(err)).toMatch(/cuda:7 is not usable/);
    expect(String(err)).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
  });
});

const problem = await webgpuProblem();
describe.skipIf(problem !== undefined)(webgpuTitle('WebGPU probe', problem), () => {
  it('runs the probe model on WebGPU and finds out whether float16 works there', async () => {
    const caps = await client.probe({ kind: 'webgpu' });
    // SwiftShader's Vulkan has no shader-f16; a hardware adapter usually has it.
    if (process.env.VK_ICD_FILENAMES?.includes('swiftshader')) expect(caps.float16).toBe(false);
    else expect(typeof caps.float16).toBe('boolean');
  });
});
