/**
 * The input-error rule, checked on every public callable (README, "Bad input"):
 *
 * - a constructor or a function/method that does not return a promise THROWS its
 *   TypeError/RangeError synchronously;
 * - a function/method declared to return a promise never throws: it REJECTS with it;
 * - never both: the mode follows from the declared return type alone;
 * - an options object with an unknown key is a TypeError naming the key.
 *
 * The list of callables is read from the sources with the TypeScript compiler
 * (api-surface.ts), so a new export or method without an entry below fails the
 * completeness test. Exemptions say why the callable has no bad input to refuse.
 * `asyncsafe/compat/async-mutex` is outside the rule: there async-mutex's behaviour wins
 * (DESIGN.md).
 */
import { describe, expect, it } from 'vitest'
import * as api from '../../src/index.js'
import * as nodeApi from '../../src/node/index.js'
import * as otelApi from '../../src/otel/index.js'
import { publicCallables, type Callable } from './api-surface.js'

const {
  DetachedPool, Initializer, KeyedMutex, KeyedRwLock, LruTtlCache, Mutex, RwLock, Semaphore,
  SingleFlightGroup, TaskScope, backoffDelay, createBatcher, every, linkSignals, listen, onAbort, retry,
  spawnDetached, spawnGuarded, swap, swapWith, timeoutSignal,
} = api
const { gracefulKill, onSignals, watchEventLoop } = nodeApi
const { instrument } = otelApi

/** A key no API has, for the unknown-option checks. */
const BOGUS = { notAnOption: 1 }
const fn = (): undefined => undefined
const task = (): Promise<void> => Promise.resolve()

/** Bad calls of a callable, by what they get wrong. */
type Bad = Record<string, () => unknown>
type Entry = Bad | { readonly exempt: string }

const callables = publicCallables(['src/index.ts', 'src/node/index.ts', 'src/otel/index.ts'])

const ERROR_CLASS = 'an error class: every message and cause is valid input'
const GETTER_LIKE = 'takes no input'
const ANY_KEY = 'any key is valid input (compared with SameValueZero)'
const KEY_QUERY = 'a question about one key: any value is valid input (a key never requested is not locked)'

/** The bad calls of every public callable that takes input, or why it has none. */
const entries: Record<string, Entry> = {
  // errors
  'ClosedError.constructor': { exempt: ERROR_CLASS },
  'DisposedError.constructor': { exempt: ERROR_CLASS },
  'DroppedError.constructor': { exempt: ERROR_CLASS },
  'QueueFullError.constructor': { exempt: ERROR_CLASS },
  'ReentrancyError.constructor': { exempt: ERROR_CLASS },
  'RetryError.constructor': { 'errors not iterable': () => new api.RetryError(5 as never) },
  'TimeoutError.constructor': { exempt: ERROR_CLASS },
  'SuppressedError.constructor': { exempt: 'the TC39 class: every error, suppressed value and message is valid input' },

  // locks
  'Mutex.constructor': { 'unknown option': () => new Mutex(BOGUS as never), 'bad longHoldMs': () => new Mutex({ longHoldMs: -1 }) },
  'Mutex.lock': { 'unknown option': () => new Mutex().lock(BOGUS as never), 'bad timeoutMs': () => new Mutex().lock({ timeoutMs: -1 }) },
  'Mutex.runExclusive': { 'non-function': () => new Mutex().runExclusive(5 as never), 'unknown option': () => new Mutex().runExclusive(fn, BOGUS as never) },
  'RwLock.constructor': { 'unknown option': () => new RwLock(BOGUS as never) },
  'RwLock.read': { 'unknown option': () => new RwLock().read(BOGUS as never), 'bad signal': () => new RwLock().read({ signal: 5 as never }) },
  'RwLock.write': { 'unknown option': () => new RwLock().write(BOGUS as never), 'bad timeoutMs': () => new RwLock().write({ timeoutMs: Number.NaN }) },
  'RwLock.runRead': { 'non-function': () => new RwLock().runRead(5 as never), 'unknown option': () => new RwLock().runRead(fn, BOGUS as never) },
  'RwLock.runWrite': { 'non-function': () => new RwLock().runWrite(5 as never), 'unknown option': () => new RwLock().runWrite(fn, BOGUS as never) },
  'Semaphore.constructor': { 'bad permits': () => new Semaphore(0), 'unknown option': () => new Semaphore(1, BOGUS as never) },
  'Semaphore.acquire': {
    'more than the capacity': () => new Semaphore(1).acquire(2),
    'unknown option': () => new Semaphore(1).acquire(1, BOGUS as never),
    'NaN priority': () => new Semaphore(1).acquire(1, { priority: Number.NaN }),
  },
  'Semaphore.tryAcquire': { 'bad count': () => new Semaphore(1).tryAcquire(-1) },
  'Semaphore.run': { 'non-function': () => new Semaphore(1).run(5 as never), 'unknown option': () => new Semaphore(1).run(fn, BOGUS as never) },
  'Semaphore.close': { exempt: 'any close reason is valid input' },
  'Semaphore.onIdle': { 'unknown option': () => new Semaphore(1).onIdle(BOGUS as never), 'bad signal': () => new Semaphore(1).onIdle({ signal: 5 as never }) },
  'Semaphore.onSizeLessThan': {
    'limit 0': () => new Semaphore(1).onSizeLessThan(0),
    'string limit': () => new Semaphore(1).onSizeLessThan('2' as never),
    'unknown option': () => new Semaphore(1).onSizeLessThan(1, BOGUS as never),
  },
  'KeyedMutex.constructor': { 'unknown option': () => new KeyedMutex(BOGUS as never), 'bad maxPending': () => new KeyedMutex({ maxPending: -1 }) },
  'KeyedMutex.lock': { 'empty keys': () => new KeyedMutex().lock([]), 'unknown option': () => new KeyedMutex().lock('k', BOGUS as never), 'bad timeoutMs': () => new KeyedMutex().lock('k', { timeoutMs: -1 }) },
  'KeyedMutex.tryLock': { 'empty keys': () => new KeyedMutex().tryLock([]), 'undefined key': () => new KeyedMutex().tryLock(undefined) },
  'KeyedMutex.runExclusive': { 'non-function': () => new KeyedMutex().runExclusive('k', 5 as never), 'unknown option': () => new KeyedMutex().runExclusive('k', fn, BOGUS as never), 'empty keys': () => new KeyedMutex().runExclusive([], fn) },
  'KeyedMutex.isLocked': { exempt: KEY_QUERY },
  'KeyedRwLock.constructor': { 'unknown option': () => new KeyedRwLock(BOGUS as never), 'bad longHoldMs': () => new KeyedRwLock({ longHoldMs: -1 }) },
  'KeyedRwLock.read': { 'empty keys': () => new KeyedRwLock().read([]), 'unknown option': () => new KeyedRwLock().read('k', BOGUS as never) },
  'KeyedRwLock.write': { 'undefined key': () => new KeyedRwLock().write(undefined), 'unknown option': () => new KeyedRwLock().write('k', BOGUS as never) },
  'KeyedRwLock.tryRead': { 'empty keys': () => new KeyedRwLock().tryRead([]) },
  'KeyedRwLock.tryWrite': { 'empty keys': () => new KeyedRwLock().tryWrite([]) },
  'KeyedRwLock.runRead': { 'non-function': () => new KeyedRwLock().runRead('k', 5 as never), 'unknown option': () => new KeyedRwLock().runRead('k', fn, BOGUS as never) },
  'KeyedRwLock.runWrite': { 'non-function': () => new KeyedRwLock().runWrite(['a', 'b'], 5 as never), 'unknown option': () => new KeyedRwLock().runWrite('k', fn, BOGUS as never) },
  'KeyedRwLock.isLocked': { exempt: KEY_QUERY },
  'KeyedRwLock.isWriteLocked': { exempt: KEY_QUERY },

  // cache
  'LruTtlCache.constructor': {
    'unknown option': () => new LruTtlCache(BOGUS as never),
    'bad capacity': () => new LruTtlCache({ capacity: 0 }),
    'bad graceMs': () => new LruTtlCache({ capacity: 1, graceMs: -1 }),
    'bad refreshAheadRatio': () => new LruTtlCache({ capacity: 1, refreshAheadRatio: 1 }),
    'bad softTimeoutMs': () => new LruTtlCache({ capacity: 1, softTimeoutMs: Number.NaN }),
    'bad refreshTimeoutMs': () => new LruTtlCache({ capacity: 1, refreshTimeoutMs: -5 }),
  },
  'LruTtlCache.get': { exempt: ANY_KEY },
  'LruTtlCache.peek': { exempt: ANY_KEY },
  'LruTtlCache.has': { exempt: ANY_KEY },
  'LruTtlCache.delete': { exempt: ANY_KEY },
  'LruTtlCache.set': { 'unknown option': () => new LruTtlCache({ capacity: 1 }).set('k', 1, BOGUS as never), 'bad ttlMs': () => new LruTtlCache({ capacity: 1 }).set('k', 1, { ttlMs: -1 }) },
  'LruTtlCache.getOrLoad': {
    'non-function loader': () => new LruTtlCache({ capacity: 1 }).getOrLoad('k', 5 as never),
    'unknown option': () => new LruTtlCache({ capacity: 1 }).getOrLoad('k', fn, BOGUS as never),
    'bad softTimeoutMs': () => new LruTtlCache({ capacity: 1 }).getOrLoad('k', fn, { softTimeoutMs: -1 }),
    'non-boolean allowStale': () => new LruTtlCache({ capacity: 1 }).getOrLoad('k', fn, { allowStale: 'no' as never }),
  },
  'LruTtlCache.getOrLoadWithStatus': {
    'non-function loader': () => new LruTtlCache({ capacity: 1 }).getOrLoadWithStatus('k', 5 as never),
    'unknown option': () => new LruTtlCache({ capacity: 1 }).getOrLoadWithStatus('k', fn, BOGUS as never),
    'bad softTimeoutMs': () => new LruTtlCache({ capacity: 1 }).getOrLoadWithStatus('k', fn, { softTimeoutMs: Number.NaN }),
  },
  'LruTtlCache.observe': { 'non-function': () => new LruTtlCache({ capacity: 1 }).observe(5 as never) },

  // guards
  spawnGuarded: { 'non-function': () => spawnGuarded(5 as never), 'unknown option': () => spawnGuarded(task, BOGUS as never) },
  'TaskGuard.abort': { exempt: 'any abort reason is valid input' },
  'TaskScope.constructor': { 'unknown option': () => new TaskScope(BOGUS as never), 'bad settleTimeoutMs': () => new TaskScope({ settleTimeoutMs: -1 }) },
  'TaskScope.spawn': { 'non-function': () => new TaskScope().spawn(5 as never), 'unknown option': () => new TaskScope().spawn(task, BOGUS as never) },
  'TaskScope.abortAll': { exempt: 'any abort reason is valid input' },
  swap: { 'non-object target': () => swap(5 as never, 'k' as never, 1 as never) },
  swapWith: { 'non-function': () => swapWith(5 as never, fn, 1) },
  listen: { 'non-target': () => listen(5 as never, 'x', fn), 'unknown option': () => listen(new EventTarget(), 'x', fn, BOGUS as never) },
  every: { 'bad interval': () => every(0, fn), 'unknown option': () => every(1_000, fn, BOGUS as never) },
  createBatcher: { 'no flush': () => createBatcher({} as never), 'unknown option': () => createBatcher({ flush: fn, ...BOGUS }) },
  linkSignals: { 'non-signal': () => linkSignals(5 as never) },
  timeoutSignal: { 'bad ms': () => timeoutSignal(-1), 'unknown option': () => timeoutSignal(1_000, BOGUS as never) },
  onAbort: { 'non-signal': () => onAbort(5 as never, fn) },
  'DisposableStack.constructor': { exempt: GETTER_LIKE },
  'AsyncDisposableStack.constructor': { exempt: GETTER_LIKE },

  // tasks
  'Initializer.constructor': { 'non-function': () => new Initializer(5 as never), 'unknown option': () => new Initializer(task, BOGUS as never) },
  'Initializer.get': { 'unknown option': () => new Initializer(task).get(BOGUS as never), 'bad signal': () => new Initializer(task).get({ signal: 5 as never }) },
  'SingleFlightGroup.constructor': { 'unknown option': () => new SingleFlightGroup(BOGUS as never) },
  'SingleFlightGroup.run': { 'non-function': () => new SingleFlightGroup().run('k', 5 as never), 'unknown option': () => new SingleFlightGroup().run('k', task, BOGUS as never) },
  'SingleFlightGroup.forget': { exempt: ANY_KEY },
  'SingleFlightGroup.inFlight': { exempt: ANY_KEY },
  'DetachedPool.constructor': {
    'unknown option': () => new DetachedPool(BOGUS as never),
    'bad concurrency': () => new DetachedPool({ concurrency: 0 }),
    'intervalCap without intervalMs': () => new DetachedPool({ intervalCap: 2 }),
    'bad intervalMs': () => new DetachedPool({ intervalMs: 0, intervalCap: 1 }),
    'bad paused': () => new DetachedPool({ paused: 1 as never }),
  },
  'DetachedPool.run': {
    'non-function': () => new DetachedPool().run(5 as never),
    'unknown option': () => new DetachedPool().run(task, BOGUS as never),
    'Infinity priority': () => new DetachedPool().run(task, { priority: Infinity }),
    'string priority': () => new DetachedPool().run(task, { priority: '1' as never }),
  },
  'DetachedPool.call': {
    'non-function': () => new DetachedPool().call(5 as never),
    'unknown option': () => new DetachedPool().call(task, BOGUS as never),
    'NaN priority': () => new DetachedPool().call(task, { priority: Number.NaN }),
    'bad signal': () => new DetachedPool().call(task, { signal: 5 as never }),
  },
  'DetachedPool.onIdle': { 'unknown option': () => new DetachedPool().onIdle(BOGUS as never), 'bad timeoutMs': () => new DetachedPool().onIdle({ timeoutMs: -1 }) },
  'DetachedPool.onSizeLessThan': {
    'n 0': () => new DetachedPool().onSizeLessThan(0),
    'n not an integer': () => new DetachedPool().onSizeLessThan(1.5),
    'unknown option': () => new DetachedPool().onSizeLessThan(1, BOGUS as never),
  },
  'DetachedPool.drain': { 'bad timeout': () => new DetachedPool().drain(-1), 'unknown option': () => new DetachedPool().drain(BOGUS as never) },
  spawnDetached: { 'non-function': () => spawnDetached(5 as never), 'unknown option': () => spawnDetached(task, BOGUS as never) },
  retry: { 'non-function': () => retry(5 as never), 'unknown option': () => retry(task, BOGUS as never), 'bad attempts': () => retry(task, { attempts: 0 }) },
  backoffDelay: {
    'negative baseMs': () => backoffDelay(2, -5, 1_000, 2),
    'failed 0': () => backoffDelay(0, 100, 1_000, 2),
    'factor below 1': () => backoffDelay(2, 100, 1_000, 0.5),
    'NaN maxMs': () => backoffDelay(2, 100, Number.NaN, 2),
    'string failed': () => backoffDelay('2' as never, 100, 1_000, 2),
  },

  // node
  gracefulKill: { 'pid 0': () => gracefulKill(0), 'unknown option': () => gracefulKill(2 ** 22 + 1, BOGUS as never) },
  watchEventLoop: { 'no threshold': () => watchEventLoop({} as never), 'unknown option': () => watchEventLoop({ thresholdMs: 100, ...BOGUS }) },
  onSignals: { 'unknown signal': () => onSignals(['SIGNOPE'] as never, fn), 'non-function': () => onSignals(['SIGUSR2'], 5 as never) },

  // otel
  instrument: { 'unknown option': () => instrument(BOGUS as never), 'unknown module': () => instrument({ modules: ['lock'] as never }), 'not a provider': () => instrument({ meterProvider: {} as never }) },
}

/**
 * Deviations found on main in modules other helpers own (listed for the lead): each is
 * checked to still deviate (`it.fails`), so fixing one fails this file until its line is
 * removed here.
 */
const PENDING_OWNER_FIX: ReadonlySet<string> = new Set<string>([
])

/** Runs a bad call in the mode its declared return type implies; returns the error. */
async function refusal(callable: Callable, call: () => unknown): Promise<unknown> {
  if (!callable.returnsPromise) {
    try {
      call()
    } catch (error) {
      return error
    }
    throw new Error('did not throw synchronously (it does not return a promise, so it must)')
  }
  let result: unknown
  try {
    result = call()
  } catch (error) {
    throw new Error(`threw synchronously (${String(error)}); it returns a promise, so it must reject instead`)
  }
  if (!(result instanceof Promise)) throw new Error('returned no promise')
  return result.then(
    () => {
      throw new Error('resolved instead of rejecting')
    },
    (error: unknown) => error,
  )
}

describe('the input-error rule, on every public callable', () => {
  it('every public callable that takes input has bad calls or an exemption (and no entry is stale)', () => {
    const ids = callables.filter((c) => c.takesInput).map((c) => c.id)
    expect(ids.filter((id) => !(id in entries)), 'callables without an entry').toEqual([])
    const all = new Set(callables.map((c) => c.id))
    expect(Object.keys(entries).filter((id) => !all.has(id)), 'entries for no public callable').toEqual([])
    expect(ids.length).toBeGreaterThan(50)
  })

  for (const callable of callables) {
    const entry = entries[callable.id]
    if (entry === undefined || 'exempt' in entry) continue
    for (const [what, call] of Object.entries(entry)) {
      const name = `${callable.id}: ${what} ${callable.returnsPromise ? 'rejects' : 'throws'} with a TypeError/RangeError${what === 'unknown option' ? ' naming the key' : ''}`
      const test = PENDING_OWNER_FIX.has(`${callable.id}: ${what}`) ? it.fails : it
      test(name, async () => {
        const error = await refusal(callable, call)
        expect(error instanceof TypeError || error instanceof RangeError, `got ${String(error)}`).toBe(true)
        if (what === 'unknown option') {
          expect(error).toBeInstanceOf(TypeError)
          expect((error as Error).message).toContain('"notAnOption"')
        }
      })
    }
  }
})

describe('unknown option keys name the likely intended option (guards, cache, node)', () => {
  const message = (call: () => unknown): string => {
    try {
      call()
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError)
      return (error as Error).message
    }
    throw new Error('did not throw')
  }
  const rejection = async (call: () => Promise<unknown>): Promise<string> => {
    const error: unknown = await call().then(
      () => new Error('resolved'),
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TypeError)
    return (error as Error).message
  }

  it('the cache: lru-cache names and near misses', async () => {
    // Issue 10: this said only "capacity must be a positive integer, received undefined".
    expect(message(() => new LruTtlCache({ max: 10 } as never))).toMatch(/^asyncsafe: LruTtlCache: options has no option "max" \(did you mean "capacity"\?\); known options: capacity, ttlMs,/)
    expect(message(() => new LruTtlCache({ capacity: 1, ttl: 5 } as never))).toMatch(/"ttl" \(did you mean "ttlMs"\?\)/)
    expect(message(() => new LruTtlCache({ capacity: 1, dispose: fn } as never))).toMatch(/"dispose" \(did you mean "onEvict"\?\)/)
    expect(message(() => new LruTtlCache({ capacity: 1, maxSize: 5 } as never))).toMatch(/"maxSize" \(capacity \(a count of entries; there is no size-based bound\)\)/)
    const cache = new LruTtlCache<string, number>({ capacity: 1 })
    expect(await rejection(() => cache.set('k', 1, { ttl: 5 } as never))).toMatch(/LruTtlCache.set: options has no option "ttl" \(did you mean "ttlMs"\?\)/)
    expect(cache.size).toBe(0) // nothing stored
    expect(await rejection(() => cache.getOrLoad('k', () => 1, { timeout: 5 } as never))).toMatch(/"timeout" \(did you mean "timeoutMs"\?\)/)
  })

  it('the guards', () => {
    expect(message(() => spawnGuarded(task, { timeoutMs: 5 } as never))).toMatch(/spawnGuarded: options has no option "timeoutMs" \(a guarded task has no timeout of its own: pass signal: timeoutSignal\(ms\).signal\)/)
    expect(message(() => new TaskScope({ failfast: true } as never))).toMatch(/"failfast" \(did you mean "failFast"\?\)/)
    expect(message(() => new TaskScope().spawn(task, { signal: new AbortController().signal } as never))).toMatch(/"signal" \(a child follows its scope: pass signal to the TaskScope\)/)
    expect(message(() => every(1_000, fn, { intervalMs: 5 } as never))).toMatch(/"intervalMs" \(the interval is the first argument: every\(intervalMs, fn, options\)\)/)
    expect(message(() => createBatcher({ flush: fn, intervalMs: 50 } as never))).toMatch(/"intervalMs" \(did you mean "minIntervalMs"\?\)/)
    expect(message(() => createBatcher({ flush: fn, max: 5 } as never))).toMatch(/"max" \(did you mean "maxPending"\?\)/)
    expect(message(() => timeoutSignal(5, { unreff: true } as never))).toMatch(/"unreff" \(did you mean "unref"\?\)/)
    expect(message(() => listen(new EventTarget(), 'x', fn, { onse: true } as never))).toMatch(/"onse" \(did you mean "once"\?\)/)
  })

  it('asyncsafe/node', async () => {
    expect(await rejection(() => gracefulKill(2 ** 22 + 1, { timeoutMs: 5 } as never))).toMatch(/gracefulKill: options has no option "timeoutMs" \(did you mean "graceMs"\?\)/)
    expect(message(() => watchEventLoop({ threshold: 5 } as never))).toMatch(/watchEventLoop: options has no option "threshold" \(did you mean "thresholdMs"\?\)/)
  })
})
