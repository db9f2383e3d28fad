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
})
