import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dev dashboard's page: built into dist/ui, which the package ships and `DashboardServer` serves.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)), emptyOutDir: true, sourcemap: false },
  logLevel: 'warn',
});
