/** Step-level scheduling and cross-job U-Net batching (docs/scheduling.md). */
export { batchCapability, type BatchCapability } from './capability.js';
export { JOB_LANE } from './job-lane-key.js';
export { concatRows, rowSize, type RowRange } from './rows.js';
export {
  DEFAULT_MAX_BATCH, DEFAULT_MAX_WAIT_MS, JobLane, SchedulerConfigError, StepScheduler, scheduleOrder,
  type Schedulable, type SchedulerOptions,
} from './step-scheduler.js';
