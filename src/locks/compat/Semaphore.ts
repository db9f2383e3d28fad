/**
 * async-mutex 0.5's `Semaphore`, rebuilt on asyncsafe's intrusive queue and histogram,
 * plus `stats()`. Behaviour follows async-mutex, not asyncsafe's conventions: priorities
 * (higher first, FIFO among equals), any real value (0 or negative means locked),
 * `setValue`, unscoped `release(weight)`, `cancel()` rejecting with one shared error,
 * `waitForUnlock`, and synchronous `Error('invalid weight …')` throws.
 *
 * @module
 */
import { LinkedQueue, QueueNode } from '../../internal/queue.js'
import { Histogram } from '../../internal/histogram.js'
import { defaultClock, type Clock } from '../../internal/clock.js'
import type { LockStats } from '../stats.js'
import { E_CANCELED, invalidWeight } from './errors.js'
import type { SemaphoreInterface } from './interfaces.js'
import { isThenable } from '../../internal/thenable.js'

class Entry extends QueueNode {
  constructor(
    readonly weight: number,
    readonly priority: number,
    readonly enqueuedAt: number,
    readonly resolve: (ticket: [number, SemaphoreInterface.Releaser]) => void,
    readonly reject: (error: unknown) => void,
  ) {
    super()
  }
}

/** Entries of one priority, FIFO. Levels are kept non-empty and sorted by priority, highest first. */
interface Level {
  readonly priority: number
  readonly queue: LinkedQueue<Entry>
}

interface UnlockWaiter {
  resolve(): void
  priority: number
}

/** Options accepted by the compat classes besides async-mutex's own arguments. */
export interface CompatStatsOptions {
  /** Name reported by `stats()`. */
  readonly name?: string
  /** Clock for `stats()`, milliseconds. Default `performance.now()`. */
  readonly clock?: Clock
}

/** Runs `callback(value)` and calls `release` once it settled. */
function runWith<T>(callback: SemaphoreInterface.Worker<T>, value: number, release: () => void): Promise<T> | T {
  let result: Promise<T> | T
  try {
    result = callback(value)
  } catch (error) {
    release()
    throw error
  }
  if (isThenable(result)) {
    return Promise.resolve(result).then(
      (v) => {
        release()
        return v
      },
      (error: unknown) => {
        release()
        throw error
      },
    )
  }
  release()
  return result
}

/** Index of the last element matching `predicate`, or -1. */
function findIndexFromEnd<T>(a: readonly T[], predicate: (e: T) => boolean): number {
  for (let i = a.length - 1; i >= 0; i--) if (predicate(a[i]!)) return i
  return -1
}

function insertSorted(a: UnlockWaiter[], v: UnlockWaiter): void {
  const i = findIndexFromEnd(a, (other) => v.priority <= other.priority)
  a.splice(i + 1, 0, v)
}

/**
 * A drop-in for async-mutex 0.5's `Semaphore` with statistics.
 *
 * Fairness: by priority (higher first), FIFO among equal priorities; a request that fits
 * is granted at once unless an entry of equal or higher priority waits.
 * Cancellation: `cancel()` rejects every pending request with the constructor's error
 * (default `E_CANCELED`); time limits come from `withTimeout`/`tryAcquire`.
 *
 * @example
 * ```ts
 * import { Semaphore } from 'asyncsafe/compat/async-mutex'
 * const sem = new Semaphore(2)
 * const [value, release] = await sem.acquire()
 * try { await work(value) } finally { release() }
 * ```
 */
export class Semaphore implements SemaphoreInterface {
  private _value: number
  private readonly _cancelError: Error
  private levels: Level[] = []
  private queued = 0
  private _weightedWaiters: (UnlockWaiter[] | undefined)[] = []
  /** Pending `waitForUnlock` callers: a release with none skips the scan of the weights. */
  private unlockWaiting = 0
  /** Highest weight of a pending `waitForUnlock`: the scan starts at or below it. */
  private maxUnlockWeight = 0
  private readonly clock: Clock
  private readonly statsName: string | undefined
  private acquisitions = 0
  private contended = 0
  /** @internal Counted by `withTimeout` decorators. */ _timeouts = 0
  private aborts = 0
  private readonly waitHist = new Histogram()
  private readonly holdHist = new Histogram()

  /**
   * @param value initial value, any number (0 or negative: locked)
   * @param cancelError rejection of `cancel()`ed requests (default the shared `E_CANCELED`)
   * @param options asyncsafe extension: `name` and `clock` for `stats()`
   */
  constructor(value: number, cancelError: Error = E_CANCELED, options?: CompatStatsOptions) {
    this._value = value
    this._cancelError = cancelError
    this.clock = options?.clock ?? defaultClock
    this.statsName = options?.name
  }

  /**
   * Waits for `weight` (default 1) and resolves with `[value before, releaser]`.
   * Throws synchronously when `weight <= 0`.
   *
   * @example
   * ```ts
   * const [value, release] = await sem.acquire(2, 10)
   * ```
   */
  acquire(weight = 1, priority = 0): Promise<[number, SemaphoreInterface.Releaser]> {
    if (weight <= 0) throw invalidWeight(weight)
    if (this.couldDispatchNow(weight, priority)) return Promise.resolve(this.grantNow(weight))
    return new Promise((resolve, reject) => {
      this.enqueue(new Entry(weight, priority, this.clock(), resolve, reject))
    })
  }

  /**
   * Runs `callback(value)` once `weight` is acquired and releases when it settles.
   *
   * @example
   * ```ts
   * await sem.runExclusive(async (value) => work(value), 1, 0)
   * ```
   */
  runExclusive<T>(callback: SemaphoreInterface.Worker<T>, weight = 1, priority = 0): Promise<T> {
    if (weight <= 0) return Promise.reject(invalidWeight(weight))
    // Granted now or queued, the value drops when granted (synchronously when free, as in
    // async-mutex) and the callback runs a microtask later, as after `await acquire()`.
    return this.acquire(weight, priority).then(([value, release]) => runWith(callback, value, release))
  }

  /**
   * Resolves once `weight` could be acquired (with `priority`), without acquiring it.
   *
   * @example
   * ```ts
   * await sem.waitForUnlock()
   * ```
   */
  waitForUnlock(weight = 1, priority = 0): Promise<void> {
    if (weight <= 0) throw invalidWeight(weight)
    if (this.couldLockImmediately(weight, priority)) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const list = (this._weightedWaiters[weight - 1] ??= [])
      insertSorted(list, { resolve, priority })
      this.unlockWaiting++
      if (weight > this.maxUnlockWeight) this.maxUnlockWeight = weight
    })
  }

  /** Whether the value is 0 or negative. */
  isLocked(): boolean {
    return this._value <= 0
  }

  /** The current value. */
  getValue(): number {
    return this._value
  }

  /** Sets the value and grants what now fits. */
  setValue(value: number): void {
    this._value = value
    this.dispatchQueue()
  }

  /** Unscoped release: adds `weight` (default 1) to the value. Throws when `weight <= 0`. */
  release(weight = 1): void {
    if (weight <= 0) throw invalidWeight(weight)
    this._value += weight
    this.dispatchQueue()
  }

  /** Rejects every pending request with the cancel error; held locks stay held. */
  cancel(): void {
    const error = this._cancelError
    const levels = this.levels
    this.levels = []
    this.queued = 0
    for (const level of levels) {
      for (let e = level.queue.shift(); e !== undefined; e = level.queue.shift()) {
        this.aborts++
        e.reject(error)
      }
    }
  }

  /**
   * asyncsafe extension: counters and wait/hold summaries. `aborts` counts requests
   * rejected by `cancel()`, `timeouts` those rejected by a `withTimeout`/`tryAcquire`
   * decorator; holds are measured from grant to the releaser's call.
   *
   * @example
   * ```ts
   * sem.stats().wait.p99
   * ```
   */
  stats(): LockStats {
    return {
      name: this.statsName,
      acquisitions: this.acquisitions,
      contended: this.contended,
      timeouts: this._timeouts,
      aborts: this.aborts,
      longHolds: 0,
      wait: this.waitHist.summary(),
      hold: this.holdHist.summary(),
    }
  }

  private couldDispatchNow(weight: number, priority: number): boolean {
    // async-mutex: no queued entry with priority >= ours, and the weight fits.
    if (!(weight <= this._value)) return false
    for (const level of this.levels) if (priority <= level.priority) return false
    return true
  }

  private couldLockImmediately(weight: number, priority: number): boolean {
    return (this.queued === 0 || this.levels[0]!.priority < priority) && weight <= this._value
  }

  private enqueue(entry: Entry): void {
    const levels = this.levels
    let i = 0
    while (i < levels.length && levels[i]!.priority > entry.priority) i++
    let level = levels[i]
    if (level?.priority !== entry.priority) {
      // A NaN priority never equals a level: like async-mutex, it goes in front of lower ones.
      level = { priority: entry.priority, queue: new LinkedQueue<Entry>() }
      levels.splice(i, 0, level)
    }
    level.queue.push(entry)
    this.queued++
  }

  /** An uncontended grant: its wait is exactly 0. */
  private grantNow(weight: number): [number, SemaphoreInterface.Releaser] {
    this.acquisitions++
    this.waitHist.record(0)
    return this.take(weight, this.clock())
  }

  private take(weight: number, now: number): [number, SemaphoreInterface.Releaser] {
    const previous = this._value
    this._value -= weight
    let called = false
    const release = (): void => {
      if (called) return
      called = true
      this.holdHist.record(this.clock() - now)
      this.release(weight)
    }
    return [previous, release]
  }

  private dispatchQueue(): void {
    this.drainUnlockWaiters()
    let now = NaN
    while (this.queued > 0) {
      const level = this.levels[0]!
      const head = level.queue.peek()!
      if (head.weight > this._value) break
      level.queue.shift()
      this.queued--
      if (level.queue.size === 0) this.levels.shift()
      if (now !== now) now = this.clock()
      this.acquisitions++
      this.contended++
      this.waitHist.record(now - head.enqueuedAt)
      head.resolve(this.take(head.weight, now))
      this.drainUnlockWaiters()
    }
  }

  private drainUnlockWaiters(): void {
    if (this.unlockWaiting === 0) return
    const waitersByWeight = this._weightedWaiters
    // async-mutex scans weights value, value - 1, … down to above 0. Weights above the
    // highest pending one hold nobody: skip them whole steps at a time, keeping the
    // fractional part of the value (a step that is exact, like each `- 1` it replaces).
    const start = this._value - Math.max(0, Math.ceil(this._value - this.maxUnlockWeight))
    let resolved = 0
    if (this.queued === 0) {
      for (let weight = start; weight > 0; weight--) {
        const waiters = waitersByWeight[weight - 1]
        if (!waiters) continue
        resolved += waiters.length
        waiters.forEach((waiter) => {
          waiter.resolve()
        })
        waitersByWeight[weight - 1] = []
      }
    } else {
      const queuedPriority = this.levels[0]!.priority
      for (let weight = start; weight > 0; weight--) {
        const waiters = waitersByWeight[weight - 1]
        if (!waiters) continue
        const i = waiters.findIndex((waiter) => waiter.priority <= queuedPriority)
        const ready = i === -1 ? waiters.splice(0) : waiters.splice(0, i)
        resolved += ready.length
        ready.forEach((waiter) => {
          waiter.resolve()
        })
      }
    }
    this.unlockWaiting -= resolved
    if (this.unlockWaiting === 0) this.maxUnlockWeight = 0
  }
}
