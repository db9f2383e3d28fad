import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/consumer/**', 'node_modules/**'],
    setupFiles: ['test/setup.ts'],
    // Redis tests: skip (with one message) or fail (CI) when no server binary; kill leftovers.
    globalSetup: ['test/redis/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Forks isolate process-level listeners (signals, warnings) per file.
    pool: 'forks',
  },
})
