/**
 * The audit's headline scenario: a cache whose eviction observer is awaited while the
 * cache's lock is held, against LruTtlCache, whose state change is synchronous and whose
 * observers run afterwards.
 *
 * Capacity 100, 50 writers × 20 inserts of fresh keys (900 evictions), 20 readers that
 * loop until the writers finish; the observer waits `setTimeout(1)`.
 *
 * - naive: a Map LRU guarded by an async-mutex `Mutex`; a write evicts and awaits the
 *   observer inside `runExclusive`; a read takes the same mutex. Hold time = time inside
 *   the write's critical section.
 * - asyncsafe: `LruTtlCache` with the same observer as `onEvict`; a read is `cache.get`
 *   (synchronous); hold time = the synchronous part of `cache.set` (the whole state
 *   change, eviction included), measured around the call without awaiting its promise;
 *   insert latency = until the awaited `set` resolved (its notification settled).
 */
import { Mutex } from 'async-mutex'
import { LruTtlCache } from '../src/cache/index.js'

export interface LockHoldMetrics {
  wallMs: number
  reads: number
  readP50: number
  readP99: number
  readMax: number
  holdP50: number
  holdP99: number
  holdMax: number
  insertP50: number
  insertP99: number
  evictions: number
}

export const SCENARIO = { capacity: 100, writers: 50, insertsPerWriter: 20, readers: 20, observerMs: 1 } as const

const now = (): number => performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
}

function summarize(wallMs: number, reads: number[], holds: number[], inserts: number[], evictions: number): LockHoldMetrics {
  reads.sort((a, b) => a - b)
  holds.sort((a, b) => a - b)
  inserts.sort((a, b) => a - b)
  return {
    wallMs,
    reads: reads.length,
    readP50: quantile(reads, 0.5),
    readP99: quantile(reads, 0.99),
    readMax: reads[reads.length - 1] ?? 0,
    holdP50: quantile(holds, 0.5),
    holdP99: quantile(holds, 0.99),
    holdMax: holds[holds.length - 1] ?? 0,
    insertP50: quantile(inserts, 0.5),
    insertP99: quantile(inserts, 0.99),
    evictions,
  }
}

/** Key a reader looks up: one of the keys written recently enough to be a hit often. */
function readerKey(reader: number, i: number): string {
  return `w${(reader * 7 + i) % SCENARIO.writers}:${i % SCENARIO.insertsPerWriter}`
}

/** The naive design: the observer is awaited inside the write lock. */
export async function runNaive(): Promise<LockHoldMetrics> {
  const { capacity, writers, insertsPerWriter, readers, observerMs } = SCENARIO
  const mutex = new Mutex()
  const map = new Map<string, number>()
  const observer = async (_key: string, _value: number): Promise<void> => {
    await sleep(observerMs)
  }
  const reads: number[] = []
  const holds: number[] = []
  const inserts: number[] = []
  let evictions = 0
  let writing = true
  const start = now()
  const writer = async (w: number): Promise<void> => {
    for (let j = 0; j < insertsPerWriter; j++) {
      const key = `w${w}:${j}`
      const t0 = now()
      await mutex.runExclusive(async () => {
        const h0 = now()
        map.delete(key)
        map.set(key, j)
        if (map.size > capacity) {
          const oldest = map.keys().next().value!
          const old = map.get(oldest)!
          map.delete(oldest)
          evictions++
          await observer(oldest, old)
        }
        holds.push(now() - h0)
      })
      inserts.push(now() - t0)
    }
  }
  const reader = async (r: number): Promise<void> => {
    for (let i = 0; writing; i++) {
      const key = readerKey(r, i)
      const t0 = now()
      await mutex.runExclusive(() => {
        const v = map.get(key)
        if (v !== undefined) {
          map.delete(key)
          map.set(key, v)
        }
        return v
      })
      reads.push(now() - t0)
      await nextTurn()
    }
  }
  const readerRuns = Array.from({ length: readers }, (_, r) => reader(r))
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)))
  const wallMs = now() - start
  writing = false
  await Promise.all(readerRuns)
  return summarize(wallMs, reads, holds, inserts, evictions)
}

/** LruTtlCache with the same observer. */
export async function runAsyncsafe(notifyConcurrency?: number): Promise<LockHoldMetrics> {
  const { capacity, writers, insertsPerWriter, readers, observerMs } = SCENARIO
  const reads: number[] = []
  const holds: number[] = []
  const inserts: number[] = []
  let writing = true
  const cache = new LruTtlCache<string, number>({
    capacity,
    notifyConcurrency,
    onEvict: async () => {
      await sleep(observerMs)
    },
  })
  const start = now()
  const writer = async (w: number): Promise<void> => {
    for (let j = 0; j < insertsPerWriter; j++) {
      const key = `w${w}:${j}`
      const t0 = now()
      const done = cache.set(key, j)
      holds.push(now() - t0)
      await done
      inserts.push(now() - t0)
    }
  }
  const reader = async (r: number): Promise<void> => {
    for (let i = 0; writing; i++) {
      const key = readerKey(r, i)
      const t0 = now()
      cache.get(key)
      reads.push(now() - t0)
      await nextTurn()
    }
  }
  const readerRuns = Array.from({ length: readers }, (_, r) => reader(r))
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)))
  await cache.settled()
  const wallMs = now() - start
  writing = false
  await Promise.all(readerRuns)
  const evictions = cache.stats().evictions.evicted
  await cache[Symbol.asyncDispose]()
  return summarize(wallMs, reads, holds, inserts, evictions)
}

function fmtMs(ms: number): string {
  if (ms >= 100) return `${ms.toFixed(0)} ms`
  if (ms >= 1) return `${ms.toFixed(1)} ms`
  if (ms >= 0.001) return `${(ms * 1000).toPrecision(2)} µs`
  return `${(ms * 1e6).toFixed(0)} ns`
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/**
 * A grouped bar chart on a log scale (no dependency): for each metric, a bar for the
 * naive design and one for LruTtlCache, labelled with its value.
 */
export function lockHoldSvg(naive: LockHoldMetrics, ours: LockHoldMetrics, subtitle: string): string {
  const metrics: [string, keyof LockHoldMetrics][] = [
    ['reader latency p50', 'readP50'],
    ['reader latency p99', 'readP99'],
    ['write critical section p50', 'holdP50'],
    ['write critical section p99', 'holdP99'],
  ]
  const width = 760
  const height = 430
  const left = 70
  const right = 20
  const top = 70
  const bottom = 80
  const plotH = height - top - bottom
  const plotW = width - left - right
  const minExp = -5 // 10 ns
  const maxExp = 3 // 1000 ms
  const y = (ms: number): number => {
    const e = Math.log10(Math.max(ms, 10 ** minExp))
    return top + plotH - ((e - minExp) / (maxExp - minExp)) * plotH
  }
  const colors = { naive: '#d9534f', ours: '#2b7bb9' }
  const parts: string[] = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`)
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  parts.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600">Observer awaited under the cache lock (naive) vs LruTtlCache</text>`)
  parts.push(`<text x="${width / 2}" y="44" text-anchor="middle" fill="#555">${escapeXml(subtitle)}</text>`)
  for (let e = minExp; e <= maxExp; e++) {
    const yy = y(10 ** e)
    const label = e >= 0 ? `${10 ** e} ms` : e >= -3 ? `${10 ** (e + 3)} µs` : `${10 ** (e + 6)} ns`
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${yy.toFixed(1)}" y2="${yy.toFixed(1)}" stroke="#e3e3e3"/>`)
    parts.push(`<text x="${left - 8}" y="${(yy + 4).toFixed(1)}" text-anchor="end" fill="#555">${label}</text>`)
  }
  parts.push(`<text x="16" y="${top + plotH / 2}" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle" fill="#555">milliseconds (log scale)</text>`)
  const groupW = plotW / metrics.length
  const barW = Math.min(56, groupW / 3)
  metrics.forEach(([label, field], g) => {
    const cx = left + groupW * g + groupW / 2
    const bars: [string, number, string][] = [
      ['naive', naive[field], colors.naive],
      ['asyncsafe', ours[field], colors.ours],
    ]
    bars.forEach(([, value, color], b) => {
      const x = cx - barW - 4 + b * (barW + 8)
      const yy = y(value)
      const h = top + plotH - yy
      parts.push(`<rect x="${x.toFixed(1)}" y="${yy.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(h, 1).toFixed(1)}" fill="${color}"/>`)
      parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(yy - 5).toFixed(1)}" text-anchor="middle" font-size="11">${fmtMs(value)}</text>`)
    })
    parts.push(`<text x="${cx.toFixed(1)}" y="${top + plotH + 20}" text-anchor="middle">${label}</text>`)
    const ratio = ours[field] > 0 ? naive[field] / ours[field] : Infinity
    const ratioText = ratio >= 1000 ? `${Math.round(ratio).toLocaleString('en-US')}× lower` : `${ratio.toPrecision(3)}× lower`
    parts.push(`<text x="${cx.toFixed(1)}" y="${top + plotH + 36}" text-anchor="middle" fill="#2b7bb9" font-weight="600">${ratioText}</text>`)
  })
  const ly = height - 22
  parts.push(`<rect x="${left}" y="${ly - 10}" width="12" height="12" fill="${colors.naive}"/><text x="${left + 18}" y="${ly}">naive: Map + async-mutex, observer awaited inside the lock</text>`)
  parts.push(`<rect x="${left + 400}" y="${ly - 10}" width="12" height="12" fill="${colors.ours}"/><text x="${left + 418}" y="${ly}">asyncsafe LruTtlCache</text>`)
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}
