/**
 * Keyed locks: asyncsafe KeyedMutex (statistics ON, the default) against async-lock 1.5
 * (`acquire(key | keys, fn)`) and the no-lock floor, each callback awaiting once (the
 * common case: the lock guards async work). Every ratio is paired per repetition (see
 * bench/harness.ts). `npm run bench -- 15`.
 *
 * Groups:
 * - one key, contended: 100 tasks share one key;
 * - many distinct keys: sequential awaits, a new key every operation (each key's state is
 *   created, then freed when idle);
 * - several keys: 100 tasks, each request takes 2 keys of a pool of 16 (overlapping sets).
 *   KeyedMutex gets each pair in random order and sorts it itself. async-lock takes keys
 *   in the order given (it deduplicates, never sorts), so crossed pairs deadlock it
 *   (measured: this group hung before the pairs were sorted for it); it gets the pairs
 *   pre-sorted.
 */
import AsyncLock from 'async-lock'
import { groupMarkdown, runCpuGroup, runGroups, type GroupResult, type GroupSpec, type SuiteResult } from '../harness.js'
import { KeyedMutex } from '../../src/locks/index.js'

const TASKS = 100

/** Runs `task(per, t)` as `TASKS` concurrent tasks sharing `n` operations. */
async function concurrently(n: number, task: (per: number, t: number) => Promise<unknown>): Promise<void> {
  const per = Math.ceil(n / TASKS)
  const tasks: Promise<unknown>[] = []
  for (let t = 0; t < TASKS; t++) tasks.push(task(per, t))
  await Promise.all(tasks)
}

/** The guarded work: one await. */
async function work(x: number): Promise<number> {
  await Promise.resolve()
  return x + 1
}

export default async function keyedLocks(): Promise<SuiteResult> {
  // ---- one key, contended ----
  const S_FLOOR = 'S floor: no lock, await work()'
  const S_KM = 'S asyncsafe KeyedMutex runExclusive(key, work)'
  const S_AL = 'S async-lock acquire(key, work)'
  const sKm = new KeyedMutex<string>({ name: 'bench' })
  const sAl = new AsyncLock({ maxPending: Infinity })
  const single: GroupSpec = {
    name: `One key, contended (${TASKS} tasks), callback awaits once`,
    batch: 20_000,
    reps: 11,
    cases: [
      {
        name: S_FLOOR,
        run: (n) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++) x = await work(x)
            return x
          }),
      },
      {
        name: S_KM,
        run: (n) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++) x = await sKm.runExclusive('k', () => work(x))
            return x
          }),
      },
      {
        name: S_AL,
        run: (n) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++) x = await sAl.acquire('k', () => work(x))
            return x
          }),
      },
    ],
    ratios: [
      { case: S_KM, base: S_FLOOR },
      { case: S_AL, base: S_FLOOR },
      { case: S_AL, base: S_KM },
    ],
  }

  // ---- many distinct keys ----
  const D_FLOOR = 'D floor: no lock, await work()'
  const D_KM = 'D asyncsafe KeyedMutex runExclusive(newKey, work)'
  const D_AL = 'D async-lock acquire(newKey, work)'
  const DISTINCT = 20_000
  const keys = Array.from({ length: DISTINCT }, (_, i) => `key:${i}`)
  const dKm = new KeyedMutex<string>({ name: 'bench' })
  const dAl = new AsyncLock()
  const distinct: GroupSpec = {
    name: 'Many distinct keys (sequential awaits, a new key each time), callback awaits once',
    batch: DISTINCT,
    reps: 11,
    cases: [
      {
        name: D_FLOOR,
        run: async (n) => {
          let x = 0
          for (let i = 0; i < n; i++) x = await work(x)
          return x
        },
      },
      {
        name: D_KM,
        run: async (n) => {
          let x = 0
          for (let i = 0; i < n; i++) x = await dKm.runExclusive(keys[i]!, () => work(x))
          return x
        },
      },
      {
        name: D_AL,
        run: async (n) => {
          let x = 0
          for (let i = 0; i < n; i++) x = await dAl.acquire(keys[i]!, () => work(x))
          return x
        },
      },
    ],
    ratios: [
      { case: D_KM, base: D_FLOOR },
      { case: D_AL, base: D_FLOOR },
      { case: D_AL, base: D_KM },
    ],
  }

  // ---- several keys ----
  const M_FLOOR = 'M floor: no lock, await work()'
  const M_KM = 'M asyncsafe KeyedMutex runExclusive([k1, k2], work)'
  const M_AL = 'M async-lock acquire([k1, k2] pre-sorted, work)'
  const POOL = 16
  const PAIRS = 4096
  let seed = 42
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    return seed / 2 ** 31
  }
  const pairs: string[][] = Array.from({ length: PAIRS }, () => {
    const a = Math.floor(random() * POOL)
    const b = (a + 1 + Math.floor(random() * (POOL - 1))) % POOL
    return [`key:${a}`, `key:${b}`]
  })
  const sortedPairs = pairs.map((p) => [...p].sort())
  const mKm = new KeyedMutex<string>({ name: 'bench' })
  const mAl = new AsyncLock({ maxPending: Infinity })
  const multi: GroupSpec = {
    name: `Several keys (${TASKS} tasks, 2 keys of ${POOL} per request), callback awaits once`,
    batch: 20_000,
    reps: 11,
    cases: [
      {
        name: M_FLOOR,
        run: (n) =>
          concurrently(n, async (per) => {
            let x = 0
            for (let i = 0; i < per; i++) x = await work(x)
            return x
          }),
      },
      {
        name: M_KM,
        run: (n) =>
          concurrently(n, async (per, t) => {
            let x = 0
            for (let i = 0; i < per; i++) x = await mKm.runExclusive(pairs[(t * per + i) % PAIRS]!, () => work(x))
            return x
          }),
      },
      {
        name: M_AL,
        run: (n) =>
          concurrently(n, async (per, t) => {
            let x = 0
            for (let i = 0; i < per; i++) x = await mAl.acquire(sortedPairs[(t * per + i) % PAIRS]!, () => work(x))
            return x
          }),
      },
    ],
    ratios: [
      { case: M_KM, base: M_FLOOR },
      { case: M_AL, base: M_FLOOR },
      { case: M_AL, base: M_KM },
    ],
  }

  const result = await runGroups('keyed-locks', [single, distinct, multi])
  const st = mKm.stats()
  const note = `\n\nSanity: active keys after the run ${sKm.size + dKm.size + mKm.size}; several-keys group: ${st.acquisitions} key grants, ${st.contended} contended, wait p50 ${st.wait.p50.toFixed(4)} ms.`
  const cpu = [await runCpuGroup(single), await runCpuGroup(distinct), await runCpuGroup(multi)]
  return {
    name: result.name,
    markdown: `${result.markdown}${note}\n\n${cpu.map(groupMarkdown).join('\n\n')}`,
    json: [...(result.json as GroupResult[]), ...cpu],
  }
}
