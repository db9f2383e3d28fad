/**
 * Locks: asyncsafe Mutex (statistics ON, the default) against the floor, a minimal
 * reference FIFO mutex, async-mutex 0.5 and asyncsafe's async-mutex compat adapter.
 * Every ratio is paired per repetition (see bench/harness.ts).
 *
 * Targets (issue 2): uncontended runExclusive and lock()+release() ≤ 3× the floor;
 * contended (100 tasks × 1000 runExclusive) ≤ 4× the no-lock floor; both ≥ 15× faster
 * than async-mutex runExclusive. The contended lock()+release() row (whose holds span an
 * await, so it really queues) and the "really contended" group are information, not targets.
 * The `clock: () => 0` row runs the same code with an injected clock that costs nothing:
 * it shows what the lock costs apart from its two clock reads per hold.
 */
import { Mutex as AsyncMutex } from 'async-mutex'
import { floorCase, groupMarkdown, runCpuGroup, runGroups, type GroupResult, type SuiteResult } from '../harness.js'
import { Mutex } from '../../src/locks/index.js'
import { Mutex as CompatMutex } from '../../src/locks/compat/async-mutex.js'

/** A minimal FIFO mutex (no stats, no abort, no timeout): the reference for "a lock costs this much". */
class RefMutex {
  private locked = false
  private readonly waiters: (() => void)[] = []
  private static readonly resolved = Promise.resolve()
  lock(): Promise<void> {
    if (!this.locked) {
      this.locked = true
      return RefMutex.resolved
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve))
  }
  unlock(): void {
    const next = this.waiters.shift()
    if (next === undefined) this.locked = false
    else next()
  }
  async runExclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    await this.lock()
    try {
      return await fn()
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


export default async function locks(): Promise<SuiteResult> {
  const m1 = new Mutex({ name: 'bench' })
  const m2 = new Mutex({ name: 'bench' })
  const mNoClock = new Mutex({ name: 'bench', clock: () => 0 })
  const ref = new RefMutex()
  const am = new AsyncMutex()
  const compat = new CompatMutex()

  const U_RUN = 'asyncsafe Mutex runExclusive(() => x)'
  const U_LOCK = 'asyncsafe Mutex (await lock()).release()'
  const U_NOCLOCK = 'asyncsafe Mutex runExclusive, clock: () => 0 (breakdown only)'
  const U_REF = 'ref FIFO mutex runExclusive'
  const U_AM = 'async-mutex 0.5 runExclusive'
  const U_COMPAT = 'asyncsafe/compat/async-mutex runExclusive'

  const uncontended = {
    name: 'Mutex uncontended (sequential awaits), statistics ON',
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
        name: U_NOCLOCK,
        run: async (n: number) => {
          let x = 0
          for (let i = 0; i < n; i++) x = await mNoClock.runExclusive(() => x + 1)
          return x
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
      { case: U_NOCLOCK, base: floorCase.name },
      { case: U_REF, base: floorCase.name },
      { case: U_COMPAT, base: floorCase.name },
      { case: U_AM, base: U_RUN, min: 15 },
      { case: U_AM, base: U_LOCK, min: 15 },
      { case: U_AM, base: U_COMPAT },
    ],
  }

  const C_FLOOR = 'C floor: no lock, await Promise.resolve(x)'
  const C_RUN = 'C asyncsafe Mutex runExclusive(() => x)'
  const C_LOCK = 'C asyncsafe Mutex (await lock()).release()'
  const C_REF = 'C ref FIFO mutex runExclusive'
  const C_AM = 'C async-mutex 0.5 runExclusive'
  const C_COMPAT = 'C asyncsafe/compat/async-mutex runExclusive'
  const c1 = new Mutex({ name: 'bench' })
  const c2 = new Mutex({ name: 'bench' })
  const cRef = new RefMutex()
  const cAm = new AsyncMutex()
  const cCompat = new CompatMutex()
  const contendedGroup = {
    name: `Mutex contended (${TASKS} tasks × 1000 runExclusive), statistics ON`,
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
      { case: C_RUN, base: C_FLOOR, max: 4 },
      { case: C_LOCK, base: C_FLOOR },
      { case: C_REF, base: C_FLOOR },
      { case: C_COMPAT, base: C_FLOOR },
      { case: C_AM, base: C_RUN, min: 15 },
      { case: C_AM, base: C_LOCK },
    ],
  }

  // Every hold spans an await, so every acquisition after the first really queues.
  const H_FLOOR = 'H floor: no lock, two awaits'
  const H_LOCK = 'H asyncsafe Mutex lock(), await, release()'
  const H_REF = 'H ref FIFO mutex lock(), await, unlock()'
  const H_AM = 'H async-mutex 0.5 acquire(), await, release()'
  const h1 = new Mutex({ name: 'bench' })
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
        name: H_REF,
        run: (n: number) =>
          concurrently(n, async (per) => {
            for (let i = 0; i < per; i++) {
              await hRef.lock()
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
      { case: H_AM, base: H_LOCK },
    ],
  }

  const result = await runGroups('locks', [uncontended, contendedGroup, heldGroup])
  const stats = h1.stats()
  const note = `\n\nSanity (really contended group): ${stats.acquisitions} acquisitions, ${stats.contended} contended, wait p50 ${stats.wait.p50.toFixed(4)} ms, hold p50 ${stats.hold.p50.toFixed(4)} ms.`
  const cpu = [await runCpuGroup(uncontended), await runCpuGroup(contendedGroup)]
  return {
    name: result.name,
    markdown: `${result.markdown}${note}\n\n${cpu.map(groupMarkdown).join('\n\n')}`,
    json: [...(result.json as GroupResult[]), ...cpu],
  }
}
