import { defineConfig } from 'vitest/config';

/** Worker threads and child processes per test: it runs with the system tests. */
const ISOLATION = 'test/framework/isolation.test.ts';

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    testTimeout: 20_000,
    projects: [
      {
        extends: true,
        // In process: no server, child process, browser or package build. The files share one
        // module graph per worker, so the framework is imported once, not once per file.
        test: { name: 'unit', include: ['test/framework/**/*.test.ts', 'test/adapters/**/*.test.ts'], exclude: [ISOLATION], isolate: false },
      },
      {
        extends: true,
        // Real servers, spawned CLIs and isolates, the browser, the packed package, the examples, fuzzing, the benches.
        test: { name: 'system', include: ['test/{cli,integration,browser,deploy,examples,fuzz,bench}/**/*.test.ts', ISOLATION] },
      },
    ],
  },
});
