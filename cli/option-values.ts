import { InvalidArgumentError } from 'commander';
import { DeviceSpecError, parseDevice, type DeviceRequest } from '../runtime/devices.js';

/** commander argParser of a repeatable option: each use appends. */
export function collect(value: string, prev: string[]): string[] {
  return [...prev, value];
}

/** commander argParser of counts (jobs, rows, milliseconds). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
}

/** commander argParser of `--device` (cpu, webgpu, cuda[:N], dml[:N], coreml, auto). */
export function deviceOption(value: string): DeviceRequest {
  try {
    return parseDevice(value);
  } catch (e) {
    if (e instanceof DeviceSpecError) throw new InvalidArgumentError(e.message);
    throw e;
  }
}

export const DEVICE_HELP = 'execution device: cpu, webgpu, cuda[:N], dml[:N], coreml or auto (docs/devices.md)';
