/**
 * asyncsafe/otel: what the diagnostics events cost, measured on the two hottest paths
 * (Mutex uncontended runExclusive, LruTtlCache get hit). Paired ratios (bench/harness.ts).
 *
 * Group 1 runs before anything in the process has ever subscribed, and compares "nothing
 * subscribed" with the same operations in the code before the events existed, when a
 * copy of that source is given (`OTEL_BENCH_BASELINE=<dir of its src>`; see the README's
 * Tracing section for the command): the cost of the events for an application that never
 * imports asyncsafe/otel.
 * Group 2 then subscribes per case, untimed (the harness's before/after): (b) a bridge
 * whose meter is the API's no-op meter (`createNoopMeter()`), (c) `instrument()` with the
 * global providers and no SDK registered (the API's defaults), against (a) no subscriber.
 * A subscribe or unsubscribe changes the channel object's prototype, which deoptimizes the
 * code that read `hasSubscribers`; an application subscribes once, so every case here runs
 * untimed warm-up batches after its switch (and waits for the optimizing compiler) before
 * its timed batch.
 */
import { createNoopMeter } from '@opentelemetry/api'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { groupMarkdown, runGroup, type BenchCase, type GroupResult, type GroupSpec, type SuiteResult } from '../harness.js'
import { Mutex } from '../../src/locks/index.js'
import { LruTtlCache } from '../../src/cache/index.js'
import { instrument, type OtelBridge } from '../../src/otel/index.js'

type LocksModule = typeof import('../../src/locks/index.js')
type CacheModule = typeof import('../../src/cache/index.js')

const N = 1000
const keys = Array.from({ length: N }, (_, i) => `key:${i}`)

function mutexCase(name: string, m: InstanceType<LocksModule['Mutex']>): BenchCase {
  return {
    name,
    run: async (n: number) => {
      let x = 0
      for (let i = 0; i < n; i++) x = await m.runExclusive(() => x + 1)
      return x
    },
  }
}

let sink = 0
/** What the get case needs of either copy of the cache. */
interface Gettable {
  get(key: string): number | undefined
}

function cacheCase(name: string, cache: Gettable): BenchCase {
  return {
    name,
    run: (n: number) => {
      for (let i = 0; i < n; i++) sink += cache.get(keys[i % N]!)!
      return sink
    },
  }
}

async function filledCache(Cache: CacheModule['LruTtlCache']): Promise<Gettable> {
  const cache = new Cache<string, number>({ capacity: 10_000, ttlMs: 60_000, name: 'bench' })
  for (let i = 0; i < N; i++) await cache.set(keys[i]!, i)
  return cache
}

/** Subscribes `make()`'s bridge (if any) for the case's batches only, then warms the case up untimed. */
function switched(make: (() => OtelBridge) | undefined, warm: (n: number) => unknown): Pick<BenchCase, 'before' | 'after'> {
  let bridge: OtelBridge | undefined
  return {
    before: async () => {
      bridge = make?.()
      for (let i = 0; i < WARM_BATCHES; i++) await warm(WARM_OPS)
      await new Promise((resolve) => setTimeout(resolve, 5))
      await warm(WARM_OPS)
    },
    after: () => {
      bridge?.[Symbol.dispose]()
      bridge = undefined
    },
  }
}

const WARM_BATCHES = 3
const WARM_OPS = 20_000

/** A case whose batches run with `make()`'s bridge subscribed (none: nothing subscribed), warmed up after the switch. */
function withBridge(kind: 'mutex' | 'cache', name: string, target: InstanceType<LocksModule['Mutex']> | Gettable, make?: () => OtelBridge): BenchCase {
  const bare = kind === 'mutex' ? mutexCase(name, target as InstanceType<LocksModule['Mutex']>) : cacheCase(name, target as Gettable)
  return { ...bare, ...switched(make, bare.run) }
}

export default async function otel(): Promise<SuiteResult> {
  const baselineDir = process.env.OTEL_BENCH_BASELINE
  const base = baselineDir === undefined
    ? undefined
    : {
        locks: (await import(pathToFileURL(join(baselineDir, 'locks/index.ts')).href)) as LocksModule,
        cache: (await import(pathToFileURL(join(baselineDir, 'cache/index.ts')).href)) as CacheModule,
      }
  const A_MUTEX = '(a) Mutex runExclusive, nothing subscribed'
  const A_CACHE = '(a) LruTtlCache.get hit, nothing subscribed'
  const T_MUTEX = 'Mutex runExclusive, code before the events'
  const T_CACHE = 'LruTtlCache.get hit, code before the events'
  const groups: GroupSpec[] = []
  const cacheA = await filledCache(LruTtlCache)
  groups.push({
    name: 'Group 1: no subscriber has ever existed in the process',
    batch: 50_000,
    reps: 21,
    cases: [
      mutexCase(A_MUTEX, new Mutex({ name: 'bench' })),
      cacheCase(A_CACHE, cacheA),
      ...(base === undefined ? [] : [mutexCase(T_MUTEX, new base.locks.Mutex({ name: 'bench' })), cacheCase(T_CACHE, await filledCache(base.cache.LruTtlCache))]),
    ],
    ratios: base === undefined ? [] : [
      { name: 'Mutex: (a) / before the events', case: A_MUTEX, base: T_MUTEX },
      { name: 'cache get: (a) / before the events', case: A_CACHE, base: T_CACHE },
    ],
  })
  const noopProvider = { getMeter: () => createNoopMeter() }
  const B_MUTEX = '(b) Mutex runExclusive, bridge on a no-op meter'
  const C_MUTEX = '(c) Mutex runExclusive, instrument() with the API defaults'
  const B_CACHE = '(b) LruTtlCache.get hit, bridge on a no-op meter'
  const C_CACHE = '(c) LruTtlCache.get hit, instrument() with the API defaults'
  const m = new Mutex({ name: 'bench' })
  groups.push({
    name: 'Group 2: the bridge subscribed (per case, untimed)',
    batch: 50_000,
    reps: 21,
    cases: [
      withBridge('mutex', A_MUTEX, m),
      withBridge('mutex', B_MUTEX, m, () => instrument({ meterProvider: noopProvider })),
      withBridge('mutex', C_MUTEX, m, () => instrument()),
      withBridge('cache', A_CACHE, cacheA),
      withBridge('cache', B_CACHE, cacheA, () => instrument({ meterProvider: noopProvider })),
      withBridge('cache', C_CACHE, cacheA, () => instrument()),
    ],
    ratios: [
      { name: 'Mutex: (b) / (a)', case: B_MUTEX, base: A_MUTEX },
      { name: 'Mutex: (c) / (a)', case: C_MUTEX, base: A_MUTEX },
      { name: 'cache get: (b) / (a)', case: B_CACHE, base: A_CACHE },
      { name: 'cache get: (c) / (a)', case: C_CACHE, base: A_CACHE },
    ],
  })
  const results: GroupResult[] = []
  for (const g of groups) results.push(await runGroup(g))
  const note = base === undefined ? '\n\n(no OTEL_BENCH_BASELINE: group 1 has no "before the events" cases)' : ''
  return { name: 'otel: the cost of the diagnostics events', markdown: results.map(groupMarkdown).join('\n\n') + note, json: results }
}
