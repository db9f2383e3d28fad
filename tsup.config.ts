import { defineConfig } from 'tsup'

// One build for every subpath. `splitting` makes the subpaths share chunks, so
// `asyncsafe` and `asyncsafe/locks` hand out the same classes (instanceof and the
// shared default DetachedPool work across imports). Target node20 lowers `using`.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'locks/index': 'src/locks/index.ts',
    'cache/index': 'src/cache/index.ts',
    'guards/index': 'src/guards/index.ts',
    'tasks/index': 'src/tasks/index.ts',
    'node/index': 'src/node/index.ts',
    'compat/async-mutex': 'src/locks/compat/async-mutex.ts',
    'redis/index': 'src/redis/index.ts',
    // The OpenTelemetry bridge: Node-only; loads @opentelemetry/api itself, lazily.
    'otel/index': 'src/otel/index.ts',
    // The ESLint plugin: Node-only; shares no code with the runtime entries.
    'eslint/index': 'src/eslint/index.ts',
  },
  format: ['esm', 'cjs'],
  target: 'node20',
  platform: 'neutral',
  dts: true,
  splitting: true,
  sourcemap: false,
  clean: true,
  treeshake: true,
  minify: false,
  external: [/^node:/],
  // The ESLint plugin loads typescript lazily with createRequire(import.meta.url); CJS has
  // no import.meta, and createRequire takes a path as well, so CJS gets __filename (a
  // define, not tsup's shims, which would add a chunk to every CJS entry).
  esbuildOptions(options, { format }) {
    if (format === 'cjs') options.define = { ...options.define, 'import.meta.url': '__filename' }
  },
})
