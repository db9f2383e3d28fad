/**
 * tasks: what the safety of DetachedPool, Initializer, SingleFlightGroup, retry and the
 * cache's getOrLoad costs, as ratios measured in one run (paired per repetition).
 *
 * - detached: 10,000 trivial async functions, at most 8 at once, awaited to the end, on
 *   `new DetachedPool({ concurrency: 8 })` with its defaults (so the 30 s timeout is on),
 *   paired against the floor (`Promise.all` of the 10,000 calls, no bound), p-limit(8)
 *   (`Promise.all` of 10,000 `limit(fn)`) and p-queue ({ concurrency: 8 }, 10,000 `add` +
 *   `onIdle`). Targets (issue 9): pool ≤ 8× the floor, and faster than p-limit and p-queue.
 * - awaited results: the same 10,000 tasks when the caller wants each result: `pool.call(fn)`
 *   against p-limit's `limit(fn)` and p-queue's `queue.add(fn)`, all under `Promise.all`.
 * - priorities: 10,000 tasks with priorities cycling 0..3 (three in four off the default
 *   lane): `pool.run(fn, { priority })` + `drain()` against p-queue's `add(fn, { priority })` + `onIdle()`.
 * - single flight / retry: the hot paths (ready value, a run per call, first-try success,
 *   a getOrLoad miss) against the floor of one awaited promise per operation.
 *
 * `ASYNCSAFE_BENCH_DIST=1` measures the built package (dist/, after `npx tsup`) instead of
 * src through tsx: the independent check runs on the packed package.
 */
import pLimit from 'p-limit'
import PQueue from 'p-queue'
import { floorCase, runGroups, type BenchCase, type SuiteResult } from '../harness.js'
import type * as TasksModule from '../../src/tasks/index.js'
import type * as CacheModule from '../../src/cache/index.js'

const dist = process.env.ASYNCSAFE_BENCH_DIST === '1'
const tasks = (await import(dist ? '../../dist/tasks/index.js' : '../../src/tasks/index.js')) as typeof TasksModule
const cacheModule = (await import(dist ? '../../dist/cache/index.js' : '../../src/cache/index.js')) as typeof CacheModule
const { DetachedPool, Initializer, SingleFlightGroup, retry } = tasks

const trivial = async (): Promise<void> => {}
const one = async (): Promise<number> => 1

const FLOOR = 'floor: Promise.all(10k fn()) (unbounded)'
const PLIMIT = 'p-limit(8): Promise.all(10k limit(fn))'
const PQUEUE = 'p-queue({ concurrency: 8 }): 10k add(fn) + onIdle()'
const POOL = 'DetachedPool({ concurrency: 8 }) defaults (30 s timeout on): 10k run(fn) + drain()'
const POOL_NO_TIMEOUT = 'DetachedPool, timeoutMs: Infinity'
const POOL_OWN_TIMEOUT = 'DetachedPool, per-task timeoutMs (own timer each)'
const PLIMIT_AWAITED = 'p-limit(8): Promise.all(10k limit(fn)) (results)'
const PQUEUE_AWAITED = 'p-queue({ concurrency: 8 }): Promise.all(10k add(fn))'
const POOL_CALL = 'DetachedPool({ concurrency: 8 }) defaults: Promise.all(10k call(fn))'
const PQUEUE_PRIORITY = 'p-queue({ concurrency: 8 }): 10k add(fn, { priority: i % 4 }) + onIdle()'
const POOL_PRIORITY = 'DetachedPool({ concurrency: 8 }) defaults: 10k run(fn, { priority: i % 4 }) + drain()'

/** 10k `run(trivial)` on a fresh `DetachedPool({ concurrency: 8, ...options })`, then `drain()`. */
function poolCase(name: string, options: TasksModule.DetachedPoolOptions, runOptions?: TasksModule.DetachedRunOptions): BenchCase {
  return {
    name,
    run: async (n) => {
      const pool = new DetachedPool({ concurrency: 8, ...options })
      for (let i = 0; i < n; i++) pool.run(trivial, runOptions)
      await pool.drain()
    },
  }
}

export default async function tasksSuite(): Promise<SuiteResult> {
  const ready = new Initializer(one)
  await ready.get()
  const flights = new SingleFlightGroup<number, number>()
  const cache = new cacheModule.LruTtlCache<number, number>({ capacity: 64 })
  let key = 0
  // The same floor in every group: 10k trivial fns, unbounded.
  const floorCase10k: BenchCase = {
    name: FLOOR,
    run: async (n) => {
      const all: Promise<void>[] = []
      for (let i = 0; i < n; i++) all.push(trivial())
      await Promise.all(all)
    },
  }
  const result = await runGroups(`tasks${dist ? ' (dist)' : ''}`, [
    {
      name: 'detached: 10,000 trivial async fns, limit 8',
      batch: 10_000,
      reps: 25,
      cases: [
        floorCase10k,
        {
          name: PLIMIT,
          run: async (n) => {
            const limit = pLimit(8)
            const all: Promise<void>[] = []
            for (let i = 0; i < n; i++) all.push(limit(trivial))
            await Promise.all(all)
          },
        },
        {
          name: PQUEUE,
          run: async (n) => {
            const queue = new PQueue({ concurrency: 8 })
            // p-queue's own fire-and-forget form, measured as its users write it (onIdle observes the end).
            // eslint-disable-next-line asyncsafe/no-floating-detached
            for (let i = 0; i < n; i++) void queue.add(trivial)
            await queue.onIdle()
          },
        },
        poolCase(POOL, {}),
        poolCase(POOL_NO_TIMEOUT, { timeoutMs: Infinity }),
        poolCase(POOL_OWN_TIMEOUT, {}, { timeoutMs: 20_000 }),
      ],
      ratios: [
        { case: POOL, base: FLOOR, max: 8 },
        { case: POOL, base: PLIMIT, max: 1 },
        { case: POOL, base: PQUEUE, max: 1 },
        { case: POOL_NO_TIMEOUT, base: FLOOR },
        { case: POOL_OWN_TIMEOUT, base: FLOOR },
        { case: PLIMIT, base: FLOOR },
        { case: PQUEUE, base: FLOOR },
      ],
    },
    {
      name: 'awaited results: 10,000 trivial async fns, limit 8, every result awaited',
      batch: 10_000,
      reps: 25,
      cases: [
        floorCase10k,
        {
          name: PLIMIT_AWAITED,
          run: async (n) => {
            const limit = pLimit(8)
            const all: Promise<number>[] = []
            for (let i = 0; i < n; i++) all.push(limit(one))
            await Promise.all(all)
          },
        },
        {
          name: PQUEUE_AWAITED,
          run: async (n) => {
            const queue = new PQueue({ concurrency: 8 })
            const all: Promise<number>[] = []
            for (let i = 0; i < n; i++) all.push(queue.add(one))
            await Promise.all(all)
          },
        },
        {
          name: POOL_CALL,
          run: async (n) => {
            const pool = new DetachedPool({ concurrency: 8 })
            const all: Promise<number>[] = []
            for (let i = 0; i < n; i++) all.push(pool.call(one))
            await Promise.all(all)
          },
        },
      ],
      ratios: [
        { case: POOL_CALL, base: FLOOR },
        { case: POOL_CALL, base: PLIMIT_AWAITED, max: 1 },
        { case: POOL_CALL, base: PQUEUE_AWAITED, max: 1 },
        { case: PLIMIT_AWAITED, base: FLOOR },
        { case: PQUEUE_AWAITED, base: FLOOR },
      ],
    },
    {
      name: 'priorities: 10,000 trivial async fns, limit 8, priorities 0..3',
      batch: 10_000,
      reps: 25,
      cases: [
        floorCase10k,
        {
          name: PQUEUE_PRIORITY,
          run: async (n) => {
            const queue = new PQueue({ concurrency: 8 })
            // eslint-disable-next-line asyncsafe/no-floating-detached
            for (let i = 0; i < n; i++) void queue.add(trivial, { priority: i & 3 })
            await queue.onIdle()
          },
        },
        {
          name: POOL_PRIORITY,
          run: async (n) => {
            const pool = new DetachedPool({ concurrency: 8 })
            for (let i = 0; i < n; i++) pool.run(trivial, { priority: i & 3 })
            await pool.drain()
          },
        },
      ],
      ratios: [
        { case: POOL_PRIORITY, base: FLOOR },
        { case: POOL_PRIORITY, base: PQUEUE_PRIORITY, max: 1 },
        { case: PQUEUE_PRIORITY, base: FLOOR },
      ],
    },
    {
      name: 'single flight and retry hot paths',
      batch: 20_000,
      cases: [
        floorCase,
        {
          name: 'Initializer.get() when ready',
          run: async (n) => {
            for (let i = 0; i < n; i++) await ready.get()
          },
        },
        {
          name: 'SingleFlightGroup.run (one caller, a run per call)',
          run: async (n) => {
            for (let i = 0; i < n; i++) await flights.run(i & 7, one)
          },
        },
        {
          name: 'retry (first try succeeds)',
          run: async (n) => {
            for (let i = 0; i < n; i++) await retry(one)
          },
        },
        {
          name: 'LruTtlCache.getOrLoad miss (a loader run per call)',
          run: async (n) => {
            for (let i = 0; i < n; i++) await cache.getOrLoad(key++, one)
          },
        },
      ],
      ratios: [
        { case: 'Initializer.get() when ready', base: floorCase.name },
        { case: 'SingleFlightGroup.run (one caller, a run per call)', base: floorCase.name },
        { case: 'retry (first try succeeds)', base: floorCase.name },
        { case: 'LruTtlCache.getOrLoad miss (a loader run per call)', base: floorCase.name },
      ],
    },
  ])
  await cache.clear()
  return result
}
