/**
 * Size budgets per subpath (`npm run size`; also run by `npm run check:package`).
 *
 * Reads .size-limit.json (size-limit's own config format: `name`, `path`, `import`,
 * `limit`, `gzip`, `ignore`) and measures each entry the way size-limit's esbuild preset
 * does: esbuild bundles `export <import> from '<path>'` (minified, tree-shaken, ESM,
 * Node built-ins external), then the bytes are gzipped (level 9). size-limit itself is not a
 * dependency: its current major needs Node 22 and this registry cannot install its
 * bundler's native packages for every platform, so the same measurement is done here
 * with the esbuild that tsup already uses. 1 kB = 1000 bytes, as in size-limit.
 */
import { build } from 'esbuild'
import { readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import { pathToFileURL } from 'node:url'
import { Checks, root } from './lib.js'

/** One entry of .size-limit.json. */
export interface SizeEntry {
  name: string
  path: string
  import?: string
  limit: string
  gzip?: boolean
  brotli?: boolean
  ignore?: string[]
}

/** A measured entry. */
export interface SizeResult {
  name: string
  /** Compressed size in bytes (gzip unless the entry says otherwise). */
  size: number
  /** Minified, uncompressed size in bytes. */
  minified: number
  limitBytes: number
  limit: string
  passed: boolean
}

/** Parses `"8 kB"`, `"800 B"`, `"1.5 KB"` into bytes (1 kB = 1000 B). */
export function parseLimit(limit: string): number {
  const match = /^\s*([\d.]+)\s*(b|kb|kib|mb)?\s*$/i.exec(limit)
  if (!match) throw new RangeError(`size: cannot parse limit ${JSON.stringify(limit)}`)
  const value = Number(match[1])
  const unit = (match[2] ?? 'b').toLowerCase()
  return Math.round(value * (unit === 'kb' ? 1000 : unit === 'kib' ? 1024 : unit === 'mb' ? 1_000_000 : 1))
}

/** Measures every entry of .size-limit.json against dist (which must be built). */
export async function measureSizes(): Promise<SizeResult[]> {
  const entries = JSON.parse(readFileSync(join(root, '.size-limit.json'), 'utf8')) as SizeEntry[]
  const results: SizeResult[] = []
  for (const entry of entries) {
    const target = JSON.stringify(join(root, entry.path))
    const contents = entry.import === undefined || entry.import === '*' ? `export * from ${target}` : `export ${entry.import} from ${target}`
    const out = await build({
      stdin: { contents, resolveDir: root, loader: 'js' },
      bundle: true,
      minify: true,
      treeShaking: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
      // Node's built-ins stay external (tsup writes them without the `node:` prefix).
      external: ['node:*', ...builtinModules, ...(entry.ignore ?? [])],
    })
    const code = out.outputFiles[0]!.contents
    const size = entry.brotli === true && entry.gzip !== true ? brotliCompressSync(code).length : gzipSync(code, { level: 9 }).length
    const limitBytes = parseLimit(entry.limit)
    results.push({ name: entry.name, size, minified: code.length, limitBytes, limit: entry.limit, passed: size <= limitBytes })
  }
  return results
}

/** Formats bytes as size-limit does: `1.23 kB`. */
export function kB(bytes: number): string {
  return `${(bytes / 1000).toFixed(2)} kB`
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const checks = new Checks()
  const results = await measureSizes()
  console.log('| subpath | min | min+gzip | budget |\n|---|---:|---:|---:|')
  for (const r of results) console.log(`| ${r.name} | ${kB(r.minified)} | ${kB(r.size)} | ${r.limit} |`)
  console.log('')
  for (const r of results) checks.check(r.passed, `${r.name}: ${kB(r.size)} within ${r.limit}`)
  checks.finish('size')
}
