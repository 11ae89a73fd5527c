import { serviceKey } from '../../engine/index.js';
import type { JobLane } from './step-scheduler.js';

/**
 * The job's scheduler lane, as the host passes it into one run (`RunOptions.job`); sampler nodes read
 * it from `ctx.job` and hand it to the U-Net batching point with each request.
 */
export const JOB_LANE = serviceKey<JobLane>('job-lane');
