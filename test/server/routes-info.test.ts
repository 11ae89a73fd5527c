import { afterEach, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from './helpers.js';
import { webgpuProblem, webgpuTitle } from '../fixtures/webgpu.js';

let srv: ServerProcess | undefined;
afterEach(async () => {
  await srv?.stop();
  srv = undefined;
});

interface Stats {
  devices: { name: string; type: string; index: number | null; vram_total: number; vram_free: number; torch_vram_total: number; torch_vram_free: number }[];
}

const stats = async (s: ServerProcess): Promise<Stats> => (await (await fetch(`${s.url}/system_stats`)).json()) as Stats;

describe('/system_stats devices', () => {
  it('reports the CPU by default, with the RAM, in ComfyUI shape', async () => {
    srv = await startServerProcess();
    const [d, ...more] = (await stats(srv)).devices;
    expect(more).toEqual([]);
    expect(d).toMatchObject({ name: 'cpu', type: 'cpu', index: null, torch_vram_total: 0, torch_vram_free: 0 });
    expect(d!.vram_total).toBeGreaterThan(0);
    expect(srv.stdout()).toMatch(/serving on \S+ \(device cpu;/);
  });

  it('refuses to start on a device that cannot run here, saying why', async () => {
    const other = process.platform === 'win32' ? 'coreml' : 'dml';
    await expect(startServerProcess({ args: ['--device', other] })).rejects.toThrow(new RegExp(`device ${other} is not available`));
  });
});

const problem = await webgpuProblem();
describe.skipIf(problem !== undefined)(webgpuTitle('serve --device webgpu / auto', problem), () => {
  it('names the device at startup and in /system_stats', async () => {
    srv = await startServerProcess({ args: ['--device', 'webgpu'] });
    expect(srv.stdout()).toMatch(/\(device webgpu;/);
    expect((await stats(srv)).devices[0]).toMatchObject({ type: 'webgpu', index: 0, vram_total: 0 });
    await srv.stop();
    srv = await startServerProcess({ args: ['--device', 'auto'] });
    expect(srv.stdout()).toMatch(/\(device webgpu \(auto; not usable: .*\);|\(device webgpu \(auto\);/);
    expect((await stats(srv)).devices[0]!.name).toMatch(/^webgpu .*\(auto\)$/);
  });
});
