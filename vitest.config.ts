import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `kiln` in examples and test models is the source (as in tsconfig.json's paths), not dist/'s
  // build: one module instance with the sources the tests import.
  resolve: { alias: [{ find: /^kiln$/, replacement: fileURLToPath(new URL('./api/index.ts', import.meta.url)) }] },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two test files at a time: most of the suite waits on child processes (the CLI, Chromium, tsc).
    maxWorkers: 2,
  },
});
