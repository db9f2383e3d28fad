/**
 * Guards: the cost of `await using task = spawnGuarded(fn)` (spawn, then dispose = abort
 * and wait until settled) against its floor — what a hand-written guard cannot avoid:
 * an AbortController created and aborted with a preallocated reason, plus the bare task
 * (`const p = task(signal); ac.abort(reason); await p`). Target: at most 1.5x.
 */
import { groupMarkdown, runGroup, type GroupResult, type GroupSpec, type RatioResult, type SuiteResult } from '../harness.js'
import { spawnGuarded, TaskScope } from '../../src/guards/index.js'

const REASON = new Error('preallocated abort reason')

/** A background task that runs until its signal aborts (the common shape). */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    signal.addEventListener('abort', () => {
      resolve()
    }, { once: true })
  })
}

/** A task that finishes on its own, one turn later. */
async function quick(_signal: AbortSignal): Promise<void> {
  await Promise.resolve()
}

function floor(task: (signal: AbortSignal) => Promise<void>) {
  return async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const ac = new AbortController()
      const p = task(ac.signal)
      ac.abort(REASON)
      await p
    }
  }
}

function guarded(task: (signal: AbortSignal) => Promise<void>) {
  return async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const g = spawnGuarded(task)
      await g[Symbol.asyncDispose]()
    }
  }
}

const groups: GroupSpec[] = [
  {
    name: 'spawnGuarded + await dispose (task runs until aborted)',
    batch: 4_000,
    reps: 31,
    cases: [
      { name: 'floor: AbortController + abort(prealloc) + bare task', run: floor(untilAborted) },
      { name: 'spawnGuarded + [Symbol.asyncDispose]()', run: guarded(untilAborted) },
    ],
    ratios: [{ name: 'spawnGuarded + dispose / floor', case: 'spawnGuarded + [Symbol.asyncDispose]()', base: 'floor: AbortController + abort(prealloc) + bare task', max: 1.5 }],
  },
  {
    name: 'spawnGuarded + await dispose (task finishes by itself)',
    batch: 4_000,
    reps: 31,
    cases: [
      { name: 'floor: AbortController + abort(prealloc) + bare quick task', run: floor(quick) },
      { name: 'spawnGuarded(quick) + [Symbol.asyncDispose]()', run: guarded(quick) },
    ],
    ratios: [{ name: 'spawnGuarded(quick) + dispose / floor', case: 'spawnGuarded(quick) + [Symbol.asyncDispose]()', base: 'floor: AbortController + abort(prealloc) + bare quick task', max: 1.5 }],
  },
  {
    // Its own group: run in the same group as spawnGuarded, the scope's extra allocations
    // and call sites also slowed the spawnGuarded case measurably (shared JIT feedback, GC).
    name: 'TaskScope: a scope created, one task spawned, scope await-disposed',
    batch: 4_000,
    reps: 31,
    cases: [
      { name: 'floor: AbortController + abort(prealloc) + bare task', run: floor(untilAborted) },
      {
        name: 'TaskScope.spawn + scope asyncDispose',
        run: async (n) => {
          for (let i = 0; i < n; i++) {
            const scope = new TaskScope()
            scope.spawn(untilAborted)
            await scope[Symbol.asyncDispose]()
          }
        },
      },
    ],
    ratios: [{ name: 'TaskScope spawn + dispose / floor', case: 'TaskScope.spawn + scope asyncDispose', base: 'floor: AbortController + abort(prealloc) + bare task' }],
  },
]

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const gc = (globalThis as { gc?: () => void }).gc

/**
 * The harness's paired algorithm, timed in process CPU time (user + system, all threads)
 * instead of wall time: on a shared, overloaded machine, wall time mostly measures the
 * other tenants' time slices. Same warm-up, rotation and per-repetition pairing.
 */
async function runCpuGroup(spec: GroupSpec): Promise<GroupResult> {
  const reps = spec.reps ?? 15
  const warmup = spec.warmup ?? 3
  const times = new Map<string, number[]>(spec.cases.map((c) => [c.name, []]))
  for (let r = 0; r < warmup + reps; r++) {
    const order = spec.cases.map((_, i) => spec.cases[(i + r) % spec.cases.length]!)
    for (const c of order) {
      gc?.()
      const start = process.cpuUsage()
      const ret = c.run(spec.batch)
      if (ret instanceof Promise) await ret
      const used = process.cpuUsage(start)
      if (r >= warmup) times.get(c.name)!.push(((used.user + used.system) * 1e3) / spec.batch)
    }
  }
  const cases: GroupResult['cases'] = {}
  for (const [name, ns] of times) {
    const m = median(ns)
    cases[name] = { nsPerOp: m, opsPerSec: 1e9 / m, minNs: Math.min(...ns), maxNs: Math.max(...ns) }
  }
  const ratios: Record<string, RatioResult> = {}
  for (const r of spec.ratios) {
    const a = times.get(r.case)!
    const b = times.get(r.base)!
    const per = a.map((t, i) => t / b[i]!)
    const name = r.name ?? `${r.case} / ${r.base}`
    const med = median(per)
    ratios[name] = { name, median: med, min: Math.min(...per), max: Math.max(...per), ...(r.max === undefined ? {} : { target: `≤ ${r.max}×`, pass: med <= r.max }) }
  }
  return { name: `${spec.name} — CPU time`, cases, ratios }
}

export default async function guardsSuite(): Promise<SuiteResult> {
  const results: GroupResult[] = []
  for (const g of groups) {
    results.push(await runGroup(g))
    results.push(await runCpuGroup(g))
  }
  return { name: 'guards', markdown: results.map(groupMarkdown).join('\n\n'), json: results }
}
