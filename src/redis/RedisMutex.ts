/**
 * `RedisMutex`: a lock shared by every process that uses the same Redis primary and key.
 *
 * @module
 */
import { DisposedError, TimeoutError } from '../errors.js'
import { defaultClock, type Clock } from '../internal/clock.js'
import { publishEvent, reportError, type OnError } from '../internal/report.js'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'
import { checkFunction, checkOptionalFunction, checkOptionalString, checkOptions, checkPositiveFinite, knownOptions } from '../internal/validate.js'
import { parseWaitOptions } from '../locks/core.js'
import { Semaphore } from '../locks/Semaphore.js'
import { lockCounts, snapshotStats, type LockCounts } from '../locks/snapshot.js'
import type { Permit } from '../locks/guard.js'
import type { LockStats, LongHoldInfo, WaitOptions } from '../locks/stats.js'
import { HeldLease, leaseKeys, type LeaseKeys, type LeaseSettings } from './lease.js'
import { checkKey, checkLease, checkPoll, checkRenew, parseConnection, type ParsedConnection, type RedisConnectionOptions } from './options.js'
import { RedisLockGuard, type GuardOwner } from './RedisLockGuard.js'
import { SubscriberHub } from './subscriber.js'
import { acquireLease, type AcquireSettings, type Grant } from './wait.js'

/** Options of `new RedisMutex(options)`. */
export interface RedisMutexOptions extends RedisConnectionOptions {
  /** The lock's Redis key (also names `key:fence`, and the channel `key:released`). Required. */
  readonly key: string
  /** Lease length (ms): how long a holder that stopped renewing (crashed, paused, cut off) keeps others out. Default 10 000; at least 10. */
  readonly leaseMs?: number | undefined
  /** Renewal period while held (ms); below 90 % of `leaseMs`. Default `leaseMs / 3`. `Infinity`: no renewal (the signal aborts when the lease runs out). */
  readonly renewEveryMs?: number | undefined
  /** Longest sleep between two attempts of a waiter when no release message arrives (ms). Default 1000. */
  readonly pollMs?: number | undefined
  /** A name for statistics, long-hold reports and errors. Default: the key. */
  readonly name?: string | undefined
  /** Report a hold once, while still held, when it passes this many ms (`onLongHold`, diagnostics `asyncsafe:redis:long-hold`). */
  readonly longHoldMs?: number | undefined
  /** Called once per long hold. */
  readonly onLongHold?: ((info: LongHoldInfo) => void) | undefined
  /** Clock for statistics (ms). Default `performance.now()`. Leases and renewals always use real time. */
  readonly clock?: Clock | undefined
}

const KNOWN = knownOptions(['client', 'subscriber', 'onError', 'key', 'leaseMs', 'renewEveryMs', 'pollMs', 'name', 'longHoldMs', 'onLongHold', 'clock'], {
  timeoutMs: 'pass it to each wait: lock({ timeoutMs })',
  signal: 'pass it to each wait: lock({ signal })',
  ttlMs: 'leaseMs',
  lease: 'leaseMs',
  redis: 'client',
})

/**
 * A distributed mutex on one Redis (or Valkey) primary: at most one holder at a time
 * among every process using the same `key`, as long as holders renew their lease.
 *
 * - Grant: `SET key owner NX PX leaseMs` and, in the same script, `INCR key:fence`: the
 *   guard's `fencingToken` is strictly greater than every earlier grant's of this key.
 * - While held, the lease is renewed every `renewEveryMs` (compare-and-pexpire by owner).
 *   When a renewal finds the lease gone, or renewals keep failing until its validity
 *   passes, the guard's `signal` aborts with a `LeaseLostError`.
 * - Release is compare-and-delete by owner, and publishes on `key:released`.
 *
 * Guarantees, plainly: mutual exclusion holds against one Redis primary while holders
 * are not paused longer than their lease. It is **not** Redlock-safe: with replication
 * and failover, a grant acknowledged by a primary that dies before replicating it is
 * lost, and a second holder can be granted. A holder paused (GC, SIGSTOP, a long
 * synchronous job) past its lease can still believe it holds the lock for a moment:
 * its signal aborts as soon as its timers run, and the fencing token lets storage
 * refuse its late writes. Fencing tokens are seeded from the server clock when the
 * counter is lost (restart without persistence), so they keep increasing unless the
 * server's wall clock went back.
 *
 * Fairness: FIFO among the waiters of this `RedisMutex` object (one local queue; only
 * its head talks to Redis). Across objects and processes there is no queue: after a
 * release, the first attempt to reach the server wins. Waiters wake on the release
 * message (pub/sub), at the holder's remaining lease (a crashed holder publishes
 * nothing), and at least every `pollMs`.
 *
 * Cancellation: `lock({ signal, timeoutMs })` rejects with `signal.reason` or a
 * `TimeoutError` and leaves the queue at once; an attempt in flight at that moment is
 * given back if it was granted after all. Dispose rejects waiters with a
 * `DisposedError`, aborts and releases held guards, and closes the subscriber it created.
 *
 * @example
 * ```ts
 * const mutex = new RedisMutex({ client: redis, key: 'jobs:migrate', leaseMs: 5_000 })
 * {
 *   await using guard = await mutex.lock({ timeoutMs: 30_000 })
 *   await runMigration({ signal: guard.signal, fencingToken: guard.fencingToken })
 * }
 * await mutex[Symbol.asyncDispose]()
 * ```
 */
export class RedisMutex implements Disposable, AsyncDisposable {
  /** The lock key. */
  readonly key: string
  /** The lease length (ms). */
  readonly leaseMs: number
  /** @internal */ private readonly connection: ParsedConnection
  /** @internal */ private readonly keys: LeaseKeys
  /** @internal */ private readonly lease: LeaseSettings
  /** @internal */ private readonly acquiring: AcquireSettings
  /** @internal */ private readonly local = new Semaphore(1)
  /** @internal */ private readonly clock: Clock
  /** @internal */ private readonly label: string
  /** @internal */ private readonly statsName: string | undefined
  /** @internal */ private readonly longHoldMs: number | undefined
  /** @internal */ private readonly onLongHold: ((info: LongHoldInfo) => void) | undefined
  /** @internal */ private readonly onError: OnError | undefined
  /** @internal */ private hub: SubscriberHub | undefined
  /** @internal */ private readonly disposeController = new AbortController()
  /** @internal */ private readonly held = new Map<RedisLockGuard, { permit: Permit; timer: TimerHandle | undefined }>()
  /** @internal */ private readonly owner: GuardOwner
  /** @internal */ private waiters = 0
  /** @internal */ private readonly counts: LockCounts = lockCounts()

  /**
   * @param options `client` and `key` (required), `subscriber`, `leaseMs`, `renewEveryMs`,
   *   `pollMs`, `name`, `longHoldMs`, `onLongHold`, `clock`, `onError`. Throws on bad options.
   */
  constructor(options: RedisMutexOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('asyncsafe: RedisMutex options must be an object with a client and a key')
    const o = checkOptions<RedisMutexOptions>('options', options, KNOWN)
    this.connection = parseConnection(o)
    this.key = checkKey('options.key', o.key)
    this.leaseMs = checkLease(o.leaseMs)
    const renewEveryMs = checkRenew(o.renewEveryMs, this.leaseMs)
    const pollMs = checkPoll(o.pollMs)
    this.statsName = checkOptionalString('options.name', o.name)
    this.label = `RedisMutex "${this.statsName ?? this.key}"`
    this.longHoldMs = o.longHoldMs === undefined ? undefined : checkPositiveFinite('options.longHoldMs', o.longHoldMs)
    this.onLongHold = checkOptionalFunction<(info: LongHoldInfo) => void>('options.onLongHold', o.onLongHold)
    this.clock = checkOptionalFunction<Clock>('options.clock', o.clock) ?? defaultClock
    this.onError = this.connection.onError
    this.keys = leaseKeys(this.key)
    const name = this.statsName ?? this.key
    this.lease = { client: this.connection.client, keys: this.keys, leaseMs: this.leaseMs, renewEveryMs, name, onError: this.onError }
    this.acquiring = {
      client: this.connection.client,
      hub: () => (this.hub ??= SubscriberHub.acquire(this.connection.client, this.connection.subscriber, this.onError)),
      keys: this.keys,
      leaseMs: this.leaseMs,
      pollMs,
      name,
      onError: this.onError,
    }
    this.owner = {
      clock: this.clock,
      released: (guard) => {
        this.releasedGuard(guard)
      },
    }
  }

  /** The `name` option (default: the key). */
  get name(): string {
    return this.statsName ?? this.key
  }

  /** Whether a guard of this object is held (other processes are not known here). */
  get heldHere(): boolean {
    return this.held.size !== 0
  }

  /** Number of `lock()` calls of this object still waiting. */
  get waiting(): number {
    return this.waiters
  }

  /**
   * Waits for the lock and resolves with a `RedisLockGuard` (use it with `await using`).
   * Rejects with `signal.reason` on abort, a `TimeoutError` after `timeoutMs` (`0`: one
   * attempt), a `DisposedError` once the mutex is disposed, or the Redis command's error.
   *
   * @example
   * ```ts
   * await using guard = await mutex.lock({ signal: request.signal, timeoutMs: 2_000 })
   * ```
   */
  lock(options?: WaitOptions): Promise<RedisLockGuard> {
    let wait: ReturnType<typeof parseWaitOptions>
    try {
      wait = parseWaitOptions(options)
    } catch (error) {
      return Promise.reject(error)
    }
    if (wait.signal?.aborted) {
      this.counts.aborts++
      return Promise.reject(wait.signal.reason)
    }
    if (this.disposeController.signal.aborted) return Promise.reject(this.disposeController.signal.reason)
    if (wait.timeoutMs === 0) {
      return this.tryOnce(wait.signal).then((guard) => {
        if (guard !== undefined) return guard
        this.counts.timeouts++
        throw new TimeoutError(`${this.label}: timeoutMs 0 and the lock is held`, { timeoutMs: 0 })
      })
    }
    return this.waitFor(wait.signal, wait.timeoutMs)
  }

  /**
   * One attempt, no waiting: a guard, or `undefined` when the lock is held (here or
   * elsewhere). Rejects only with a Redis error or a `DisposedError`.
   *
   * @example
   * ```ts
   * const guard = await mutex.tryLock()
   * if (guard) try { await sweep() } finally { await guard.release() }
   * ```
   */
  tryLock(): Promise<RedisLockGuard | undefined> {
    if (this.disposeController.signal.aborted) return Promise.reject(this.disposeController.signal.reason)
    return this.tryOnce(undefined)
  }

  /**
   * Runs `fn(signal, guard)` while holding the lock and releases it when `fn` settles
   * (waiting for the release). `signal` aborts when the lease is lost: pass it on.
   *
   * @example
   * ```ts
   * await mutex.runExclusive((signal, { fencingToken }) => store.save(doc, { signal, fencingToken }), { timeoutMs: 5_000 })
   * ```
   */
  async runExclusive<T>(fn: (signal: AbortSignal, guard: RedisLockGuard) => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    checkFunction('fn', fn)
    const guard = await this.lock(options)
    try {
      return await fn(guard.signal, guard)
    } finally {
      await guard.release()
    }
  }

  /**
   * Counters and wait/hold summaries of this object (the same `LockStats` as the local
   * locks). `wait` covers the local queue and the waits on Redis.
   *
   * @example
   * ```ts
   * const { acquisitions, contended, wait } = mutex.stats()
   * ```
   */
  stats(): LockStats {
    return snapshotStats(this.name, this.counts)
  }

  /**
   * Disposes at once: waiters reject with a `DisposedError`, held guards' signals abort
   * with it and their leases are released (without waiting), the subscriber asyncsafe
   * created is closed once no other object uses it. Idempotent; never throws.
   */
  [Symbol.dispose](): void {
    void this.teardown()
  }

  /** Like `[Symbol.dispose]`, then waits for the releases of held guards. Never rejects. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.teardown()
  }

  // ---------------------------------------------------------------- internals

  /** @internal */
  private teardown(): Promise<unknown> {
    const control = this.disposeController
    if (control.signal.aborted) return Promise.resolve()
    const reason = new DisposedError(`${this.label} was disposed`)
    control.abort(reason)
    this.local.close(reason)
    const releases = [...this.held.keys()].map((guard) => guard.releaseWith(reason))
    this.hub?.unref()
    return Promise.all(releases)
  }

  /** @internal A grant: guard, stats, long-hold timer. */
  private granted(grant: Grant, permit: Permit, requestedAt: number, queued: boolean): RedisLockGuard {
    const guard = new RedisLockGuard(this.key, new HeldLease(this.lease, grant.owner, grant.token, grant.sentAt), this.owner)
    this.counts.acquisitions++
    if (queued || grant.contended) this.counts.contended++
    this.counts.waitHist.record(guard.acquiredAt - requestedAt)
    const timer = this.longHoldMs === undefined ? undefined : armTimer(this.longHoldMs, reportLongHold, this, guard, true)
    this.held.set(guard, { permit, timer })
    return guard
  }

  /** @internal */
  reportLongHold(guard: RedisLockGuard): void {
    const entry = this.held.get(guard)
    if (entry === undefined) return
    entry.timer = undefined
    this.counts.longHolds++
    const info: LongHoldInfo = { name: this.name, heldMs: guard.heldMs, acquiredAt: guard.acquiredAt }
    publishEvent('redis', 'long-hold', () => ({ ...info, key: this.key, fencingToken: guard.fencingToken }))
    const callback = this.onLongHold
    if (callback === undefined) return
    try {
      callback(info)
    } catch (error) {
      reportError(this.onError, error, { area: 'redis', event: 'long-hold-callback-error', name: this.name })
    }
  }

  /** @internal */
  private releasedGuard(guard: RedisLockGuard): void {
    const entry = this.held.get(guard)
    if (entry === undefined) return
    this.held.delete(guard)
    disarmTimer(entry.timer)
    this.counts.holdHist.record(guard.heldMs)
    // The release command is already queued on the connection before any later attempt.
    entry.permit.release()
  }

  /** @internal One attempt (tryLock, timeoutMs 0). */
  private async tryOnce(signal: AbortSignal | undefined): Promise<RedisLockGuard | undefined> {
    const requestedAt = this.clock()
    const permit = this.local.tryAcquire()
    if (permit === undefined) return undefined
    let grant: Grant | undefined
    try {
      grant = await acquireLease(this.acquiring, signal, true)
    } catch (error) {
      permit.release()
      if (signal?.aborted && error === signal.reason) this.counts.aborts++
      throw error
    }
    if (grant === undefined) {
      permit.release()
      return undefined
    }
    return this.granted(grant, permit, requestedAt, false)
  }

  /**
   * @internal A wait with neither signal nor timeout: when nobody waits here, one attempt
   * without any control objects (the common, uncontended case), else the waiting path.
   */
  private async waitFor(signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<RedisLockGuard> {
    const requestedAt = this.clock()
    if (signal !== undefined || timeoutMs !== undefined) return this.waitSlow(signal, timeoutMs, requestedAt, undefined)
    const permit = this.local.tryAcquire()
    if (permit === undefined) return this.waitSlow(undefined, undefined, requestedAt, undefined)
    let grant: Grant | undefined
    try {
      grant = await acquireLease(this.acquiring, undefined, true)
    } catch (error) {
      permit.release()
      throw error
    }
    if (grant === undefined) return this.waitSlow(undefined, undefined, requestedAt, permit)
    const disposed = this.disposeController.signal
    if (disposed.aborted) {
      // Disposed while the attempt was in flight: give the grant back.
      void new HeldLease(this.lease, grant.owner, grant.token, grant.sentAt).release()
      permit.release()
      throw disposed.reason
    }
    return this.granted(grant, permit, requestedAt, false)
  }

  /** @internal The waiting path: local FIFO, then Redis, under one deadline. `held`: a local permit already taken. */
  private async waitSlow(signal: AbortSignal | undefined, timeoutMs: number | undefined, requestedAt: number, held: Permit | undefined): Promise<RedisLockGuard> {
    const control = new AbortController()
    const forward = (): void => {
      control.abort(signal!.reason)
    }
    const onDispose = (): void => {
      control.abort(this.disposeController.signal.reason)
    }
    signal?.addEventListener('abort', forward, { once: true })
    this.disposeController.signal.addEventListener('abort', onDispose, { once: true })
    let timedOut = false
    const timer =
      timeoutMs === undefined
        ? undefined
        : armTimer(timeoutMs, () => {
            timedOut = true
            control.abort(new TimeoutError(`${this.label}: wait timed out after ${timeoutMs} ms`, { timeoutMs }))
          })
    this.waiters++
    let permit = held
    try {
      if (this.disposeController.signal.aborted) throw this.disposeController.signal.reason
      permit ??= this.local.tryAcquire()
      const queued = permit === undefined
      permit ??= await this.local.acquire(1, { signal: control.signal })
      const grant = (await acquireLease(this.acquiring, control.signal, false))!
      const guard = this.granted(grant, permit, requestedAt, queued || held !== undefined)
      permit = undefined
      return guard
    } catch (error) {
      permit?.release()
      if (timedOut && error === control.signal.reason) this.counts.timeouts++
      else if (signal?.aborted && error === signal.reason) this.counts.aborts++
      throw error
    } finally {
      this.waiters--
      disarmTimer(timer)
      signal?.removeEventListener('abort', forward)
      this.disposeController.signal.removeEventListener('abort', onDispose)
    }
  }
}

function reportLongHold(mutex: RedisMutex, guard: RedisLockGuard): void {
  mutex.reportLongHold(guard)
}
