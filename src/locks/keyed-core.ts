/**
 * The engine behind `KeyedMutex` and `KeyedRwLock`: one `LockCore` per *active* key.
 *
 * - A key's core is created on its first request and retired as soon as the key is idle
 *   (no holder, no waiter, no multi-key request in progress naming it), so memory follows
 *   the number of keys in use, never the number of keys ever seen. Retirement is a
 *   subclass (`KeyCore`) that checks for idleness after a release, an abort and a
 *   timeout: core.ts is not changed, and every rule of the local locks (FIFO hand-off,
 *   per-waiter abort and timeout, `timeoutMs: 0`, long holds) is the core's own.
 * - Every core of one keyed lock records into the lock's two histograms; the counters of
 *   a retired core are folded into the lock's totals, so `stats()` is exact across keys.
 * - Several keys are taken one at a time in one canonical order (deduplicated, sorted by
 *   a total order over strings, numbers, bigints, booleans, symbols and objects), so two
 *   multi-key requests can never wait for each other in a cycle. A failure partway
 *   (abort, timeout, full queue) releases the keys already taken.
 * - Re-entry detection is done here, not by the cores: a multi-key `lock()` must mark the
 *   caller's context for every key before its first wait, which a core cannot do.
 *
 * @module
 */
import { Histogram } from '../internal/histogram.js'
import { defaultClock, type Clock } from '../internal/clock.js'
import { QueueFullError, TimeoutError } from '../errors.js'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'
import {
  checkFunction,
  checkNonNegativeInteger,
  checkOptionalBoolean,
  checkOptionalFunction,
  checkOptionalString,
  checkOptions,
  checkPositiveFinite,
  describe,
  knownOptions,
} from '../internal/validate.js'
import { LockCore, parseWaitOptions, runHeld, runWhenGranted } from './core.js'
import { LockTimes } from './events.js'
import type { LockGuard } from './guard.js'
import { KeyedLockGuard } from './keyed-guard.js'
import { DONE, HELD, ReentryTracker, type ReentryToken } from './reentry.js'
import type { LockOptions, LockStats, LongHoldInfo, WaitOptions } from './stats.js'

/** What `onLongHold` of a keyed lock receives: a `LongHoldInfo` plus the key held too long. */
export interface KeyedLongHoldInfo<K = unknown> extends LongHoldInfo {
  /** The key whose hold passed `longHoldMs` (one report per key of a multi-key hold). */
  readonly key: K
}

/** Options of `new KeyedMutex(options)` and `new KeyedRwLock(options)`. */
export interface KeyedLockOptions<K = unknown> {
  /** A name for statistics, long-hold reports and errors. */
  readonly name?: string
  /**
   * At most this many waiters per key (a non-negative integer; default `Infinity`). A
   * request that would queue behind that many on one of its keys is refused at once with
   * a `QueueFullError`, taking nothing (async-lock's `maxPending`, whose default is 1000).
   * A multi-key request is checked on every key when it is made, and on each key again
   * when it reaches it; refused there, it releases the keys it had taken. `0` refuses
   * every request that cannot be granted at once.
   */
  readonly maxPending?: number
  /**
   * Report a hold of one key once, while it is still held, when it passes this many
   * milliseconds (`onLongHold` and diagnostics_channel `asyncsafe:lock:long-hold`). Off
   * by default.
   */
  readonly longHoldMs?: number
  /** Called once per long hold of a key, synchronously from a timer. Errors it throws become process warnings. */
  readonly onLongHold?: (info: KeyedLongHoldInfo<K>) => void
  /** Capture the acquiring stack of every grant for long-hold reports. Costly (an `Error` per grant); off by default. */
  readonly captureStack?: boolean
  /**
   * Refuse, with `ReentrancyError`, a request for a key that the requesting async context
   * already holds (instead of deadlocking). Off by default: it uses AsyncLocalStorage,
   * which turns on promise hooks for the whole process on Node 20.
   */
  readonly detectReentry?: boolean
  /** Clock for statistics and long holds, in milliseconds. Default `performance.now()`. */
  readonly clock?: Clock
}

/**
 * Statistics of a keyed lock: `LockStats` summed over every key ever used (each key of a
 * multi-key request counts as one grant, one wait and one hold), plus `queueFull`.
 *
 * @example
 * ```ts
 * const { acquisitions, contended, queueFull, hold } = locks.stats()
 * ```
 */
export interface KeyedLockStats extends LockStats {
  /** Requests refused because a key's queue held `maxPending` waiters. */
  readonly queueFull: number
}

/** What a request names: one key, or several keys deduplicated and in canonical order (length ≥ 2). */
type Keys<K> = { readonly one: true; readonly key: K } | { readonly one: false; readonly keys: K[] }

type ParsedWait = ReturnType<typeof parseWaitOptions>
type Waiter = Parameters<LockCore['abortWaiter']>[0]

/** Idle cores a keyed lock keeps for reuse. */
const SPARE_CORES = 16

const NO_WAIT: ParsedWait = { signal: undefined, timeoutMs: undefined, priority: 0 }

// Pure: a bundle that imports only other locks drops these (and the helpers they call).
const KEYED_OPTIONS = /* @__PURE__ */ knownOptions(['name', 'maxPending', 'longHoldMs', 'onLongHold', 'captureStack', 'detectReentry', 'clock'], {
  timeout: 'pass it to each wait: lock(key, { timeoutMs })',
  timeoutMs: 'pass it to each wait: lock(key, { timeoutMs })',
  maxExecutionTime: 'longHoldMs reports a hold that lasts too long while it is still held',
  maxOccupationTime: 'pass a signal and a timeoutMs to each wait; bound the work itself with its own signal',
  domainReentrant: 'detectReentry',
  Promise: 'asyncsafe uses the native Promise',
  skipQueue: 'waits are strictly FIFO; tryLock(keys) takes keys only when free',
})

const WAIT_OPTIONS = /* @__PURE__ */ knownOptions(['signal', 'timeoutMs'], { timeout: 'timeoutMs', maxPending: 'pass it to the constructor' })

/** The rank of a key's type in the canonical order. `undefined` is refused before. */
function typeRank(value: unknown): number {
  switch (typeof value) {
    case 'number':
      return 0
    case 'bigint':
      return 1
    case 'string':
      return 2
    case 'boolean':
      return 3
    case 'symbol':
      return 4
    default:
      return 5 // objects (null included) and functions
  }
}

/** Ids for keys that have no order of their own (objects, functions, symbols), assigned on first use. */
const weakIds = /* @__PURE__ */ new WeakMap<WeakKey, number>()
/** Registered symbols (`Symbol.for`) cannot be weak keys; they are immortal anyway, so a Map leaks nothing. */
const strongIds = /* @__PURE__ */ new Map<unknown, number>()
let nextId = 1

function idOf(value: unknown): number {
  if (value === null) return 0
  const weak = weakIds.get(value as WeakKey)
  if (weak !== undefined) return weak
  const strong = strongIds.get(value)
  if (strong !== undefined) return strong
  const id = nextId++
  try {
    weakIds.set(value as WeakKey, id)
  } catch {
    // A registered symbol, or a runtime without symbols as WeakMap keys.
    strongIds.set(value, id)
  }
  return id
}

/**
 * The canonical total order of keys: by type (numbers, bigints, strings, booleans,
 * symbols, then objects and functions), then by value (numbers numerically with NaN last,
 * strings by code unit), objects and symbols by an id assigned the first time they are compared.
 */
export function compareKeys(a: unknown, b: unknown): number {
  const ra = typeRank(a)
  const rb = typeRank(b)
  if (ra !== rb) return ra - rb
  switch (ra) {
    case 0: {
      const x = a as number
      const y = b as number
      if (x < y) return -1
      if (x > y) return 1
      const nx = Number.isNaN(x)
      return nx === Number.isNaN(y) ? 0 : nx ? 1 : -1
    }
    case 1:
    case 2:
      return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0
    case 3:
      return a === b ? 0 : a === false ? -1 : 1
    default:
      return idOf(a) - idOf(b)
  }
}

function keysError(method: string, received: string): TypeError {
  return new TypeError(`asyncsafe: ${method}: keys must be a key or a non-empty array of keys (a key may be any value but undefined), received ${received}`)
}

/** Reads a request's keys. Throws TypeError for undefined, an empty array, or an array holding undefined. */
function parseKeys<K>(method: string, keys: unknown): Keys<K> {
  if (!Array.isArray(keys)) {
    if (keys === undefined) throw keysError(method, 'undefined')
    return { one: true, key: keys as K }
  }
  const n = keys.length
  if (n === 0) throw keysError(method, 'an empty array')
  for (let i = 0; i < n; i++) {
    if (keys[i] === undefined) throw keysError(method, `undefined at index ${i}`)
  }
  if (n === 1) return { one: true, key: keys[0] as K }
  if (n > 16) {
    const unique = [...new Set(keys as K[])]
    if (unique.length === 1) return { one: true, key: unique[0]! }
    unique.sort(compareKeys)
    return { one: false, keys: unique }
  }
  // Few keys (the common case): deduplicate (SameValueZero, as Set) and insertion-sort in
  // one pass, without a Set and a spread per request.
  const sorted: K[] = []
  next: for (let i = 0; i < n; i++) {
    const key = keys[i] as K
    let j = sorted.length
    for (let m = 0; m < j; m++) {
      const other = sorted[m]
      if (other === key || (other !== other && key !== key)) continue next
    }
    sorted.push(key)
    while (j > 0 && compareKeys(sorted[j - 1], key) > 0) {
      sorted[j] = sorted[j - 1]!
      j--
    }
    sorted[j] = key
  }
  return sorted.length === 1 ? { one: true, key: sorted[0]! } : { one: false, keys: sorted }
}

/** Validates a wait's options, refusing unknown keys. Throws TypeError/RangeError. */
function parseWait(method: string, options: unknown): ParsedWait {
  if (options === undefined) return NO_WAIT
  checkOptions<WaitOptions>(`${method}: options`, options, WAIT_OPTIONS)
  return parseWaitOptions(options)
}

function describeKeys(keys: readonly unknown[]): string {
  const shown = keys.slice(0, 5).map(describe).join(', ')
  return keys.length > 5 ? `[${shown}, … ${keys.length - 5} more]` : `[${shown}]`
}

/**
 * The active keys' cores. String keys live in a prototype-less object, every other key in
 * a `Map`, which is replaced by a fresh one whenever it empties. Measured on Node 20: a
 * long-lived (old-generation) `Map` whose entries come and go costs 0.2 to 0.6 µs per
 * insert+delete (its table is reallocated as deleted entries pile up), against about
 * 60 ns for a young `Map` or an object used as a dictionary; a keyed lock with a new key
 * per request does exactly that churn.
 */
class CoreTable<K, V> {
  private strings: Record<string, V | undefined> = Object.create(null) as Record<string, V | undefined>
  private others = new Map<K, V>()
  /** Number of entries. */
  size = 0

  get(key: K): V | undefined {
    return typeof key === 'string' ? this.strings[key] : this.others.get(key)
  }

  /** Adds `key` (absent). */
  add(key: K, value: V): void {
    if (typeof key === 'string') this.strings[key] = value
    else this.others.set(key, value)
    this.size++
  }

  /** Removes `key` (present). */
  remove(key: K): void {
    if (typeof key === 'string') {
      // Deleting makes the object a dictionary at once: O(1) inserts and deletes after that.
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
      delete this.strings[key]
    } else {
      this.others.delete(key)
      if (this.others.size === 0) this.others = new Map()
    }
    this.size--
  }

  /** The keys: strings first. */
  keys(): K[] {
    return [...(Object.keys(this.strings) as K[]), ...this.others.keys()]
  }

  /** The values: strings' first. */
  values(): V[] {
    return [...(Object.values(this.strings) as V[]), ...this.others.values()]
  }
}

/** The core of one active key. Retires itself from its engine once idle. */
class KeyCore<K> extends LockCore {
  declare readonly engine: KeyedEngine<K>
  /** Set again when the engine reuses this core for another key (see `KeyedEngine.retire`). */
  declare key: K
  /** Multi-key requests in progress that name this key: it is not retired meanwhile (its identity owns their re-entry tokens). */
  declare pins: number

  constructor(engine: KeyedEngine<K>, key: K, options: LockOptions) {
    super(engine.kind, engine.capacity, false, options, false)
    this.engine = engine
    this.key = key
    this.pins = 0
    // Every key records into the lock's histograms: one pair per lock, not per key (a
    // histogram allocates 4.7 kB on its first non-zero record).
    const shared = this as { waitHist: Histogram; holdHist: Histogram }
    shared.waitHist = engine.waitHist
    shared.holdHist = engine.holdHist
  }

  /** `KeyedMutex "name" key "a"` for messages. */
  override label(): string {
    return `${super.label()} key ${describe(this.key)}`
  }

  /** Whether nothing refers to this key any more. */
  idle(): boolean {
    return this.available === this.capacity && this.queue.size === 0 && this.pins === 0
  }

  override release(guard: LockGuard): void {
    super.release(guard)
    if (this.available === this.capacity && this.queue.size === 0 && this.pins === 0) this.engine.retire(this)
  }

  override abortWaiter(w: Waiter): void {
    super.abortWaiter(w)
    if (this.idle()) this.engine.retire(this)
  }

  override timeoutWaiter(w: Waiter): void {
    super.timeoutWaiter(w)
    if (this.idle()) this.engine.retire(this)
  }
}

/** Internal engine of `KeyedMutex` (capacity 1) and `KeyedRwLock` (readers share, writers exclusive). */
export class KeyedEngine<K> {
  readonly kind: string
  readonly capacity: number
  readonly name: string | undefined
  readonly maxPending: number
  readonly cores = new CoreTable<K, KeyCore<K>>()
  // Every key's core records into these, so keyed locks publish asyncsafe:lock:acquire and
  // :release (kind KeyedMutex / KeyedRwLock) like the other locks.
  readonly waitHist: Histogram = new LockTimes(this, false)
  readonly holdHist: Histogram = new LockTimes(this, true)
  readonly tracker: ReentryTracker | undefined
  /** Idle cores kept for reuse (only when their options carry no key). */
  private readonly spare: KeyCore<K>[] = []
  /** Options handed to every new core, or undefined when each core needs its own (`onLongHold` gets the key). */
  private readonly coreOptions: LockOptions | undefined
  private readonly baseOptions: LockOptions
  private readonly onLongHold: ((info: KeyedLongHoldInfo<K>) => void) | undefined
  // Counters of retired cores, plus outcomes no single core saw (a multi-key request
  // aborted before the call, a refused multi-key `timeoutMs: 0`, a grant aborted before
  // its callback ran).
  acquisitions = 0
  contended = 0
  timeouts = 0
  aborts = 0
  longHolds = 0
  queueFull = 0

  constructor(kind: string, capacity: number, options: unknown) {
    const o = checkOptions<KeyedLockOptions<K>>(`${kind}: options`, options, KEYED_OPTIONS)
    this.kind = kind
    this.capacity = capacity
    this.name = checkOptionalString(`${kind}: options.name`, o.name)
    this.maxPending = o.maxPending === undefined || o.maxPending === Infinity ? Infinity : checkNonNegativeInteger(`${kind}: options.maxPending`, o.maxPending)
    const clock = checkOptionalFunction<Clock>(`${kind}: options.clock`, o.clock) ?? defaultClock
    const longHoldMs = o.longHoldMs === undefined ? undefined : checkPositiveFinite(`${kind}: options.longHoldMs`, o.longHoldMs)
    this.onLongHold = checkOptionalFunction<(info: KeyedLongHoldInfo<K>) => void>(`${kind}: options.onLongHold`, o.onLongHold)
    const captureStack = checkOptionalBoolean(`${kind}: options.captureStack`, o.captureStack)
    const detect = checkOptionalBoolean(`${kind}: options.detectReentry`, o.detectReentry) ?? false
    this.tracker = detect ? ReentryTracker.create() : undefined
    this.baseOptions = { name: this.name, clock, longHoldMs, captureStack }
    this.coreOptions = longHoldMs !== undefined && this.onLongHold !== undefined ? undefined : this.baseOptions
  }

  /** `KeyedMutex "name"` for messages. */
  label(): string {
    return this.name === undefined ? this.kind : `${this.kind} "${this.name}"`
  }

  /** The core of `key`, created on demand. */
  coreFor(key: K): KeyCore<K> {
    let core = this.cores.get(key)
    if (core === undefined) {
      core = this.spare.pop()
      if (core === undefined) core = new KeyCore(this, key, this.coreOptions ?? this.optionsWithKey(key))
      else core.key = key
      this.cores.add(key, core)
    }
    return core
  }

  /** Per-core options whose `onLongHold` reports the key. */
  private optionsWithKey(key: K): LockOptions {
    const onLongHold = this.onLongHold!
    return {
      ...this.baseOptions,
      onLongHold: (info) => {
        onLongHold({ ...info, key })
      },
    }
  }

  /**
   * Forgets an idle core, folding its counters into the totals. A few idle cores are kept
   * for reuse: a workload of short-lived keys (a new key per request) then allocates no
   * core per key. Reuse is safe because an idle core has no holder, no waiter, no timer
   * and no listener; released guards and finished re-entry tokens that still point at it
   * never act on it again.
   */
  retire(core: KeyCore<K>): void {
    if (this.cores.get(core.key) !== core) return
    this.cores.remove(core.key)
    this.acquisitions += core.acquisitions
    this.contended += core.contended
    this.timeouts += core.timeouts
    this.aborts += core.aborts
    this.longHolds += core.longHolds
    if (this.coreOptions !== undefined && this.spare.length < SPARE_CORES) {
      core.acquisitions = core.contended = core.timeouts = core.aborts = core.longHolds = 0
      this.spare.push(core)
    }
  }

  private unpin(cores: readonly KeyCore<K>[]): void {
    for (const core of cores) {
      core.pins--
      if (core.idle()) this.retire(core)
    }
  }

  // ---- requests ----

  /** `lock`/`read`/`write`: resolves with a guard of every key. */
  lock(method: string, keys: unknown, weight: number, options: unknown): Promise<KeyedLockGuard<K>> {
    try {
      const r = this.acquire(parseKeys<K>(method, keys), weight, parseWait(method, options), false)
      return r instanceof KeyedLockGuard ? Promise.resolve(r) : r
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** `runExclusive`/`runRead`/`runWrite`. */
  run<T>(method: string, keys: unknown, fn: () => T | PromiseLike<T>, weight: number, options: unknown): Promise<T> {
    if (options === undefined && this.tracker === undefined && typeof fn === 'function' && !Array.isArray(keys) && keys !== undefined) {
      // One key, no options: what the core's own fast path does, with a guard whose
      // release can retire the key.
      const core = this.coreFor(keys as K)
      if (core.grantable(weight)) return runHeld(fn, core.grantNow(weight, undefined))
      if (core.queue.size < this.maxPending) return runWhenGranted(core.acquire(weight, NO_WAIT), fn, undefined, core)
    }
    try {
      checkFunction(`${method}: fn`, fn)
      const wait = parseWait(method, options)
      const r = this.acquire(parseKeys<K>(method, keys), weight, wait, true)
      if (r instanceof KeyedLockGuard) return this.runGranted(fn, r)
      // Granted but aborted before fn could start: the keys are handed on, counted as an abort.
      return runWhenGranted(r, fn, wait.signal, this, this.callHeld)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** `tryLock`/`tryRead`/`tryWrite`: every key now, or nothing. Throws TypeError on bad keys. */
  tryLock(method: string, keys: unknown, weight: number): KeyedLockGuard<K> | undefined {
    const k = parseKeys<K>(method, keys)
    const list = k.one ? [k.key] : k.keys
    const tracker = this.tracker
    for (const key of list) {
      const core = this.cores.get(key)
      if (core === undefined) continue
      if (!core.grantable(weight) || tracker?.holds(core) === true) return undefined
    }
    const guards: LockGuard[] = []
    let tokens: ReentryToken[] | undefined
    for (const key of list) {
      const core = this.coreFor(key)
      if (tracker !== undefined) {
        const token = tracker.enter(core)
        token.state = HELD
        ;(tokens ??= []).push(token)
      }
      guards.push(core.grantNow(weight, undefined))
    }
    return new KeyedLockGuard(list, guards, tokens)
  }

  /** A guard when granted now, else a promise of one. Rejections are returned, never thrown. */
  private acquire(k: Keys<K>, weight: number, wait: ParsedWait, scoped: boolean): KeyedLockGuard<K> | Promise<KeyedLockGuard<K>> {
    const signal = wait.signal
    if (signal?.aborted) {
      this.aborts++
      return Promise.reject(signal.reason)
    }
    return k.one ? this.acquireOne(k.key, weight, wait, scoped) : this.acquireMany(k.keys, weight, wait, scoped)
  }

  private acquireOne(key: K, weight: number, wait: ParsedWait, scoped: boolean): KeyedLockGuard<K> | Promise<KeyedLockGuard<K>> {
    const core = this.coreFor(key)
    let token: ReentryToken | undefined
    const tracker = this.tracker
    if (tracker !== undefined) {
      // A context that holds the key holds its core, so the core is not idle here.
      if (tracker.holds(core)) return Promise.reject(core.reentrancyError())
      token = scoped ? tracker.scoped(core) : tracker.enter(core)
    }
    const tokens = token === undefined ? undefined : [token]
    if (core.grantable(weight)) {
      if (token !== undefined) token.state = HELD
      return new KeyedLockGuard([key], [core.grantNow(weight, undefined)], tokens)
    }
    // Not grantable, so the key has a holder or waiters: the core stays in the map.
    if (wait.timeoutMs !== 0 && core.queue.size >= this.maxPending) {
      if (token !== undefined) token.state = DONE
      this.queueFull++
      return Promise.reject(this.queueFullError(core))
    }
    return core.acquire(weight, wait).then(
      (guard) => {
        if (token !== undefined) token.state = HELD
        return new KeyedLockGuard([key], [guard], tokens)
      },
      (error: unknown) => {
        if (token !== undefined) token.state = DONE
        throw error
      },
    )
  }

  private acquireMany(keys: K[], weight: number, wait: ParsedWait, scoped: boolean): KeyedLockGuard<K> | Promise<KeyedLockGuard<K>> {
    const n = keys.length
    const cores: KeyCore<K>[] = []
    for (let i = 0; i < n; i++) {
      const core = this.coreFor(keys[i]!)
      core.pins++
      cores.push(core)
    }
    // From here on every exit unpins (and so retires the keys left idle).
    let tokens: ReentryToken[] | undefined
    const tracker = this.tracker
    if (tracker !== undefined) {
      for (const core of cores) {
        if (tracker.holds(core)) {
          this.unpin(cores)
          return Promise.reject(core.reentrancyError())
        }
      }
      // Entered now, in the caller's synchronous execution: the caller's context carries them.
      tokens = cores.map((core) => (scoped ? tracker.scoped(core) : tracker.enter(core)))
    }
    let free = true
    for (const core of cores) {
      if (!core.grantable(weight)) {
        free = false
        break
      }
    }
    if (free) {
      const guards = cores.map((core) => core.grantNow(weight, undefined))
      if (tokens !== undefined) for (const t of tokens) t.state = HELD
      this.unpin(cores)
      return new KeyedLockGuard(keys, guards, tokens)
    }
    let refusal: unknown
    if (wait.timeoutMs === 0) {
      this.timeouts++
      refusal = new TimeoutError(`${this.label()}: wait for keys ${describeKeys(keys)} timed out after 0 ms`, { timeoutMs: 0 })
    } else {
      for (const core of cores) {
        if (!core.grantable(weight) && core.queue.size >= this.maxPending) {
          this.queueFull++
          refusal = this.queueFullError(core)
          break
        }
      }
    }
    if (refusal !== undefined) {
      if (tokens !== undefined) for (const t of tokens) t.state = DONE
      this.unpin(cores)
      return Promise.reject(refusal)
    }
    return this.waitMany(keys, cores, weight, wait, tokens)
  }

  /**
   * Takes the keys one at a time, in canonical order. One timer bounds the whole request:
   * it aborts the wait in progress through an internal signal (linked to the caller's).
   */
  private async waitMany(keys: K[], cores: KeyCore<K>[], weight: number, wait: ParsedWait, tokens: ReentryToken[] | undefined): Promise<KeyedLockGuard<K>> {
    const guards: LockGuard[] = []
    const { signal, timeoutMs } = wait
    let inner: ParsedWait = signal === undefined ? NO_WAIT : { signal, timeoutMs: undefined, priority: 0 }
    let timer: TimerHandle | undefined
    let onAbort: (() => void) | undefined
    let timeoutError: TimeoutError | undefined
    if (timeoutMs !== undefined) {
      const ctl = new AbortController()
      inner = { signal: ctl.signal, timeoutMs: undefined, priority: 0 }
      timer = armTimer(timeoutMs, () => {
        timer = undefined
        timeoutError = new TimeoutError(`${this.label()}: wait for keys ${describeKeys(keys)} timed out after ${timeoutMs} ms`, { timeoutMs })
        ctl.abort(timeoutError)
      })
      if (signal !== undefined) {
        onAbort = () => {
          ctl.abort(signal.reason)
        }
        signal.addEventListener('abort', onAbort, { once: true })
      }
    }
    try {
      for (let i = 0; i < cores.length; i++) {
        const core = cores[i]!
        let guard: LockGuard
        if (core.grantable(weight)) {
          guard = core.grantNow(weight, undefined)
        } else {
          if (core.queue.size >= this.maxPending) {
            this.queueFull++
            throw this.queueFullError(core)
          }
          try {
            guard = await core.acquire(weight, inner)
          } catch (error) {
            if (error !== undefined && error === timeoutError) {
              // The core saw our internal abort; for the caller it is a timeout.
              core.aborts--
              core.timeouts++
            }
            throw error
          }
        }
        guards.push(guard)
        if (tokens !== undefined) tokens[i]!.state = HELD
      }
      return new KeyedLockGuard(keys, guards, tokens)
    } catch (error) {
      if (tokens !== undefined) for (const t of tokens) t.state = DONE
      for (let i = guards.length - 1; i >= 0; i--) guards[i]!.release()
      throw error
    } finally {
      disarmTimer(timer)
      if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort)
      this.unpin(cores)
    }
  }

  /** Runs `fn` while `guard` holds its keys; releases when `fn` settles. */
  /** Calls `fn` for a granted guard: in the re-entry scope of its keys when detection is on. */
  private readonly callHeld = <T>(guard: KeyedLockGuard<K>, fn: () => T | PromiseLike<T>): T | PromiseLike<T> => {
    const tokens = guard.tokens
    return tokens === undefined ? fn() : this.runScoped(tokens, 0, fn)
  }

  private runGranted<T>(fn: () => T | PromiseLike<T>, guard: KeyedLockGuard<K>): Promise<T> {
    const tokens = guard.tokens
    return runHeld(tokens === undefined ? fn : () => this.runScoped(tokens, 0, fn), guard)
  }

  /** Calls `fn` in a context that carries `tokens[i..]` (only `fn`'s flow counts as the holder). */
  private runScoped<T>(tokens: readonly ReentryToken[], i: number, fn: () => T): T {
    if (i === tokens.length) return fn()
    return this.tracker!.run(tokens[i]!, () => this.runScoped(tokens, i + 1, fn), undefined)
  }

  private queueFullError(core: KeyCore<K>): QueueFullError {
    return new QueueFullError(`${core.label()}: ${this.maxPending} waiter${this.maxPending === 1 ? '' : 's'} already queued (maxPending)`, { maxPending: this.maxPending })
  }

  // ---- state ----

  /** Whether `key` has a holder (of any weight). */
  held(key: K): boolean {
    const core = this.cores.get(key)
    return core !== undefined && core.available < core.capacity
  }

  /** Whether `key` is held with the whole capacity (the mutex, or a writer). */
  exclusive(key: K): boolean {
    const core = this.cores.get(key)
    return core?.available === 0
  }

  /** Waiters queued over every key. O(active keys). */
  waiting(): number {
    let n = 0
    for (const core of this.cores.values()) n += core.queue.size
    return n
  }

  /** Statistics summed over retired and active keys. O(active keys). */
  stats(): KeyedLockStats {
    let { acquisitions, contended, timeouts, aborts, longHolds } = this
    for (const core of this.cores.values()) {
      acquisitions += core.acquisitions
      contended += core.contended
      timeouts += core.timeouts
      aborts += core.aborts
      longHolds += core.longHolds
    }
    return {
      name: this.name,
      acquisitions,
      contended,
      timeouts,
      aborts,
      longHolds,
      queueFull: this.queueFull,
      wait: this.waitHist.summary(),
      hold: this.holdHist.summary(),
    }
  }
}
