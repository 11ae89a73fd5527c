import { describe, expect, it } from 'vitest';
import {
  CPU, DeviceSpecError, autoCandidates, describeActive, deviceStats, formatDevice, installHint, parseDevice, platformProblem, providerConfig,
} from '../../runtime/devices.js';

describe('parseDevice', () => {
  it('reads providers, indices and auto', () => {
    expect(parseDevice('cpu')).toEqual({ kind: 'cpu' });
    expect(parseDevice('WebGPU')).toEqual({ kind: 'webgpu' });
    expect(parseDevice('cuda')).toEqual({ kind: 'cuda' });
    expect(parseDevice('cuda:1')).toEqual({ kind: 'cuda', index: 1 });
    expect(parseDevice('dml:0')).toEqual({ kind: 'dml', index: 0 });
    expect(parseDevice('coreml')).toEqual({ kind: 'coreml' });
    expect(parseDevice('auto')).toEqual({ kind: 'auto' });
  });

  it('refuses unknown names and indices on providers without adapters, saying what is accepted', () => {
    expect(() => parseDevice('gpu')).toThrow(DeviceSpecError);
    expect(() => parseDevice('gpu')).toThrow(/cpu, webgpu, cuda, dml, coreml, auto/);
    expect(() => parseDevice('cuda:x')).toThrow(DeviceSpecError);
    expect(() => parseDevice('webgpu:1')).toThrow(/webgpu takes no index/);
    expect(() => parseDevice('cpu:0')).toThrow(/cpu takes no index/);
  });

  it('formats back', () => {
    expect(formatDevice({ kind: 'cuda', index: 2 })).toBe('cuda:2');
    expect(formatDevice({ kind: 'webgpu' })).toBe('webgpu');
    expect(formatDevice({ kind: 'auto' })).toBe('auto');
  });
});

describe('providers per platform', () => {
  it('knows where each provider can exist', () => {
    expect(platformProblem('cuda', 'linux', 'x64')).toBeUndefined();
    expect(platformProblem('cuda', 'darwin', 'arm64')).toMatch(/linux x64 only/);
    expect(platformProblem('dml', 'linux', 'x64')).toMatch(/Windows only/);
    expect(platformProblem('dml', 'win32', 'x64')).toBeUndefined();
    expect(platformProblem('coreml', 'darwin', 'arm64')).toBeUndefined();
    expect(platformProblem('coreml', 'win32', 'x64')).toMatch(/macOS only/);
    expect(platformProblem('webgpu', 'linux', 'arm64')).toMatch(/linux x64 only/);
    expect(platformProblem('cpu', 'linux', 'arm64')).toBeUndefined();
  });

  it('auto tries the platform GPU providers before WebGPU and ends with the CPU', () => {
    expect(autoCandidates('linux', 'x64').map(formatDevice)).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(autoCandidates('win32', 'x64').map(formatDevice)).toEqual(['dml', 'webgpu', 'cpu']);
    expect(autoCandidates('darwin', 'arm64').map(formatDevice)).toEqual(['coreml', 'webgpu', 'cpu']);
    expect(autoCandidates('linux', 'arm64').map(formatDevice)).toEqual(['cpu']);
  });

  it('gives onnxruntime the adapter index of indexed providers', () => {
    expect(providerConfig({ kind: 'cuda', index: 1 })).toEqual({ name: 'cuda', deviceId: 1 });
    expect(providerConfig({ kind: 'dml' })).toEqual({ name: 'dml', deviceId: 0 });
    expect(providerConfig({ kind: 'webgpu' })).toBe('webgpu');
    expect(providerConfig(CPU)).toBe('cpu');
  });

  it('tells how to get CUDA (the install flag that overrides .npmrc)', () => {
    expect(installHint('cuda')).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    expect(installHint('webgpu')).toContain('VK_ICD_FILENAMES');
  });
});

describe('/system_stats devices', () => {
  const ram = { total: 1000, free: 400 };
  it('reports the CPU with the machine RAM, in ComfyUI shape', () => {
    expect(deviceStats({ device: CPU, requested: CPU, skipped: [] }, ram)).toEqual([
      { name: 'cpu', type: 'cpu', index: null, vram_total: 1000, vram_free: 400, torch_vram_total: 0, torch_vram_free: 0 },
    ]);
  });

  it('names a GPU device, its adapter (SwiftShader from the ICD) and auto; memory unknown is 0', () => {
    const [d] = deviceStats({ device: { kind: 'webgpu' }, requested: { kind: 'auto' }, skipped: [] }, ram, { VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json' });
    expect(d).toMatchObject({ type: 'webgpu', index: 0, vram_total: 0, vram_free: 0 });
    expect(d.name).toBe('webgpu SwiftShader (software) : onnxruntime webgpu provider (auto)');
    const [c] = deviceStats({ device: { kind: 'cuda', index: 1 }, requested: { kind: 'cuda', index: 1 }, skipped: [] }, ram, {});
    expect(c).toMatchObject({ name: 'cuda:1 : onnxruntime cuda provider', type: 'cuda', index: 1 });
  });

  it('says when auto left a failed device for the CPU', () => {
    const active = { device: CPU, requested: { kind: 'auto' } as const, skipped: [], fellBackFrom: { device: { kind: 'webgpu' } as const, reason: 'lost' } };
    expect(deviceStats(active, ram)[0].name).toBe('cpu (auto: webgpu failed)');
  });

  it('startup line lists what auto could not use', () => {
    const line = describeActive({ device: CPU, requested: { kind: 'auto' }, skipped: [{ device: { kind: 'cuda' }, reason: 'no provider\nTo get it: ...' }] });
    expect(line).toBe('device cpu (auto; not usable: cuda: no provider)');
    expect(describeActive({ device: { kind: 'webgpu' }, requested: { kind: 'webgpu' }, skipped: [] })).toBe('device webgpu');
  });
});
