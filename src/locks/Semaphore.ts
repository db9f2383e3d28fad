/**
 * `Semaphore`: `permits` units handed out in strict FIFO order.
 *
 * @module
 */
import type { AbortSignal } from '../internal/types.js'
import { checkFunction, checkOptions, checkPositiveInteger, checkSignal, describe, knownOptions } from '../internal/validate.js'
import { LockCore, parseWaitOptions } from './core.js'
import type { Permit } from './guard.js'
import type { LockOptions, LockStats, WaitOptions } from './stats.js'

/** Options of `new Semaphore(permits, options)` (permits may be taken several times by one flow, so there is no re-entry detection). */
export type SemaphoreOptions = Omit<LockOptions, 'detectReentry'>

/** Options of `Semaphore.acquire`: a wait plus its queue priority. */
export interface SemaphoreAcquireOptions extends WaitOptions {
  /**
   * Queue priority, a finite number (default 0): a waiter is queued ahead of every waiter
   * of lower priority and behind those of equal or higher priority (FIFO among equals).
   * It never takes permits while anyone waits ahead of it, and a free semaphore grants at
   * once whatever the priority.
   */
  readonly priority?: number | undefined
}

/** Options of `Semaphore.run`: a wait, its queue priority, and how many permits to hold. */
export interface SemaphoreRunOptions extends SemaphoreAcquireOptions {
  /** Permits to hold while `fn` runs. Default 1. */
  readonly weight?: number
}

/** Options of `Semaphore.onIdle` and `Semaphore.onSizeLessThan`. */
export interface QueueWaitOptions {
  /** Aborting it rejects the wait with `signal.reason` and removes its listener. */
  readonly signal?: AbortSignal | undefined
}

const QUEUE_WAIT_OPTIONS = knownOptions(['signal'])

function parseQueueWait(options: unknown): AbortSignal | undefined {
  return checkSignal('options.signal', checkOptions<QueueWaitOptions>('options', options, QUEUE_WAIT_OPTIONS).signal ?? undefined)
}

/**
 * An async counting semaphore.
 *
 * Fairness: strict FIFO, also across weights: a request for 3 permits at the head of the
 * queue is not overtaken by later requests for 1 (no starvation of large requests).
 * `tryAcquire()` fails while anyone waits. A `priority` (acquire/run option) orders the
 * queue: higher first, FIFO among equals; a steady stream of higher-priority requests
 * can starve lower ones, as with any priority queue. `pause()`/`resume()` stop and
 * restart grants; `onIdle()` and `onSizeLessThan(n)` wait for the queue to drain.
 *
 * Cancellation: `{ signal, timeoutMs }` per wait; an aborted or timed-out waiter leaves the
 * queue at once and the waiters behind it are granted if they now fit. `close(reason)`
 * rejects every current and future waiter (with `reason`, or a fresh `ClosedError`);
 * permits already held stay valid and may be released normally.
 *
 * @example
 * ```ts
 * const sem = new Semaphore(4, { name: 'uploads' })
 * await sem.run(() => upload(file), { weight: 1, timeoutMs: 10_000 })
 * using permit = await sem.acquire(2, { signal })
 * ```
 */
export class Semaphore {
  /** @internal */ private readonly core: LockCore

  /**
   * @param permits capacity: a positive integer (throws TypeError/RangeError otherwise)
   * @param options name, long-hold reporting, clock
   */
  constructor(permits: number, options?: SemaphoreOptions) {
    this.core = new LockCore('Semaphore', checkPositiveInteger('permits', permits), true, options, false)
  }

  /** The `name` option. */
  get name(): string | undefined {
    return this.core.name
  }

  /** Total permits. */
  get capacity(): number {
    return this.core.capacity
  }

  /** Permits not held right now. */
  get available(): number {
    return this.core.available
  }

  /** Number of queued waiters. */
  get waiting(): number {
    return this.core.queue.size
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.core.closed
  }

  private checkPermits(n: unknown): number {
    const permits = checkPositiveInteger('permits', n)
    if (permits > this.core.capacity) {
      throw new RangeError(`asyncsafe: permits must be at most the capacity ${this.core.capacity}, received ${describe(n)}`)
    }
    return permits
  }

  /**
   * Waits (FIFO) for `n` permits and resolves with a `Permit` guard holding them.
   * Rejects at once with RangeError when `n` exceeds the capacity.
   *
   * @example
   * ```ts
   * using permit = await sem.acquire(1, { timeoutMs: 500 })
   * ```
   */
  acquire(n = 1, options?: SemaphoreAcquireOptions): Promise<Permit> {
    const core = this.core
    if (n === 1 && options === undefined && core.grantable(1)) {
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- a core built with permits=true creates Permit instances
      return Promise.resolve(core.grantNow(1, undefined) as Permit)
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- a core built with permits=true creates Permit instances
      return core.acquire(this.checkPermits(n), parseWaitOptions(options, 'acquire')) as Promise<Permit>
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * `n` permits now if they are free and nobody waits; otherwise (or after `close()`)
   * `undefined`. Throws on bad `n`.
   *
   * @example
   * ```ts
   * const permit = sem.tryAcquire()
   * ```
   */
  tryAcquire(n = 1): Permit | undefined {
    return this.core.tryAcquire(this.checkPermits(n)) as Permit | undefined
  }

  /**
   * Runs `fn` holding `weight` permits (default 1); synchronously when they are free now.
   *
   * @example
   * ```ts
   * const body = await sem.run(() => fetchBody(url), { weight: 2, signal })
   * ```
   */
  run<T>(fn: () => T | PromiseLike<T>, options?: SemaphoreRunOptions): Promise<T> {
    try {
      checkFunction('fn', fn)
      const weight = options === undefined ? 1 : this.checkPermits(checkOptions<SemaphoreRunOptions>('options', options).weight ?? 1)
      return this.core.run(fn, weight, parseWaitOptions(options, 'run'))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Refuses new requests and rejects every waiter with `reason` (or a fresh `ClosedError`
   * each when no reason is given). Held permits stay valid. Idempotent.
   *
   * @example
   * ```ts
   * sem.close(new Error('shutting down'))
   * ```
   */
  close(reason?: unknown): void {
    this.core.close(reason)
  }

  /** Whether `pause()` stopped the grants. */
  get paused(): boolean {
    return this.core.paused
  }

  /**
   * Stops granting permits: queued and new requests wait (`tryAcquire` returns
   * `undefined`), while permits already held stay valid and may be released. Waiters
   * still leave on abort, timeout or `close()`. Idempotent.
   *
   * @example
   * ```ts
   * sem.pause()   // e.g. while a downstream dependency is unhealthy
   * // ...
   * sem.resume()  // grants resume in queue order
   * ```
   */
  pause(): void {
    this.core.pause()
  }

  /** Grants again after `pause()`, in queue order (priority, then FIFO). Idempotent. */
  resume(): void {
    this.core.resume()
  }

  /**
   * Resolves once no permit is held and nobody waits (at once if that holds now). A
   * paused semaphore with waiters is not idle. Rejects with `signal.reason` when the
   * signal aborts; its listener leaves with the wait.
   *
   * @example
   * ```ts
   * await sem.onIdle({ signal: AbortSignal.timeout(5_000) })
   * ```
   */
  onIdle(options?: QueueWaitOptions): Promise<void> {
    try {
      const core = this.core
      return core.watch(() => core.drained(), parseQueueWait(options))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Resolves once fewer than `limit` requests wait (at once if that holds now): the
   * back-pressure wait of a producer that must not queue without bound.
   * Rejects with `signal.reason` when the signal aborts; a `limit` that is not a positive
   * integer rejects with a TypeError/RangeError.
   *
   * @example
   * ```ts
   * for (const job of jobs) {
   *   await sem.onSizeLessThan(100)
   *   void sem.run(() => handle(job)).catch(report)
   * }
   * ```
   */
  onSizeLessThan(limit: number, options?: QueueWaitOptions): Promise<void> {
    try {
      const n = checkPositiveInteger('limit', limit)
      const core = this.core
      return core.watch(() => core.queue.size < n, parseQueueWait(options))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Counters and wait/hold summaries.
   *
   * @example
   * ```ts
   * sem.stats().contended
   * ```
   */
  stats(): LockStats {
    return this.core.stats()
  }
}
