import { defineConfig } from 'vitest/config';

// The app's own test config: without one, vitest would take the nearest above it (that of a
// repository the app sits in) and run that one's tests instead.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'] },
});
