/**
 * `npm run bench:compare`: compares bench/results/latest.json with the committed
 * bench/results/baseline.json, case by case (ns/op) and ratio by ratio, and prints the
 * change. Absolute times move with the machine's load; read the ratios first.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt, type GroupResult } from './harness.js'

type Results = { node: string; date: string; suites: Record<string, unknown> }

const here = dirname(fileURLToPath(import.meta.url))
const [basePath = join(here, 'results', 'baseline.json'), latestPath = join(here, 'results', 'latest.json')] = process.argv.slice(2)
for (const p of [basePath, latestPath]) {
  if (!existsSync(p)) {
    console.error(`missing ${p}: run \`npm run bench\` first${p === basePath ? ' and commit a baseline' : ''}`)
    process.exit(1)
  }
}
const base = JSON.parse(readFileSync(basePath, 'utf8')) as Results
const latest = JSON.parse(readFileSync(latestPath, 'utf8')) as Results

function groups(r: Results): Map<string, GroupResult> {
  const map = new Map<string, GroupResult>()
  for (const json of Object.values(r.suites)) {
    if (!Array.isArray(json)) continue
    for (const g of json as GroupResult[]) if (g && typeof g === 'object' && 'cases' in g && 'ratios' in g) map.set(g.name, g)
  }
  return map
}

const pct = (a: number, b: number): string => `${a >= b ? '+' : ''}${fmt(((a - b) / b) * 100)}%`
console.log(`baseline: node ${base.node} ${base.date}\nlatest:   node ${latest.node} ${latest.date}\n`)
const b = groups(base)
for (const [name, g] of groups(latest)) {
  const old = b.get(name)
  console.log(`## ${name}${old ? '' : ' (new)'}\n\n| case / ratio | baseline | latest | change |\n|---|---:|---:|---:|`)
  for (const [c, v] of Object.entries(g.cases)) {
    const o = old?.cases[c]
    console.log(`| ${c} (ns/op) | ${o ? fmt(o.nsPerOp) : '–'} | ${fmt(v.nsPerOp)} | ${o ? pct(v.nsPerOp, o.nsPerOp) : 'new'} |`)
  }
  for (const [r, v] of Object.entries(g.ratios)) {
    const o = old?.ratios[r]
    console.log(`| ${r} | ${o ? `${fmt(o.median)}×` : '–'} | ${fmt(v.median)}× | ${o ? pct(v.median, o.median) : 'new'} |`)
  }
  console.log('')
}
