import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 15_000,
    hookTimeout: 15_000,
    // Wire tests open sockets; two cores are enough for two forks.
    pool: 'forks',
    maxWorkers: 2,
  },
});
