/**
 * `KeyedMutex`: one FIFO mutex per key, created on demand and freed when idle; several
 * keys taken at once without deadlock.
 *
 * @module
 */
import { KeyedEngine, type KeyedLockOptions, type KeyedLockStats } from './keyed-core.js'
import type { KeyedLockGuard } from './keyed-guard.js'
import type { WaitOptions } from './stats.js'

/** Options of `new KeyedMutex(options)`. */
export type KeyedMutexOptions<K = unknown> = KeyedLockOptions<K>

/**
 * A mutex per key: requests for the same key exclude each other, requests for different
 * keys run independently (async-lock's `acquire(key, fn)`, with guards, abort, timeouts
 * and statistics).
 *
 * Keys are compared like `Map` keys (SameValueZero: `'1'` and `1` differ, objects by
 * identity). Any value but `undefined` is a key; an **array** always means several keys.
 * A key's state exists only while the key is held or waited for, so memory follows the
 * keys in use, not every key ever seen (`size` counts them).
 *
 * Fairness: strict FIFO per key. A release hands the key straight to its oldest waiter;
 * `tryLock` fails while anyone waits for one of its keys. A request for several keys
 * (`lock([a, b])`) takes them one at a time in one canonical order (deduplicated, then
 * numbers, bigints, strings, booleans, symbols, objects; each by value, objects and
 * symbols by an id given the first time they are sorted), queueing FIFO on each key in turn and holding
 * those already taken meanwhile. Since every request takes its keys in the same order,
 * two multi-key requests can never wait for each other in a cycle: no deadlock,
 * whatever order the caller listed the keys in.
 *
 * Cancellation: every wait takes `{ signal, timeoutMs }`; for several keys they bound
 * the whole request. An aborted wait rejects with `signal.reason` (also when the signal
 * was aborted before the call: nothing is taken then, even if every key is free); a
 * timed-out wait rejects with a fresh `TimeoutError`; either way the waiter leaves the
 * key's queue at once and the keys the request had already taken are released, so
 * nothing leaks. `timeoutMs: 0` fails at once unless every key is free now. With
 * `maxPending`, a request that would queue behind that many waiters on one of its keys
 * is refused with a `QueueFullError` (checked on every key when the request is made, and
 * on each key again when the request reaches it; the keys taken are then released).
 *
 * Statistics (`stats()`) sum every key: each key of a request counts as one grant, one
 * wait and one hold. `longHoldMs` reports a key held too long while it is still held
 * (the report carries the key); `detectReentry` turns a request for a key the same async
 * context already holds into a `ReentrancyError` instead of a deadlock.
 *
 * @example
 * ```ts
 * const accounts = new KeyedMutex<string>({ name: 'accounts', maxPending: 1_000 })
 * // one account at a time...
 * await accounts.runExclusive(id, () => applyDeposit(id, amount), { timeoutMs: 5_000 })
 * // ...or two: no deadlock with a concurrent transfer(to, from)
 * {
 *   using guard = await accounts.lock([from, to], { signal })
 *   await transfer(from, to, amount)
 * }
 * ```
 */
export class KeyedMutex<K = unknown> {
  /** @internal */ private readonly engine: KeyedEngine<K>

  /**
   * @param options name, `maxPending`, long-hold reporting, re-entry detection, clock.
   * Throws TypeError/RangeError on a bad value or an unknown option.
   *
   * @example
   * ```ts
   * const sessions = new KeyedMutex<string>({ name: 'sessions', longHoldMs: 500, onLongHold: ({ key, heldMs }) => log.warn({ key, heldMs }) })
   * ```
   */
  constructor(options?: KeyedMutexOptions<K>) {
    this.engine = new KeyedEngine<K>('KeyedMutex', 1, options)
  }

  /**
   * The `name` option.
   *
   * @example
   * ```ts
   * new KeyedMutex({ name: 'users' }).name // 'users'
   * ```
   */
  get name(): string | undefined {
    return this.engine.name
  }

  /**
   * Number of active keys: held, waited for, or named by a multi-key request still
   * acquiring. 0 when the lock is idle, whatever number of keys it has seen.
   *
   * @example
   * ```ts
   * metrics.gauge('locks.activeKeys', locks.size)
   * ```
   */
  get size(): number {
    return this.engine.cores.size
  }

  /**
   * Number of queued waiters over every key. O(active keys).
   *
   * @example
   * ```ts
   * if (locks.waiting > 100) log.warn('lock queue building up')
   * ```
   */
  get waiting(): number {
    return this.engine.waiting()
  }

  /**
   * The active keys (see `size`), as a new array.
   *
   * @example
   * ```ts
   * console.log(locks.keys()) // e.g. ['user:1', 'user:7']
   * ```
   */
  keys(): K[] {
    return this.engine.cores.keys()
  }

  /**
   * Whether `key` is held right now.
   *
   * @example
   * ```ts
   * if (!locks.isLocked(id)) await locks.runExclusive(id, refresh)
   * ```
   */
  isLocked(key: K): boolean {
    return this.engine.held(key)
  }

  /**
   * Waits for `keys` (one key, or an array of keys taken in the canonical order) and
   * resolves with a `KeyedLockGuard` holding all of them; use it with `using`. Rejects
   * with `signal.reason` on abort, `TimeoutError` after `timeoutMs` (for the whole
   * request), `QueueFullError` when a key's queue is at `maxPending`, `ReentrancyError`
   * (with `detectReentry`) when this context already holds one of the keys, TypeError
   * for bad keys or options. On any failure no key stays taken.
   *
   * @example
   * ```ts
   * using guard = await locks.lock(['order:7', 'stock:42'], { signal: request.signal, timeoutMs: 1_000 })
   * ```
   */
  lock(keys: K | readonly K[], options?: WaitOptions): Promise<KeyedLockGuard<K>> {
    return this.engine.lock('KeyedMutex.lock', keys, 1, options)
  }

  /**
   * Takes every key of `keys` now if each is free and nobody waits for it (never jumps a
   * queue); otherwise takes nothing and returns `undefined`. Throws TypeError for bad keys.
   *
   * @example
   * ```ts
   * const guard = locks.tryLock(id)
   * if (guard) try { flush(id) } finally { guard.release() }
   * ```
   */
  tryLock(keys: K | readonly K[]): KeyedLockGuard<K> | undefined {
    return this.engine.tryLock('KeyedMutex.tryLock', keys, 1)
  }

  /**
   * Runs `fn` while holding every key of `keys` and releases them when `fn` settles (also
   * on throw), passing its value or error through. When the keys are free, `fn` runs
   * synchronously, inside this call. Rejects like `lock` when the keys cannot be taken,
   * and with TypeError when `fn` is not a function.
   *
   * @example
   * ```ts
   * const balance = await locks.runExclusive(accountId, async () => {
   *   const account = await db.load(accountId)
   *   account.balance += amount
   *   await db.save(account)
   *   return account.balance
   * }, { timeoutMs: 2_000 })
   * ```
   */
  runExclusive<T>(keys: K | readonly K[], fn: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    return this.engine.run('KeyedMutex.runExclusive', keys, fn, 1, options)
  }

  /**
   * Counters and wait/hold summaries since creation, summed over every key.
   *
   * @example
   * ```ts
   * const { acquisitions, contended, timeouts, queueFull, hold } = locks.stats()
   * ```
   */
  stats(): KeyedLockStats {
    return this.engine.stats()
  }
}
