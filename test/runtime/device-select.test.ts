import { describe, expect, it } from 'vitest';
import { DeviceUnavailableError, formatDevice, type Device } from '../../runtime/devices.js';
import { selectDevice } from '../../runtime/device-select.js';

/** A probe that accepts only the listed devices and records what it was asked. */
function probeOf(works: string[]) {
  const asked: string[] = [];
  const probe = async (d: Device): Promise<{ float16: boolean }> => {
    asked.push(formatDevice(d));
    if (!works.includes(formatDevice(d))) throw new DeviceUnavailableError(`${formatDevice(d)} missing`);
    return { float16: d.kind !== 'webgpu' };
  };
  return { probe, asked };
}

const LINUX: Device[] = [{ kind: 'cuda' }, { kind: 'webgpu' }, { kind: 'cpu' }];

describe('selectDevice', () => {
  it('uses the CPU without probing it', async () => {
    const p = probeOf([]);
    expect((await selectDevice({ kind: 'cpu' }, p.probe)).device).toEqual({ kind: 'cpu' });
    expect(p.asked).toEqual([]);
  });

  it('a named device that fails its probe is an error, never a CPU fallback', async () => {
    const p = probeOf(['webgpu']);
    await expect(selectDevice({ kind: 'cuda', index: 7 }, p.probe)).rejects.toThrow(/cuda:7 missing/);
    const w = await selectDevice({ kind: 'webgpu' }, p.probe);
    expect(w.device).toEqual({ kind: 'webgpu' });
    expect(w.capabilities).toEqual({ float16: false });
  });

  it('auto takes the first candidate that works and says why the earlier ones did not', async () => {
    const p = probeOf(['webgpu']);
    const a = await selectDevice({ kind: 'auto' }, p.probe, LINUX);
    expect(a.device).toEqual({ kind: 'webgpu' });
    expect(a.skipped.map((s) => [formatDevice(s.device), s.reason])).toEqual([['cuda', 'cuda missing']]);
    expect(p.asked).toEqual(['cuda', 'webgpu']);
  });

  it('auto ends on the CPU when nothing else works', async () => {
    const p = probeOf([]);
    const a = await selectDevice({ kind: 'auto' }, p.probe, LINUX);
    expect(a.device).toEqual({ kind: 'cpu' });
    expect(a.requested).toEqual({ kind: 'auto' });
    expect(a.skipped).toHaveLength(2);
  });
});
