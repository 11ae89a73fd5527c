import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // NOTE: 2-core machines; more workers only thrash the ONNX sessions each test file starts.
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
