/**
 * `KeyedRwLock`: one readers-writer lock per key, created on demand and freed when idle;
 * several keys taken at once without deadlock.
 *
 * @module
 */
import { EXCLUSIVE } from './core.js'
import { KeyedEngine, type KeyedLockOptions, type KeyedLockStats } from './keyed-core.js'
import type { KeyedLockGuard } from './keyed-guard.js'
import type { WaitOptions } from './stats.js'

/** Options of `new KeyedRwLock(options)`. */
export type KeyedRwLockOptions<K = unknown> = KeyedLockOptions<K>

/**
 * A readers-writer lock per key: readers of a key share it, a writer of a key excludes
 * everyone else on that key, and different keys are independent.
 *
 * Keys are compared like `Map` keys (SameValueZero); any value but `undefined` is a key
 * and an **array** always means several keys. A key's state exists only while the key is
 * held or waited for (`size` counts them).
 *
 * Fairness: one strict FIFO queue per key for readers and writers, as `RwLock`: readers
 * share, a writer waits for the holders before it, and a read requested after a queued
 * write waits for that write, so a stream of readers cannot starve a writer.
 * `tryRead`/`tryWrite` fail while anyone waits for one of their keys. Several keys are
 * taken one at a time in one canonical order (see `KeyedMutex`), so two multi-key
 * requests can never wait for each other in a cycle.
 *
 * Cancellation: `{ signal, timeoutMs }` per wait, bounding the whole request; an aborted
 * or timed-out waiter leaves the key's queue at once (readers queued behind a writer that
 * left are granted if they now can), and the keys already taken are released.
 * `timeoutMs: 0` fails unless every key can be granted now; `maxPending` refuses at once,
 * with `QueueFullError`, a request that would queue behind that many waiters on a key.
 *
 * With `detectReentry`, any request (read or write) for a key the requesting async
 * context already holds is refused with `ReentrancyError`: this also catches a read
 * requested by a reader while a writer waits, which would deadlock.
 *
 * @example
 * ```ts
 * const docs = new KeyedRwLock<string>({ name: 'docs' })
 * const text = await docs.runRead(docId, () => store.get(docId))
 * {
 *   using w = await docs.write(docId, { timeoutMs: 500 })
 *   await store.put(docId, edit(text))
 * }
 * ```
 */
export class KeyedRwLock<K = unknown> {
  /** @internal */ private readonly engine: KeyedEngine<K>

  /**
   * @param options name, `maxPending`, long-hold reporting, re-entry detection, clock.
   * Throws TypeError/RangeError on a bad value or an unknown option.
   *
   * @example
   * ```ts
   * const tables = new KeyedRwLock<string>({ name: 'tables', maxPending: 500 })
   * ```
   */
  constructor(options?: KeyedRwLockOptions<K>) {
    this.engine = new KeyedEngine<K>('KeyedRwLock', EXCLUSIVE, options)
  }

  /**
   * The `name` option.
   *
   * @example
   * ```ts
   * new KeyedRwLock({ name: 'docs' }).name // 'docs'
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
   * metrics.gauge('docs.activeKeys', docs.size)
   * ```
   */
  get size(): number {
    return this.engine.cores.size
  }

  /**
   * Number of queued waiters (readers and writers) over every key. O(active keys).
   *
   * @example
   * ```ts
   * console.log(docs.waiting)
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
   * console.log(docs.keys())
   * ```
   */
  keys(): K[] {
    return this.engine.cores.keys()
  }

  /**
   * Whether anyone (readers or a writer) holds `key` right now.
   *
   * @example
   * ```ts
   * docs.isLocked('readme') // false when nobody reads or writes it
   * ```
   */
  isLocked(key: K): boolean {
    return this.engine.held(key)
  }

  /**
   * Whether a writer holds `key` right now.
   *
   * @example
   * ```ts
   * if (docs.isWriteLocked(id)) log.debug('waiting for a save of', id)
   * ```
   */
  isWriteLocked(key: K): boolean {
    return this.engine.exclusive(key)
  }

  /**
   * Waits for shared access to every key of `keys` (FIFO behind any queued writer of each)
   * and resolves with a guard holding all of them. Rejects like `KeyedMutex.lock`.
   *
   * @example
   * ```ts
   * using r = await docs.read(['a', 'b'], { signal })
   * ```
   */
  read(keys: K | readonly K[], options?: WaitOptions): Promise<KeyedLockGuard<K>> {
    return this.engine.lock('KeyedRwLock.read', keys, 1, options)
  }

  /**
   * Waits for exclusive access to every key of `keys` and resolves with a guard holding
   * all of them. Rejects like `KeyedMutex.lock`.
   *
   * @example
   * ```ts
   * using w = await docs.write(id, { timeoutMs: 100 })
   * ```
   */
  write(keys: K | readonly K[], options?: WaitOptions): Promise<KeyedLockGuard<K>> {
    return this.engine.lock('KeyedRwLock.write', keys, EXCLUSIVE, options)
  }

  /**
   * Shared access to every key now if no writer holds any of them and nobody waits for
   * them; otherwise takes nothing and returns `undefined`. Throws TypeError for bad keys.
   *
   * @example
   * ```ts
   * const r = docs.tryRead(id)
   * ```
   */
  tryRead(keys: K | readonly K[]): KeyedLockGuard<K> | undefined {
    return this.engine.tryLock('KeyedRwLock.tryRead', keys, 1)
  }

  /**
   * Exclusive access to every key now if none is held and nobody waits for them;
   * otherwise takes nothing and returns `undefined`. Throws TypeError for bad keys.
   *
   * @example
   * ```ts
   * const w = docs.tryWrite([id, indexId])
   * ```
   */
  tryWrite(keys: K | readonly K[]): KeyedLockGuard<K> | undefined {
    return this.engine.tryLock('KeyedRwLock.tryWrite', keys, EXCLUSIVE)
  }

  /**
   * Runs `fn` with shared access to every key of `keys`; synchronously when that can be
   * granted now. Releases when `fn` settles and passes its value or error through.
   *
   * @example
   * ```ts
   * const v = await docs.runRead(id, () => store.get(id))
   * ```
   */
  runRead<T>(keys: K | readonly K[], fn: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    return this.engine.run('KeyedRwLock.runRead', keys, fn, 1, options)
  }

  /**
   * Runs `fn` with exclusive access to every key of `keys`; synchronously when that can
   * be granted now. Releases when `fn` settles and passes its value or error through.
   *
   * @example
   * ```ts
   * await docs.runWrite([id, indexId], async () => { await store.put(id, doc); await index.update(id, doc) })
   * ```
   */
  runWrite<T>(keys: K | readonly K[], fn: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    return this.engine.run('KeyedRwLock.runWrite', keys, fn, EXCLUSIVE, options)
  }

  /**
   * Counters and wait/hold summaries since creation, summed over every key (reads and
   * writes together).
   *
   * @example
   * ```ts
   * docs.stats().hold.p99
   * ```
   */
  stats(): KeyedLockStats {
    return this.engine.stats()
  }
}
