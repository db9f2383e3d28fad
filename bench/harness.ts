/**
 * A small paired benchmark harness.
 *
 * Why not tinybench or mitata alone: this machine is shared and noisy, and the claims we
 * make are ratios (asyncsafe vs the floor, vs async-mutex, vs lru-cache). Each repetition
 * here runs every case of a group back to back on the same batch size, and a ratio is
 * computed per repetition, then summarised as median [min–max]. Noise that hits one
 * repetition hits both sides of its ratios, which keeps the medians stable.
 */

/** One case: `run(n)` performs `n` operations (awaited when it returns a promise). */
export interface BenchCase {
  readonly name: string
  readonly run: (n: number) => unknown
  /** Untimed, right before each timed batch (e.g. subscribe a listener only this case has); awaited when it returns a promise. */
  readonly before?: () => unknown
  /** Untimed, right after each timed batch (undo `before`). */
  readonly after?: () => void
}

/** A ratio `case / base` (time per operation), with an optional target. */
export interface RatioSpec {
  readonly name?: string
  readonly case: string
  readonly base: string
  /** The ratio must be at most this (reported as pass/fail, never thrown). */
  readonly max?: number
  /** The ratio must be at least this. */
  readonly min?: number
}

export interface GroupSpec {
  readonly name: string
  readonly cases: readonly BenchCase[]
  readonly ratios: readonly RatioSpec[]
  /** Operations per timed batch. */
  readonly batch: number
  /** Timed repetitions (each runs every case once). Default 15. */
  readonly reps?: number
  /** Untimed warm-up repetitions. Default 3. */
  readonly warmup?: number
}

export interface RatioResult {
  readonly name: string
  readonly median: number
  readonly min: number
  readonly max: number
  readonly target?: string
  readonly pass?: boolean
}

export interface GroupResult {
  readonly name: string
  readonly cases: Record<string, { nsPerOp: number; opsPerSec: number; minNs: number; maxNs: number }>
  readonly ratios: Record<string, RatioResult>
}

/** What a suite file's default export returns. */
export interface SuiteResult {
  readonly name: string
  readonly markdown: string
  readonly json: unknown
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const gc = (globalThis as { gc?: () => void }).gc

/**
 * What a repetition is timed with: `'wall'` (performance.now) or `'cpu'` (process CPU
 * time, user + system). On a shared, overloaded machine wall time mostly measures the
 * other tenants' time slices; CPU time of the same paired runs is a useful cross-check.
 */
export type TimeSource = 'wall' | 'cpu'

function cpuNow(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e3 // ms
}

/** Runs a group and returns per-case medians and paired ratios. */
export async function runGroup(spec: GroupSpec, source: TimeSource = 'wall'): Promise<GroupResult> {
  const now = source === 'cpu' ? cpuNow : () => performance.now()
  const reps = spec.reps ?? 15
  const warmup = spec.warmup ?? 3
  const times = new Map<string, number[]>(spec.cases.map((c) => [c.name, []]))
  for (let r = 0; r < warmup + reps; r++) {
    // Rotate the order so no case always runs right after the same neighbour.
    const order = spec.cases.map((_, i) => spec.cases[(i + r) % spec.cases.length]!)
    for (const c of order) {
      const setup = c.before?.()
      if (setup instanceof Promise) await setup
      gc?.()
      const start = now()
      const ret = c.run(spec.batch)
      if (ret instanceof Promise) await ret
      const ns = ((now() - start) * 1e6) / spec.batch
      c.after?.()
      if (r >= warmup) times.get(c.name)!.push(ns)
    }
  }
  const cases: GroupResult['cases'] = {}
  for (const [name, ns] of times) {
    const m = median(ns)
    cases[name] = { nsPerOp: m, opsPerSec: 1e9 / m, minNs: Math.min(...ns), maxNs: Math.max(...ns) }
  }
  const ratios: Record<string, RatioResult> = {}
  for (const spec2 of spec.ratios) {
    const a = times.get(spec2.case)
    const b = times.get(spec2.base)
    if (!a || !b) throw new Error(`ratio ${spec2.case} / ${spec2.base}: unknown case`)
    const per = a.map((t, i) => t / b[i]!)
    const name = spec2.name ?? `${spec2.case} / ${spec2.base}`
    const med = median(per)
    let target: string | undefined
    let pass: boolean | undefined
    if (spec2.max !== undefined) {
      target = `≤ ${spec2.max}×`
      pass = med <= spec2.max
    }
    if (spec2.min !== undefined) {
      target = `≥ ${spec2.min}×`
      pass = med >= spec2.min
    }
    ratios[name] = { name, median: med, min: Math.min(...per), max: Math.max(...per), ...(target === undefined ? {} : { target, pass }) }
  }
  return { name: source === 'cpu' ? `${spec.name} — CPU time` : spec.name, cases, ratios }
}

/** One ratio to measure in its own process: which group of a module's group factory, and the ratio. */
export interface IsolatedRatio {
  readonly group: string
  readonly ratio: RatioSpec
}

/**
 * Measures each ratio in a fresh process that runs only its two cases (paired per
 * repetition, like `runGroup`). In one process running many implementations side by side,
 * each one's inline caches see the others' objects and the garbage of a slow peer lands
 * in the next case's time; a service runs one lock implementation, so a target ratio is
 * measured the way it runs. `moduleUrl` exports `exportName`: a function returning the
 * groups by key (the same specs the in-process groups use).
 */
export async function runIsolatedPairs(name: string, moduleUrl: string, exportName: string, ratios: readonly IsolatedRatio[], source: TimeSource = 'cpu'): Promise<GroupResult> {
  const { execFile } = await import('node:child_process')
  const { fileURLToPath } = await import('node:url')
  const child = fileURLToPath(new URL('./pair.ts', import.meta.url))
  const result: { cases: GroupResult['cases']; ratios: Record<string, RatioResult> } = { cases: {}, ratios: {} }
  for (const { group, ratio } of ratios) {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--expose-gc', '--import', 'tsx', child, moduleUrl, exportName, group, JSON.stringify(ratio), source], { maxBuffer: 1 << 24 }, (error, out, err) => {
        if (error) reject(new Error(`${ratio.case} / ${ratio.base}: ${error.message}\n${err}`))
        else resolve(out)
      })
    })
    const pair = JSON.parse(stdout.trim().split('\n').pop()!) as GroupResult
    Object.assign(result.cases, pair.cases)
    Object.assign(result.ratios, pair.ratios)
  }
  return { name: `${name} — each ratio in its own process, ${source === 'cpu' ? 'CPU' : 'wall'} time`, ...result }
}

/** `runGroup` timed in process CPU time (see `TimeSource`). */
export function runCpuGroup(spec: GroupSpec): Promise<GroupResult> {
  return runGroup(spec, 'cpu')
}

/** Formats a number of nanoseconds or a ratio with 3 significant digits. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  if (value === 0) return '0'
  const abs = Math.abs(value)
  if (abs >= 1000) return value.toFixed(0)
  if (abs >= 100) return value.toFixed(1)
  if (abs >= 10) return value.toFixed(2)
  if (abs >= 1) return value.toFixed(2)
  return value.toPrecision(3)
}

/** Markdown tables of a group's cases and ratios. */
export function groupMarkdown(result: GroupResult): string {
  const lines: string[] = [`### ${result.name}`, '', '| case | median ns/op | ops/s | min–max ns/op |', '|---|---:|---:|---:|']
  for (const [name, c] of Object.entries(result.cases)) {
    lines.push(`| ${name} | ${fmt(c.nsPerOp)} | ${fmt(c.opsPerSec / 1e6)}M | ${fmt(c.minNs)}–${fmt(c.maxNs)} |`)
  }
  lines.push('', '| ratio (time, paired per repetition) | median [min–max] | target |', '|---|---:|---|')
  for (const r of Object.values(result.ratios)) {
    const target = r.target === undefined ? '' : `${r.target} ${r.pass ? 'PASS' : 'FAIL'}`
    lines.push(`| ${r.name} | ${fmt(r.median)}× [${fmt(r.min)}–${fmt(r.max)}] | ${target} |`)
  }
  return lines.join('\n')
}

/** Runs groups and wraps them as one suite result. */
export async function runGroups(name: string, groups: readonly GroupSpec[]): Promise<SuiteResult> {
  const results: GroupResult[] = []
  for (const g of groups) results.push(await runGroup(g))
  return { name, markdown: results.map(groupMarkdown).join('\n\n'), json: results }
}

/** The floor every async case is measured against: one `await Promise.resolve(x)` per op. */
export const floorCase: BenchCase = {
  name: 'floor: await Promise.resolve(x)',
  run: async (n) => {
    let x = 0
    for (let i = 0; i < n; i++) x = await Promise.resolve(x + 1)
    return x
  },
}
