import { configDefaults, defineConfig } from 'vitest/config';

/** Deadline tests that force garbage collection while they wait: they need `gc()`. */
const GC_TESTS = 'test/**/*.gc.test.ts';

const shared = {
  pool: 'forks',
  testTimeout: 60_000,
  hookTimeout: 180_000,
  teardownTimeout: 30_000,
} as const;

// Two projects. `main` is every suite; its global setup starts the emulators they share
// (Azurite), and suites that need a stand-in with fault hooks start their own in beforeAll.
// `gc` runs the *.gc.test.ts files in workers started with --expose-gc, so they can force
// collections while a deadline is pending (a timer collected before it fires is the failure
// they guard against); they talk to silent servers and stand-ins of their own, no Azurite.
export default defineConfig({
  test: {
    // Two cores: more workers only add contention between emulators and suites.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        test: {
          ...shared,
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, GC_TESTS],
          globalSetup: ['test/setup/global.ts'],
        },
      },
      {
        test: {
          ...shared,
          name: 'gc',
          include: [GC_TESTS],
          execArgv: ['--expose-gc'],
        },
      },
    ],
  },
});
