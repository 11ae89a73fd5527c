import { createHost, type Host, type HostOptions } from '../host/host.js';
import type { DeviceRequest } from '../runtime/devices.js';

/** Folder and memory flags shared by run, serve and the batch commands. */
export interface HostFlags {
  baseDir?: string;
  output?: string;
  inputDir?: string;
  modelsDir?: string;
  memoryBudget?: number;
  memoryLimit?: number;
  device?: DeviceRequest;
}

export function hostOptions(flags: HostFlags): HostOptions {
  return {
    baseDir: flags.baseDir,
    outputDir: flags.output,
    inputDir: flags.inputDir,
    modelsDir: flags.modelsDir,
    memoryBudgetBytes: flags.memoryBudget !== undefined ? Math.round(flags.memoryBudget * 2 ** 30) : undefined,
    memoryLimitBytes: flags.memoryLimit !== undefined ? Math.round(flags.memoryLimit * 2 ** 30) : undefined,
    device: flags.device,
  };
}

export function openHost(opts: HostOptions): Promise<Host> {
  return createHost(opts);
}
