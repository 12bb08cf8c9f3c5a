import { defineConfig } from 'vitest/config';

/** Worker threads and child processes per test: it runs with the system tests. */
const ISOLATION = 'test/framework/isolation.test.ts';

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    testTimeout: 20_000,
    // Most system tests wait on servers and child processes, not on this process: four files at
    // once keep both cores busy (one worker, the default on two cores, left one idle).
    maxWorkers: 4,
    projects: [
      {
        extends: true,
        // In process: no server, child process, browser or package build. The files share one
        // module graph per worker, so the framework is imported once, not once per file.
        test: { name: 'unit', include: ['test/framework/**/*.test.ts', 'test/adapters/**/*.test.ts'], exclude: [ISOLATION], isolate: false },
      },
      {
        extends: true,
        // Real servers, spawned CLIs and isolates, the browser, the packed package, the examples,
        // fuzzing, the benches. Each waits for events, never for time; its ceiling is generous, so
        // a machine busy with other work makes it slower, never failed.
        test: {
          name: 'system',
          include: ['test/{cli,integration,browser,deploy,examples,fuzz,bench}/**/*.test.ts', ISOLATION],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
