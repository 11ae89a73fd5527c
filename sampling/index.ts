export { TorchGenerator, randn, randnLike, prepareNoise, seedTo32, InvalidSeedError, InvalidBatchIndexError, type Seed } from './noise.js';
export { Mt19937 } from './mt19937.js';
export {
  ModelSampling, makeBetas, sigmasFromBetas, UnsupportedScheduleError,
  type PredictionType, type TimestepMode, type SchedulerConfig, type BetaScheduleOptions, type ModelSamplingOptions,
} from './model-sampling.js';
export * from './schedulers/index.js';
export * from './samplers/index.js';
