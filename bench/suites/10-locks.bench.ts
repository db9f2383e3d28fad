/**
 * Locks: asyncsafe Mutex (statistics ON, the default, and `stats: false`) against the
 * floor, the tightest honest reference FIFO mutex we could write, async-mutex 0.5 and
 * asyncsafe's async-mutex compat adapter. Every ratio is paired per repetition (see
 * bench/harness.ts); the main groups are also timed in process CPU time.
 *
 * The workload users run is a critical section that awaits: 100 tasks each doing
 * `await m.runExclusive(async () => { await null; return x + 1 })`. Its floor is the
 * same work without a lock (the callback called and awaited directly).
 *
 * Targets (issue 9): contended, with statistics on, at most 3× the no-lock floor and at
 * least 8× faster than async-mutex, with an awaiting and with a synchronous callback;
 * uncontended runExclusive and lock()+release() at most 3× `await Promise.resolve()`
 * (and, as since issue 2, at least 15× faster than async-mutex there).
 */
/* eslint-disable @typescript-eslint/await-thenable -- the workload awaits a bare value (`await null`): one microtask hop, as the issue's callbacks do */
import { Mutex as AsyncMutex } from 'async-mutex'
import { floorCase, groupMarkdown, runCpuGroup, runGroups, runIsolatedPairs, type GroupResult, type GroupSpec, type SuiteResult } from '../harness.js'
import { Mutex } from '../../src/locks/index.js'
import { Mutex as CompatMutex } from '../../src/locks/compat/async-mutex.js'

/**
 * The reference: a minimal FIFO mutex written as tightly as we could. Free: no promise at
 * all. Busy: one promise whose resolver waits in an array (head index, no shift); release
 * hands the lock straight to the next resolver. No statistics, abort or timeout.
 */
class RefMutex {
  private locked = false
  private waiters: (() => void)[] = []
  private head = 0

  lock(): Promise<void> | undefined {
    if (!this.locked) {
      this.locked = true
      return undefined
    }
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve)
    })
  }

  unlock(): void {
    if (this.head === this.waiters.length) {
      this.locked = false
      this.waiters.length = 0
      this.head = 0
      return
    }
    const next = this.waiters[this.head]!
    this.waiters[this.head++] = undefined as never
    next()
  }

  async runExclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    const wait = this.lock()
    if (wait !== undefined) await wait
    try {
      const result = fn()
      return result instanceof Promise ? await result : result
    } finally {
      this.unlock()
    }
  }
}

const TASKS = 100

/** Runs `task(per)` as `TASKS` concurrent tasks sharing `n` operations. */
async function concurrently(n: number, task: (per: number) => Promise<unknown>): Promise<void> {
  const per = Math.ceil(n / TASKS)
  const tasks: Promise<unknown>[] = []
  for (let t = 0; t < TASKS; t++) tasks.push(task(per))
  await Promise.all(tasks)
}

/** Locks read by the sanity note (set by the last `lockGroups()` call). */
let probes: { aRun: Mutex; aBare: Mutex } | undefined

/** The groups, by key; also run one ratio at a time in child processes (bench/pair.ts). */
export function lockGroups(): Record<string, GroupSpec> {
  // ---- uncontended: sequential awaits, the lock is always free --------------------
  const m1 = new Mutex({ name: 'bench' })
  const m2 = new Mutex({ name: 'bench' })
  const m3 = new Mutex({ name: 'bench', stats: false })
  const m4 = new Mutex({ name: 'bench', stats: false })
  const ref = new RefMutex()
  const am = new AsyncMutex()
  const compat = new CompatMutex()

  const U_RUN = 'asyncsafe Mutex runExclusive(() => x)'
  const U_LOCK = 'asyncsafe Mutex (await lock()).release()'
  const U_RUN_BARE = 'asyncsafe Mutex stats: false runExclusive(() => x)'
  const U_LOCK_BARE = 'asyncsafe Mutex stats: false (await lock()).release()'
  const U_REF = 'ref FIFO mutex runExclusive'
  const U_AM = 'async-mutex 0.5 runExclusive'
  const U_COMPAT = 'asyncsafe/compat/async-mutex runExclusive'

  const uncontended = {
    name: 'Mutex uncontended (sequential awaits)',
    batch: 50_000,
    reps: 15,
    cases: [
      floorCase,
      // One loop per case (no shared helper), so no case pays for a megamorphic call site.
      {
        name: U_RUN,
        run: async (n: number) => {
          let x = 0
          for (let i = 0; i < n; i++) x = await m1.runExclusive(() => x + 1)
          return x
        },
      },
      {
        name: U_LOCK,
        run: async (n: number) => {
          for (let i = 0; i < n; i++) (await m2.lock()).release()
        },
      },
      {
        name: U_RUN_BARE,
        run: async (n: number) => {
          let x = 0
          for (let i = 0; i < n; i++) x = await m3.runExclusive(() => x + 1)
          return x
        },
      },
      {
        name: U_LOCK_BARE,
        run: async (n: number) => {
          for (let i = 0; i < n; i++) (await m4.lock()).release()
        },
      },
      {
        name: U_REF,
        run: async (n: number) => {
          let x = 0
          for (let i = 0; i < n; i++) x = await ref.runExclusive(() => x + 1)
          return x
        },
      },
      {
        name: U_AM,
        run: async (n: number) => {
          let x = 0
          for (let i = 0; i < n; i++) x = await am.runExclusive(() => x + 1)
          return x
        },
      },
      {
        name: U_COMPAT,
        run: async (n: number) => {
          let x = 0
          for (let i = 0; i < n; i++) x = await compat.runExclusive(() => x + 1)
          return x
        },
      },
    ],
    ratios: [
      { case: U_RUN, base: floorCase.name, max: 3 },
      { case: U_LOCK, base: floorCase.name, max: 3 },
      { case: U_RUN_BARE, base: floorCase.name },
      { case: U_LOCK_BARE, base: floorCase.name },
      { case: U_REF, base: floorCase.name },
      { case: U_RUN, base: U_REF },
      { case: U_COMPAT, base: floorCase.name },
      { case: U_AM, base: U_RUN, min: 15 },
      { case: U_AM, base: U_LOCK, min: 15 },
      { case: U_AM, base: U_COMPAT },
    ],
  }

  // ---- contended, the callback awaits once inside the lock (the workload users run) --
  const A_FLOOR = 'A floor: no lock, await (async () => { await null; return x + 1 })()'
  const A_RUN = 'A asyncsafe Mutex runExclusive(async () => { await null; return x + 1 })'
  const A_BARE = 'A asyncsafe Mutex stats: false runExclusive(async…)'
  const A_REF = 'A ref FIFO mutex runExclusive(async…)'
  const A_AM = 'A async-mutex 0.5 runExclusive(async…)'
  const A_COMPAT = 'A asyncsafe/compat/async-mutex runExclusive(async…)'
  const aRun = new Mutex({ name: 'bench' })
  const aBare = new Mutex({ name: 'bench', stats: false })
  const aRef = new RefMutex()
  const aAm = new AsyncMutex()
  const aCompat = new CompatMutex()
  const awaiting = {
    name: `Mutex contended, callback awaits (${TASKS} tasks × 1000 runExclusive)`,
    batch: TASKS * 1000,
    reps: 11,
    cases: [
      {
        name: A_FLOOR,
        run: (n: number) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++)
              x = await (async () => {
                await null
                return x + 1
              })()
            return x
          }),
      },
      {
        name: A_RUN,
        run: (n: number) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++)
              x = await aRun.runExclusive(async () => {
                await null
                return x + 1
              })
            return x
          }),
      },
      {
        name: A_BARE,
        run: (n: number) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++)
              x = await aBare.runExclusive(async () => {
                await null
                return x + 1
              })
            return x
          }),
      },
      {
        name: A_REF,
        run: (n: number) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++)
              x = await aRef.runExclusive(async () => {
                await null
                return x + 1
              })
            return x
          }),
      },
      {
        name: A_AM,
        run: (n: number) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++)
              x = await aAm.runExclusive(async () => {
                await null
                return x + 1
              })
            return x
          }),
      },
      {
        name: A_COMPAT,
        run: (n: number) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++)
              x = await aCompat.runExclusive(async () => {
                await null
                return x + 1
              })
            return x
          }),
      },
    ],
    ratios: [
      { case: A_RUN, base: A_FLOOR, max: 3 },
      { case: A_BARE, base: A_FLOOR },
      { case: A_REF, base: A_FLOOR },
      { case: A_RUN, base: A_REF },
      { case: A_BARE, base: A_REF },
      { case: A_AM, base: A_RUN, min: 8 },
      { case: A_COMPAT, base: A_FLOOR },
    ],
  }

  // ---- contended, synchronous callback ------------------------------------------------
  const C_FLOOR = 'C floor: no lock, await Promise.resolve(x + 1)'
  const C_RUN = 'C asyncsafe Mutex runExclusive(() => x + 1)'
  const C_LOCK = 'C asyncsafe Mutex (await lock()).release()'
  const C_REF = 'C ref FIFO mutex runExclusive(() => x + 1)'
  const C_AM = 'C async-mutex 0.5 runExclusive(() => x + 1)'
  const C_COMPAT = 'C asyncsafe/compat/async-mutex runExclusive'
  const c1 = new Mutex({ name: 'bench' })
  const c2 = new Mutex({ name: 'bench' })
  const cRef = new RefMutex()
  const cAm = new AsyncMutex()
  const cCompat = new CompatMutex()
  const syncGroup = {
    name: `Mutex contended, synchronous callback (${TASKS} tasks × 1000 runExclusive)`,
    batch: TASKS * 1000,
    reps: 11,
    // Each case has its own task loop (no shared call site), like the floor.
    cases: [
      {
        name: C_FLOOR,
        run: (n: number) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++) x = await Promise.resolve(x + 1)
            return x
          }),
      },
      {
        name: C_RUN,
        run: (n: number) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++) x = await c1.runExclusive(() => x + 1)
            return x
          }),
      },
      {
        name: C_LOCK,
        run: (n: number) =>
          concurrently(n, async (per) => {
            for (let i = 0; i < per; i++) (await c2.lock()).release()
          }),
      },
      {
        name: C_REF,
        run: (n: number) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++) x = await cRef.runExclusive(() => x + 1)
            return x
          }),
      },
      {
        name: C_AM,
        run: (n: number) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++) x = await cAm.runExclusive(() => x + 1)
            return x
          }),
      },
      {
        name: C_COMPAT,
        run: (n: number) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++) x = await cCompat.runExclusive(() => x + 1)
            return x
          }),
      },
    ],
    ratios: [
      { case: C_RUN, base: C_FLOOR, max: 3 },
      { case: C_LOCK, base: C_FLOOR },
      { case: C_REF, base: C_FLOOR },
      { case: C_COMPAT, base: C_FLOOR },
      { case: C_AM, base: C_RUN, min: 8 },
      { case: C_AM, base: C_LOCK },
    ],
  }

  // ---- every hold spans an await, so every acquisition after the first really queues ---
  const H_FLOOR = 'H floor: no lock, two awaits'
  const H_LOCK = 'H asyncsafe Mutex lock(), await, release()'
  const H_LONG = 'H asyncsafe Mutex longHoldMs: 1000, lock(), await, release()'
  const H_REF = 'H ref FIFO mutex lock(), await, unlock()'
  const H_AM = 'H async-mutex 0.5 acquire(), await, release()'
  const h1 = new Mutex({ name: 'bench' })
  const hLong = new Mutex({ name: 'bench', longHoldMs: 1_000 })
  const hRef = new RefMutex()
  const hAm = new AsyncMutex()
  const heldGroup = {
    name: `Mutex really contended (${TASKS} tasks, each hold spans an await), statistics ON`,
    batch: TASKS * 500,
    reps: 11,
    cases: [
      {
        name: H_FLOOR,
        run: (n: number) =>
          concurrently(n, async (per) => {
            for (let i = 0; i < per; i++) {
              await Promise.resolve()
              await Promise.resolve()
            }
          }),
      },
      {
        name: H_LOCK,
        run: (n: number) =>
          concurrently(n, async (per) => {
            for (let i = 0; i < per; i++) {
              const g = await h1.lock()
              await Promise.resolve()
              g.release()
            }
          }),
      },
      {
        name: H_LONG,
        run: (n: number) =>
          concurrently(n, async (per) => {
            for (let i = 0; i < per; i++) {
              const g = await hLong.lock()
              await Promise.resolve()
              g.release()
            }
          }),
      },
      {
        name: H_REF,
        run: (n: number) =>
          concurrently(n, async (per) => {
            for (let i = 0; i < per; i++) {
              const wait = hRef.lock()
              if (wait !== undefined) await wait
              await Promise.resolve()
              hRef.unlock()
            }
          }),
      },
      {
        name: H_AM,
        run: (n: number) =>
          concurrently(n, async (per) => {
            for (let i = 0; i < per; i++) {
              const release = await hAm.acquire()
              await Promise.resolve()
              release()
            }
          }),
      },
    ],
    ratios: [
      { case: H_LOCK, base: H_FLOOR },
      { case: H_REF, base: H_FLOOR },
      { case: H_LOCK, base: H_REF },
      { case: H_LONG, base: H_LOCK },
      { case: H_AM, base: H_LOCK },
    ],
  }

  probes = { aRun, aBare }
  return { uncontended, awaiting, sync: syncGroup, held: heldGroup }
}

/** The target ratios, each measured in its own process (see `runIsolatedPairs`). */
function isolatedTargets(groups: Record<string, GroupSpec>): { group: string; ratio: GroupSpec['ratios'][number] }[] {
  const pick = (group: string, filter: (r: GroupSpec['ratios'][number]) => boolean) => groups[group]!.ratios.filter(filter).map((ratio) => ({ group, ratio }))
  const targetOrBare = (r: GroupSpec['ratios'][number]): boolean => r.max !== undefined || r.min !== undefined || r.case.includes('stats: false') || r.case.startsWith('ref') || r.case.startsWith('A ref')
  return [...pick('uncontended', targetOrBare), ...pick('awaiting', targetOrBare), ...pick('sync', (r) => r.max !== undefined || r.min !== undefined)]
}

export default async function locks(): Promise<SuiteResult> {
  const groups = lockGroups()
  const { uncontended, awaiting, sync: syncGroup, held: heldGroup } = groups as Record<string, GroupSpec> & Record<'uncontended' | 'awaiting' | 'sync' | 'held', GroupSpec>
  const result = await runGroups('locks', [uncontended, awaiting, syncGroup, heldGroup])
  const { aRun, aBare } = probes!
  const stats = aRun.stats()
  const note =
    `\n\nSanity (awaiting group, statistics on): ${stats.acquisitions} acquisitions, ${stats.contended} contended, ` +
    `wait p50 ${stats.wait.p50.toFixed(4)} ms, hold p50 ${stats.hold.p50.toFixed(4)} ms; stats: false counted ` +
    `${aBare.stats().acquisitions} acquisitions with empty summaries (hold count ${aBare.stats().hold.count}).`
  const cpu = [await runCpuGroup(uncontended), await runCpuGroup(awaiting), await runCpuGroup(syncGroup)]
  const isolated = await runIsolatedPairs('Mutex target ratios', import.meta.url, 'lockGroups', isolatedTargets(groups))
  cpu.unshift(isolated)
  return {
    name: result.name,
    markdown: `${result.markdown}${note}\n\n${cpu.map(groupMarkdown).join('\n\n')}`,
    json: [...(result.json as GroupResult[]), ...cpu],
  }
}
