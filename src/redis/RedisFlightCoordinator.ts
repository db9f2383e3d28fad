/**
 * `RedisFlightCoordinator`: single flight across processes through one Redis primary.
 *
 * @module
 */
import type { FlightCoordinator } from '../tasks/coordinator.js'
import { checkFunction, checkOptionalFunction, checkOptions, checkPositiveFinite, describe, knownOptions } from '../internal/validate.js'
import { reportError } from '../internal/report.js'
import { RemoteLoadError } from './errors.js'
import { HeldLease, attemptLease, leaseKeys, ownerToken, type Attempt, type LeaseKeys, type LeaseSettings } from './lease.js'
import { checkKey, checkLease, checkPoll, checkRenew, parseConnection, type ParsedConnection, type RedisConnectionOptions } from './options.js'
import { SubscriberHub } from './subscriber.js'
import { WakeWaiter, abandonAttempt, raceSignal, sleepMs, type AcquireSettings } from './wait.js'

/** Options of `new RedisFlightCoordinator(options)`. */
export interface RedisFlightCoordinatorOptions<K = unknown, T = unknown> extends RedisConnectionOptions {
  /** Prefix of the Redis keys (`<prefix><key>`, `…:fence`, `…:result`; channel `…:released`). Default `'asyncsafe:flight:'`. */
  readonly prefix?: string | undefined
  /** The Redis name of a flight key. Default: strings as they are, finite numbers as `String(n)`; anything else throws. */
  readonly keyOf?: ((key: K) => string) | undefined
  /** Lease of the loading process (ms): how long a crashed loader keeps the others waiting. Default 10 000. */
  readonly leaseMs?: number | undefined
  /** Renewal period of that lease (ms). Default `leaseMs / 3`. */
  readonly renewEveryMs?: number | undefined
  /** Longest sleep of a waiting process between two checks (ms). Default 1000. */
  readonly pollMs?: number | undefined
  /** How long a finished run's outcome stays readable for the processes that waited for it (ms). Default 10 000; keep it above `pollMs`. */
  readonly resultTtlMs?: number | undefined
  /** Turns a value into a string for the other processes. Default `JSON.stringify`. */
  readonly serialize?: ((value: T) => string) | undefined
  /** The inverse of `serialize`. Default `JSON.parse`. */
  readonly deserialize?: ((text: string) => T) | undefined
}

const KNOWN = knownOptions(['client', 'subscriber', 'onError', 'prefix', 'keyOf', 'leaseMs', 'renewEveryMs', 'pollMs', 'resultTtlMs', 'serialize', 'deserialize'], {
  ttlMs: 'resultTtlMs',
  key: 'prefix',
})

/** What `RedisFlightCoordinator.stats()` returns. */
export interface RedisFlightStats {
  /** Runs this process ran itself (it held the key's lease). */
  readonly loads: number
  /** Runs it got the outcome of from another process. */
  readonly joined: number
}

/** A published outcome: `f` the fencing token of the run, then a value or an error. */
type Outcome = { readonly f: number; readonly ok: true; readonly v: string } | { readonly f: number; readonly ok: false; readonly n: string; readonly m: string }

function defaultKeyOf(key: unknown): string {
  if (typeof key === 'string') return key
  if (typeof key === 'number' && Number.isFinite(key)) return String(key)
  throw new TypeError(`asyncsafe: RedisFlightCoordinator needs a keyOf option for a key like ${describe(key)}`)
}

/**
 * Coordinates single flight across processes: pass it as the `coordinator` option of a
 * `SingleFlightGroup` or an `LruTtlCache`. For each key, the process whose attempt takes
 * the key's lease (the same lease as `RedisMutex`: `SET NX PX`, renewed, fencing token)
 * runs the load; the others wait (woken by the release message, the lease's expiry, or
 * every `pollMs`) and then read the outcome it stored with its release, in one script:
 * the value (through `serialize`/`deserialize`) or its failure, which they reject with
 * as a `RemoteLoadError` (name and message).
 *
 * - A waiting process accepts the outcome of the run that held the lease when it began
 *   to wait, or of any later one; results are not a cache (a run that starts later never
 *   reads an earlier outcome).
 * - When every local caller of the loading process leaves, its load is aborted and the
 *   lease released without an outcome: a waiting process takes the lease and loads.
 * - When the loading process dies, its lease expires and a waiting process loads.
 * - When its lease is lost during the load (a stall, a restart), the load goes on for its
 *   local callers but its outcome is not published (another process may be loading).
 *
 * Guarantees are those of `RedisMutex`: one primary, not Redlock-safe under failover, so
 * "one process loads" is a strong de-duplication, not a proof; loads must stay safe to
 * run twice.
 *
 * @example
 * ```ts
 * const coordinator = new RedisFlightCoordinator<string, User>({ client: redis })
 * const flights = new SingleFlightGroup<string, User>({ coordinator })
 * const user = await flights.run(id, (signal) => fetchUser(id, signal))
 * ```
 */
export class RedisFlightCoordinator<K = unknown, T = unknown> implements FlightCoordinator<K>, Disposable {
  /** @internal */ private readonly connection: ParsedConnection
  /** @internal */ private readonly prefix: string
  /** @internal */ private readonly keyOf: (key: K) => string
  /** @internal */ private readonly leaseMs: number
  /** @internal */ private readonly renewEveryMs: number
  /** @internal */ private readonly pollMs: number
  /** @internal */ private readonly resultTtlMs: number
  /** @internal */ private readonly serialize: (value: T) => string
  /** @internal */ private readonly deserialize: (text: string) => T
  /** @internal */ private hub: SubscriberHub | undefined
  /** @internal */ private disposed = false
  /** @internal */ private loads = 0
  /** @internal */ private joined = 0

  /** @param options `client` (required), `subscriber`, `prefix`, `keyOf`, `leaseMs`, `renewEveryMs`, `pollMs`, `resultTtlMs`, `serialize`, `deserialize`, `onError`. Throws on bad options. */
  constructor(options: RedisFlightCoordinatorOptions<K, T>) {
    if (options === null || typeof options !== 'object') throw new TypeError('asyncsafe: RedisFlightCoordinator options must be an object with a client')
    const o = checkOptions<RedisFlightCoordinatorOptions<K, T>>('options', options, KNOWN)
    this.connection = parseConnection(o)
    this.prefix = o.prefix === undefined ? 'asyncsafe:flight:' : checkKey('options.prefix', o.prefix)
    this.keyOf = checkOptionalFunction<(key: K) => string>('options.keyOf', o.keyOf) ?? defaultKeyOf
    this.leaseMs = checkLease(o.leaseMs)
    this.renewEveryMs = checkRenew(o.renewEveryMs, this.leaseMs)
    this.pollMs = checkPoll(o.pollMs)
    this.resultTtlMs = o.resultTtlMs === undefined ? 10_000 : checkPositiveFinite('options.resultTtlMs', o.resultTtlMs)
    this.serialize = checkOptionalFunction<(value: T) => string>('options.serialize', o.serialize) ?? ((value: T) => JSON.stringify(value))
    this.deserialize = checkOptionalFunction<(text: string) => T>('options.deserialize', o.deserialize) ?? ((text: string) => JSON.parse(text) as T)
  }

  /**
   * Counters of this coordinator.
   *
   * @example
   * ```ts
   * const { loads, joined } = coordinator.stats()
   * ```
   */
  stats(): RedisFlightStats {
    return { loads: this.loads, joined: this.joined }
  }

  /**
   * See `FlightCoordinator.run`. Rejects with `signal.reason` when every local caller
   * left, with `fn`'s failure, with a `RemoteLoadError` for another process's failure.
   *
   * @example
   * ```ts
   * const value = await coordinator.run('config', (signal) => loadConfig(signal), AbortSignal.timeout(5_000))
   * ```
   */
  run<R>(key: K, fn: (signal: AbortSignal) => R | PromiseLike<R>, signal: AbortSignal): Promise<R> {
    try {
      checkFunction('fn', fn)
      if (this.disposed) throw new TypeError('asyncsafe: RedisFlightCoordinator was disposed')
      const keys = leaseKeys(this.prefix + this.keyOf(key))
      return this.coordinate(keys, fn, signal) as Promise<R>
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Gives back the shared subscriber (closed when no other asyncsafe object uses it). Runs in flight go on. Idempotent. */
  [Symbol.dispose](): void {
    if (this.disposed) return
    this.disposed = true
    this.hub?.unref()
  }

  // ---------------------------------------------------------------- internals

  /** @internal */
  private settingsFor(keys: LeaseKeys): AcquireSettings & LeaseSettings {
    return {
      client: this.connection.client,
      hub: () => (this.hub ??= SubscriberHub.acquire(this.connection.client, this.connection.subscriber, this.connection.onError)),
      keys,
      leaseMs: this.leaseMs,
      renewEveryMs: this.renewEveryMs,
      pollMs: this.pollMs,
      name: keys.lock,
      onError: this.connection.onError,
    }
  }

  /** @internal The outcome stored by a run with fencing token >= `since`, if any. */
  private async outcome(keys: LeaseKeys, since: number): Promise<Outcome | undefined> {
    const text = await this.connection.client.get(keys.result)
    if (text === null) return undefined
    const outcome = JSON.parse(text) as Outcome
    return outcome.f >= since ? outcome : undefined
  }

  /** @internal */
  private settle(outcome: Outcome): unknown {
    this.joined++
    if (outcome.ok) return this.deserialize(outcome.v)
    throw new RemoteLoadError(outcome.m, outcome.n)
  }

  /** @internal */
  private async coordinate(keys: LeaseKeys, fn: (signal: AbortSignal) => unknown, signal: AbortSignal): Promise<unknown> {
    const settings = this.settingsFor(keys)
    const owner = ownerToken()
    let waiter: WakeWaiter | undefined
    let since: number | undefined
    try {
      for (;;) {
        waiter?.clear()
        const sentAt = performance.now()
        const pending = attemptLease(settings.client, keys, owner, this.leaseMs)
        let attempt: Attempt
        try {
          attempt = await raceSignal(pending, signal)
        } catch (error) {
          if (signal.aborted) abandonAttempt(settings, pending, owner)
          throw error
        }
        if (attempt.granted) {
          const lease = new HeldLease(settings, owner, attempt.token, sentAt)
          if (since !== undefined) {
            // Woken by a timer rather than the release message: the run we waited for may
            // have stored its outcome just before we took the lease.
            const done = await this.outcome(keys, since).catch(() => undefined)
            if (done !== undefined) {
              await lease.release()
              return this.settle(done)
            }
          }
          return await this.load(keys, lease, fn, signal)
        }
        since ??= attempt.current
        if (waiter === undefined) {
          waiter = new WakeWaiter(settings.hub(), keys.channel)
          await raceSignal(waiter.ready, signal)
        } else {
          await waiter.sleep(sleepMs(attempt, this.pollMs), signal)
        }
        const done = await raceSignal(this.outcome(keys, since), signal)
        if (done !== undefined) return this.settle(done)
      }
    } finally {
      waiter?.[Symbol.dispose]()
    }
  }

  /** @internal This process holds the lease: run, store the outcome with the release. */
  private async load(keys: LeaseKeys, lease: HeldLease, fn: (signal: AbortSignal) => unknown, signal: AbortSignal): Promise<unknown> {
    this.loads++
    let value: unknown
    try {
      value = await fn(signal)
    } catch (error) {
      if (signal.aborted && error === signal.reason) {
        // Every local caller left: release without an outcome, so a waiting process loads.
        await lease.release()
      } else {
        const e = error instanceof Error ? error : new Error(String(error))
        await lease.release({ payload: JSON.stringify({ f: lease.fencingToken, ok: false, n: e.name, m: e.message } satisfies Outcome), ttlMs: this.resultTtlMs })
      }
      throw error
    }
    let payload: string
    try {
      payload = JSON.stringify({ f: lease.fencingToken, ok: true, v: this.serialize(value as T) } satisfies Outcome)
    } catch (error) {
      // The local callers still get the value; the waiting processes load for themselves.
      reportError(this.connection.onError, error, { area: 'redis', event: 'serialize-error', key: keys.lock, fencingToken: lease.fencingToken })
      await lease.release()
      return value
    }
    await lease.release({ payload, ttlMs: this.resultTtlMs })
    return value
  }
}
