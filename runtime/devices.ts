/**
 * Execution devices: what `--device` accepts, what each provider needs, and how a device is described in
 * `/system_stats`. Nothing here loads onnxruntime; a device is checked by probing it inside an inference
 * worker (onnx-session.ts `probeDevice`).
 */

/** onnxruntime-node's execution providers that latentflow drives. */
export const DEVICE_KINDS = ['cpu', 'webgpu', 'cuda', 'dml', 'coreml'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** A concrete device: a provider and, for providers that have several adapters, the adapter's index. */
export interface Device {
  readonly kind: DeviceKind;
  /** Adapter ordinal for cuda and dml (`cuda:1`); absent means the provider's default (0). */
  readonly index?: number;
}

/** What a user may ask for: a concrete device, or `auto` (the best one that works here). */
export type DeviceRequest = Device | { readonly kind: 'auto' };

export const CPU: Device = { kind: 'cpu' };

/** `--device` text that names no provider, or gives an index to one without adapters. */
export class DeviceSpecError extends Error {
  override readonly name = 'DeviceSpecError';
}

/** The device was asked for but this installation or machine cannot run it; the message says how to get it. */
export class DeviceUnavailableError extends Error {
  override readonly name = 'DeviceUnavailableError';
}

/** A model needs an element type the device cannot compute in (float16 on a WebGPU adapter without shader-f16). */
export class DeviceDtypeError extends Error {
  override readonly name = 'DeviceDtypeError';
}

/** What a device's probe found out. */
export interface DeviceCapabilities {
  /** float16 arithmetic works (WebGPU adapters need the shader-f16 feature). */
  readonly float16: boolean;
}

const INDEXED: ReadonlySet<DeviceKind> = new Set(['cuda', 'dml']);

/** Parses `cpu`, `webgpu`, `cuda`, `cuda:1`, `dml:0`, `coreml` or `auto`. */
export function parseDevice(text: string): DeviceRequest {
  const t = text.trim().toLowerCase();
  if (t === 'auto') return { kind: 'auto' };
  const m = /^([a-z]+)(?::(\d+))?$/.exec(t);
  const kind = DEVICE_KINDS.find((k) => k === m?.[1]);
  if (!m || !kind) throw new DeviceSpecError(`unknown device '${text}': expected one of ${[...DEVICE_KINDS, 'auto'].join(', ')} (cuda and dml take an index, e.g. cuda:1)`);
  if (m[2] === undefined) return { kind };
  if (!INDEXED.has(kind)) throw new DeviceSpecError(`device '${text}': ${kind} takes no index (only ${[...INDEXED].join(' and ')} do)`);
  return { kind, index: Number(m[2]) };
}

export function formatDevice(d: DeviceRequest): string {
  return 'index' in d && d.index !== undefined ? `${d.kind}:${d.index}` : d.kind;
}

/**
 * Why a provider cannot exist on this platform at all, with the way to get it; undefined when it might.
 * NOTE: the platforms are those of onnxruntime-node 1.30's prebuilt binaries (its README's table).
 */
export function platformProblem(kind: DeviceKind, platform: NodeJS.Platform = process.platform, arch: string = process.arch): string | undefined {
  switch (kind) {
    case 'cpu':
      return undefined;
    case 'webgpu':
      return platform === 'linux' && arch !== 'x64' ? `onnxruntime-node ships WebGPU for linux x64 only, not linux ${arch}` : undefined;
    case 'cuda':
      return platform === 'linux' && arch === 'x64' ? undefined : `onnxruntime-node ships the CUDA provider for linux x64 only (this is ${platform} ${arch}); use webgpu${platform === 'win32' ? ' or dml' : ''}`;
    case 'dml':
      return platform === 'win32' ? undefined : `DirectML exists on Windows only (this is ${platform}); use webgpu${platform === 'linux' ? ' or cuda' : ''}`;
    case 'coreml':
      return platform === 'darwin' ? undefined : `CoreML exists on macOS only (this is ${platform})`;
  }
}

/** How to make a provider usable, appended to a failed probe's message. */
export function installHint(kind: DeviceKind): string {
  switch (kind) {
    case 'cuda':
      return 'the CUDA 12 provider libraries are not in the npm package; fetch them with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` '
        + '(the variable overrides the skip line in .npmrc), with the NVIDIA driver, CUDA 12 and cuDNN 9 installed (docs/devices.md)';
    case 'webgpu':
      return 'WebGPU needs a Vulkan (Linux), D3D12 (Windows) or Metal (macOS) adapter; on Linux install the Vulkan loader (libvulkan1) and a driver, '
        + 'or SwiftShader (VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json from Debian\'s chromium) for a software adapter (docs/devices.md)';
    case 'dml':
      return 'DirectML needs Windows 10 1903+ and a DirectX 12 GPU (docs/devices.md)';
    case 'coreml':
      return 'CoreML needs macOS 10.15+ (docs/devices.md)';
    case 'cpu':
      return '';
  }
}

/** The order `auto` tries: dedicated GPU providers first, WebGPU next, the CPU always works. */
export function autoCandidates(platform: NodeJS.Platform = process.platform, arch: string = process.arch): Device[] {
  const order: Device[] = [{ kind: 'cuda' }, { kind: 'dml' }, { kind: 'coreml' }, { kind: 'webgpu' }];
  return [...order.filter((d) => platformProblem(d.kind, platform, arch) === undefined), CPU];
}

/** onnxruntime-node's `executionProviders` entry for a device (plain data: the worker hands it to ORT). */
export function providerConfig(d: Device): string | { name: string; deviceId: number } {
  if (INDEXED.has(d.kind)) return { name: d.kind, deviceId: d.index ?? 0 };
  return d.kind;
}

/** One entry of `/system_stats` `devices`, in ComfyUI's shape (server.py `system_stats`). */
export interface DeviceStats {
  name: string;
  type: string;
  index: number | null;
  vram_total: number;
  vram_free: number;
  torch_vram_total: number;
  torch_vram_free: number;
}

/** The device sessions run on, how it was chosen, and what is known of it. */
export interface ActiveDevice {
  readonly device: Device;
  /** What was asked for (`auto` or the device itself). */
  readonly requested: DeviceRequest;
  /** For `auto`: the candidates that were tried and why each one before the chosen failed. */
  readonly skipped: readonly { device: Device; reason: string }[];
  /** From the probe; absent for the CPU, which is not probed and runs float16 models. */
  readonly capabilities?: DeviceCapabilities;
  /** A device failed while running and `auto` moved later sessions to the CPU. */
  readonly fellBackFrom?: { device: Device; reason: string };
}

/** Vulkan ICD named in the environment, as a hint of which adapter WebGPU is on (SwiftShader, say). */
function vulkanIcdHint(env: NodeJS.ProcessEnv): string | undefined {
  const icd = env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES;
  if (!icd) return undefined;
  return /swiftshader/i.test(icd) ? 'SwiftShader (software)' : icd.split(/[:;]/)[0];
}

/**
 * `/system_stats` devices. ComfyUI reports memory for the torch device; onnxruntime-node tells nothing of
 * an adapter's memory, so a GPU's figures are 0 (unknown) and the CPU's are the machine's RAM.
 */
export function deviceStats(active: ActiveDevice, ram: { total: number; free: number }, env: NodeJS.ProcessEnv = process.env): DeviceStats[] {
  const d = active.device;
  const auto = active.requested.kind === 'auto' ? ' (auto)' : '';
  if (d.kind === 'cpu') {
    const why = active.fellBackFrom ? ` (auto: ${formatDevice(active.fellBackFrom.device)} failed)` : auto;
    return [{ name: `cpu${why}`, type: 'cpu', index: null, vram_total: ram.total, vram_free: ram.free, torch_vram_total: 0, torch_vram_free: 0 }];
  }
  const icd = d.kind === 'webgpu' ? vulkanIcdHint(env) : undefined;
  const name = `${formatDevice(d)}${icd ? ` ${icd}` : ''} : onnxruntime ${d.kind} provider${auto}`;
  return [{ name, type: d.kind, index: d.index ?? 0, vram_total: 0, vram_free: 0, torch_vram_total: 0, torch_vram_free: 0 }];
}

/** The startup line's device part: `device webgpu (auto; skipped cuda: ...)`. */
export function describeActive(active: ActiveDevice): string {
  const parts = [`device ${formatDevice(active.device)}`];
  if (active.requested.kind === 'auto') {
    const skipped = active.skipped.map((s) => `${formatDevice(s.device)}: ${firstLine(s.reason)}`);
    parts.push(`(auto${skipped.length ? `; not usable: ${skipped.join('; ')}` : ''})`);
  }
  return parts.join(' ');
}

function firstLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
