import { defineConfig } from 'vitest/config';

// One config for every suite. The global setup starts the emulators the suites share (Azurite);
// suites that need a stand-in with fault hooks start their own in beforeAll.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    pool: 'forks',
    // Two cores: more workers only add contention between emulators and suites.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    reporters: ['default'],
  },
});
