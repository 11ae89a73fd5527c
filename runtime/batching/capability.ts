/**
 * What a U-Net's declared inputs allow at the batching point (spec/models.md, "Timestep"): rows with
 * different timesteps may share a call only where `timestep` is declared per row (`[B]`); a rank-0 or
 * `[1]` timestep takes one request per call. A numeric batch dimension on `sample` fixes the rows of
 * every call (shorter calls are padded, longer requests split).
 */
import type { IoMeta } from '../io-meta.js';

export interface BatchCapability {
  /** Rows at different timesteps may share one call (so requests from different jobs can merge). */
  readonly perRowTimesteps: boolean;
  /** The batch size `sample` declares as a number, when it does. */
  readonly fixedBatch?: number;
}

export function batchCapability(inputs: readonly IoMeta[]): BatchCapability {
  const sample = inputs.find((m) => m.name === 'sample');
  const timestep = inputs.find((m) => m.name === 'timestep');
  const d0 = sample?.shapeKnown ? sample.shape[0] : undefined;
  const fixedBatch = typeof d0 === 'number' && d0 > 0 ? d0 : undefined;
  if (!timestep || !timestep.shapeKnown || timestep.shape.length !== 1) return { perRowTimesteps: false, fixedBatch };
  const t0 = timestep.shape[0];
  const perRowTimesteps = typeof t0 === 'string' || (t0 > 1 && (fixedBatch === undefined || t0 === fixedBatch));
  return { perRowTimesteps, fixedBatch };
}
