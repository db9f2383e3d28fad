/**
 * tasks: what the safety of DetachedPool, Initializer, SingleFlightGroup and retry costs.
 *
 * - detached: 10,000 trivial async functions, at most 8 at once, awaited to the end;
 *   paired against running them all directly (`Promise.all`, no bound) and against
 *   p-limit(8). The pool starts each task on a microtask, gives it an AbortController,
 *   and (in the "timeout" case) arms and clears a timer per task.
 * - init/flight/retry: the hot paths (ready value, single caller, first-try success)
 *   against the floor of one awaited promise per operation.
 */
import pLimit from 'p-limit'
import { floorCase, runGroups, type SuiteResult } from '../harness.js'
import { DetachedPool } from '../../src/tasks/DetachedPool.js'
import { Initializer } from '../../src/tasks/Initializer.js'
import { SingleFlightGroup } from '../../src/tasks/SingleFlightGroup.js'
import { retry } from '../../src/tasks/retry.js'

const trivial = async (): Promise<number> => 1

export default async function tasksSuite(): Promise<SuiteResult> {
  const limit = pLimit(8)
  const ready = new Initializer(async () => 1)
  await ready.get()
  const flights = new SingleFlightGroup<number, number>()
  return runGroups('tasks', [
    {
      name: 'detached: 10,000 trivial async fns, limit 8',
      batch: 10_000,
      reps: 15,
      cases: [
        {
          name: 'Promise.all direct (unbounded)',
          run: async (n) => {
            const all: Promise<number>[] = []
            for (let i = 0; i < n; i++) all.push(trivial())
            await Promise.all(all)
          },
        },
        {
          name: 'p-limit(8)',
          run: async (n) => {
            const all: Promise<number>[] = []
            for (let i = 0; i < n; i++) all.push(limit(trivial))
            await Promise.all(all)
          },
        },
        {
          name: 'DetachedPool(8), no timeout',
          run: async (n) => {
            const pool = new DetachedPool({ concurrency: 8, maxQueue: n, timeoutMs: Infinity })
            for (let i = 0; i < n; i++) pool.run(trivial)
            await pool.drain()
          },
        },
        {
          name: 'DetachedPool(8), 500 ms timeout per task',
          run: async (n) => {
            const pool = new DetachedPool({ concurrency: 8, maxQueue: n, timeoutMs: 500 })
            for (let i = 0; i < n; i++) pool.run(trivial)
            await pool.drain()
          },
        },
      ],
      ratios: [
        { case: 'DetachedPool(8), no timeout', base: 'p-limit(8)' },
        { case: 'DetachedPool(8), 500 ms timeout per task', base: 'p-limit(8)' },
        { case: 'DetachedPool(8), no timeout', base: 'Promise.all direct (unbounded)' },
        { case: 'p-limit(8)', base: 'Promise.all direct (unbounded)' },
      ],
    },
    {
      name: 'single flight hot paths',
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
          name: 'SingleFlightGroup.run (one caller, async fn)',
          run: async (n) => {
            for (let i = 0; i < n; i++) await flights.run(i & 7, trivial)
          },
        },
        {
          name: 'retry (first try succeeds)',
          run: async (n) => {
            for (let i = 0; i < n; i++) await retry(trivial)
          },
        },
      ],
      ratios: [
        { case: 'Initializer.get() when ready', base: floorCase.name },
        { case: 'SingleFlightGroup.run (one caller, async fn)', base: floorCase.name },
        { case: 'retry (first try succeeds)', base: floorCase.name },
      ],
    },
  ])
}
