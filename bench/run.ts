/**
 * `npm run bench`: runs every suite in bench/suites (or those named on the command
 * line, e.g. `npm run bench -- locks cache`), prints markdown tables of medians and
 * paired ratios, and writes bench/results/latest.json.
 */
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { SuiteResult } from './harness.js'

const here = dirname(fileURLToPath(import.meta.url))
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const files = readdirSync(join(here, 'suites'))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort()

const results: SuiteResult[] = []
console.log(`# asyncsafe benchmarks — node ${process.version}, ${new Date().toISOString()}\n`)
if (!(globalThis as { gc?: unknown }).gc) console.log('(run with --expose-gc for steadier numbers)\n')
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, 'suites', file)).href)) as { default: () => Promise<SuiteResult> }
  const result = await mod.default()
  console.log(`## ${result.name}\n\n${result.markdown}\n`)
  results.push(result)
}
mkdirSync(join(here, 'results'), { recursive: true })
const out = { node: process.version, date: new Date().toISOString(), suites: Object.fromEntries(results.map((r) => [r.name, r.json])) }
writeFileSync(join(here, 'results', 'latest.json'), `${JSON.stringify(out, null, 2)}\n`)
console.log('wrote bench/results/latest.json')
