/**
 * Turns a `--device` request into the device sessions will use: a named device must pass its probe
 * (its error says why and how to get it); `auto` takes the first candidate whose probe passes and
 * records why the ones before it did not.
 */
import { CPU, autoCandidates, type ActiveDevice, type Device, type DeviceCapabilities, type DeviceRequest } from './devices.js';

export type DeviceProbe = (device: Device) => Promise<DeviceCapabilities>;

export async function selectDevice(request: DeviceRequest, probe: DeviceProbe, candidates: readonly Device[] = autoCandidates()): Promise<ActiveDevice> {
  if (request.kind !== 'auto') {
    // The CPU provider is compiled into onnxruntime; probing it would only cost a worker's start-up.
    if (request.kind === 'cpu') return { device: request, requested: request, skipped: [] };
    return { device: request, requested: request, skipped: [], capabilities: await probe(request) };
  }
  const skipped: { device: Device; reason: string }[] = [];
  for (const device of candidates) {
    if (device.kind === 'cpu') break;
    try {
      return { device, requested: request, skipped, capabilities: await probe(device) };
    } catch (e) {
      skipped.push({ device, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { device: CPU, requested: request, skipped };
}
