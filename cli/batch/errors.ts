import { EngineError } from '../../engine/index.js';

/** A batch file or `--sweep` that cannot be read; `problems` lists every bad row, not just the first. */
export class BatchInputError extends EngineError {
  override name = 'BatchInputError';
  constructor(readonly problems: readonly string[]) {
    super(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  ${problems.join('\n  ')}`);
  }
}

/** Jobs whose resolved workflows do not validate; `problems` names each job's row. */
export class BatchPlanError extends EngineError {
  override name = 'BatchPlanError';
  constructor(readonly jobs: number, readonly problems: readonly string[]) {
    super(`${jobs} invalid job(s):\n  ${problems.join('\n  ')}`);
  }
}

/** Another process holds the batch output folder. */
export class BatchLockedError extends EngineError {
  override name = 'BatchLockedError';
}
