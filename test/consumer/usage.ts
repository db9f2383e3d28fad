/**
 * Consumer type test: what a user of the published package writes, compiled by
 * scripts/consumer-test.ts against the packed tarball's .d.ts as an ESM file (.mts),
 * a CJS file (.cts), both under `module: node16`, and a `moduleResolution: bundler`
 * file, then run (the node16 outputs) to check that TypeScript's own `using` lowering
 * works with the library's guards at run time.
 *
 * Each `@ts-expect-error` line must stay an error: if the published types loosen, the
 * compile fails on the unused directive. `listen` has its own file (listen.ts).
 */
import { ClosedError, RetryError, TimeoutError, type OnError, type Summary } from 'asyncsafe'
import { Mutex, RwLock, Semaphore, type LockGuard, type LockStats, type Permit } from 'asyncsafe/locks'
import { LruTtlCache, type CacheStats } from 'asyncsafe/cache'
import {
  AsyncDisposableStack,
  createBatcher,
  DisposableStack,
  every,
  linkSignals,
  onAbort,
  spawnGuarded,
  swap,
  swapWith,
  TaskScope,
  timeoutSignal,
  type TaskGuard,
} from 'asyncsafe/guards'
import { DetachedPool, Initializer, retry, SingleFlightGroup, spawnDetached } from 'asyncsafe/tasks'

/** Compile-time assertion that `value` has type `T` (and is used). */
function expectType<T>(value: T): T {
  return value
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`consumer check failed: ${what}`)
}

const errors: unknown[] = []
const onError: OnError = (error, context) => {
  errors.push(error)
  expectType<string>(context.area)
}

export async function locks(): Promise<void> {
  const mutex = new Mutex({ name: 'config', longHoldMs: 100, detectReentry: false })
  {
    using guard = await mutex.lock({ timeoutMs: 50 })
    expectType<LockGuard>(guard)
    expectType<number>(guard.heldMs)
    check(mutex.locked, 'mutex is held inside the using block')
  }
  check(!mutex.locked, 'leaving the using block released the mutex')

  const maybe = mutex.tryLock()
  expectType<LockGuard | undefined>(maybe)
  maybe?.release()
  maybe?.release() // idempotent

  const n = await mutex.runExclusive(async () => 42, { signal: AbortSignal.timeout(1_000) })
  expectType<number>(n)
  const stats = mutex.stats()
  expectType<LockStats>(stats)
  expectType<Summary>(stats.hold)
  expectType<number>(stats.wait.p99)
  check(stats.acquisitions >= 3, 'stats count acquisitions')
  // @ts-expect-error runExclusive needs a function
  const refused: Promise<unknown> = mutex.runExclusive(42)
  check(await refused.then(() => false, (error: unknown) => error instanceof TypeError), 'a non-function is refused with a rejected TypeError')

  const rw = new RwLock({ name: 'table' })
  {
    using r1 = await rw.read()
    using r2 = await rw.read()
    expectType<LockGuard>(r1)
    check(rw.tryWrite() === undefined, 'a writer cannot enter beside readers')
    void r2
  }
  const written = await rw.runWrite(() => 'w')
  expectType<string>(written)

  const sem = new Semaphore(3)
  {
    using permit = await sem.acquire(2, { timeoutMs: 10 })
    expectType<Permit>(permit)
    check(sem.available === 1, 'two of three permits are held')
  }
  check(sem.available === 3, 'leaving the block returned the permits')
  await sem.run(async () => undefined, { weight: 2 })
  sem.close()
  try {
    await sem.acquire()
    check(false, 'acquire after close rejects')
  } catch (error) {
    check(error instanceof ClosedError || (error as Error).name === 'ClosedError', 'acquire after close rejects with ClosedError')
  }
}

export async function cache(): Promise<void> {
  const evicted: string[] = []
  const cache = new LruTtlCache<string, { close(): Promise<void> }>({
    capacity: 2,
    ttlMs: 60_000,
    onEvict: async ({ key, value, cause }) => {
      expectType<'evicted' | 'expired' | 'deleted' | 'replaced' | 'cleared' | 'invalidated'>(cause)
      evicted.push(`${key}:${cause}`)
      await value.close()
    },
    notifyConcurrency: 4,
    notifyTimeoutMs: 1_000,
    onError,
  })
  const conn = { close: async () => undefined }
  await cache.set('a', conn)
  await cache.set('b', conn, { ttlMs: 1_000 })
  await cache.set('c', conn)
  check(evicted.join() === 'a:evicted', 'capacity eviction notified once')
  const loaded = await cache.getOrLoad('d', async (key, { signal }) => {
    expectType<string>(key)
    expectType<AbortSignal>(signal)
    return conn
  })
  expectType<{ close(): Promise<void> }>(loaded)
  expectType<{ close(): Promise<void> } | undefined>(cache.get('d'))
  {
    using sub = cache.observe((event, { signal }) => {
      expectType<string>(event.key)
      expectType<AbortSignal>(signal)
    })
    void sub
  }
  const stats = cache.stats()
  expectType<CacheStats>(stats)
  expectType<number>(stats.hitRate)
  // @ts-expect-error keys are strings
  cache.get(1)
  await using disposed = cache
  void disposed
}

export async function guards(): Promise<void> {
  let observed: AbortSignal | undefined
  {
    await using task = spawnGuarded(
      async (signal) => {
        observed = signal
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
        return 1
      },
      { name: 'index', settleTimeoutMs: 1_000, onError },
    )
    expectType<TaskGuard<number>>(task)
    expectType<'running' | 'fulfilled' | 'rejected' | 'aborted'>(task.state)
    // @ts-expect-error state is a closed union
    expectType<'cancelled'>(task.state)
    expectType<Promise<number>>(task.done)
  }
  check(observed?.aborted === true, 'leaving the await using block aborted the guarded task')

  {
    await using scope = new TaskScope({ name: 'session', failFast: false, settleTimeoutMs: 1_000, onError })
    const child = scope.spawn(async () => 'x')
    expectType<TaskGuard<string>>(child)
    await scope.join()
    expectType<number>(scope.size)
  }

  const registry: { progress?: (n: number) => void } = {}
  {
    using restore = swap(registry, 'progress', (n: number) => void n)
    check(typeof registry.progress === 'function', 'swap installs the value')
    void restore
  }
  check(!('progress' in registry), 'swap deletes a key that was absent')

  let cb: (() => void) | undefined
  {
    using restore = swapWith(() => cb, (next) => (cb = next), () => undefined)
    void restore
  }
  check(cb === undefined, 'swapWith restores the previous value')

  let ticks = 0
  {
    using ticker = every(1, () => void ticks++, { until: () => ticks >= 2, immediate: true, unref: true })
    await new Promise((resolve) => setTimeout(resolve, 20))
    void ticker
  }

  const flushed: number[][] = []
  {
    using batch = createBatcher<number>({ flush: (items) => void flushed.push(items), minIntervalMs: 5, maxPending: 2, flushOnDispose: true })
    batch.request(1)
    batch.request(2)
    expectType<number>(batch.pending)
    batch.flushNow()
  }

  const controller = new AbortController()
  {
    using linked = linkSignals(controller.signal, AbortSignal.timeout(10_000))
    expectType<AbortSignal>(linked.signal)
    using t = timeoutSignal(1_000)
    expectType<AbortSignal>(t.signal)
    using off = onAbort(controller.signal, () => undefined)
    void off
  }

  {
    using stack = new DisposableStack()
    stack.defer(() => undefined)
    await using astack = new AsyncDisposableStack()
    astack.defer(async () => undefined)
  }
}

export async function tasks(): Promise<void> {
  const init = new Initializer(async (signal) => {
    expectType<AbortSignal>(signal)
    return { ready: true }
  }, { timeoutMs: 1_000, name: 'dep', onError })
  check(init.start(), 'start() starts a run')
  check(!init.start(), 'a second start() does not')
  const value = await init.get()
  expectType<{ ready: boolean }>(value)
  expectType<'idle' | 'running' | 'ready' | 'failed'>(init.state)
  init.reset()

  const flights = new SingleFlightGroup<string, number>()
  const [a, b] = await Promise.all([flights.run('k', async () => 1), flights.run('k', async () => 2)])
  check(a === 1 && b === 1, 'single flight joins the run in flight')
  expectType<boolean>(flights.inFlight('k'))

  await using pool = new DetachedPool({ concurrency: 2, timeoutMs: 500, maxQueue: 10, name: 'audit', onError })
  pool.run(async (signal) => void signal)
  await pool.drain()
  const stats = pool.stats()
  expectType<number>(stats.succeeded + stats.failed + stats.timedOut + stats.dropped + stats.running + stats.queued + stats.started)
  spawnDetached(async () => undefined, { name: 'one-off', timeoutMs: 100, onError })

  let calls = 0
  const result = await retry(
    async (attempt, signal) => {
      expectType<number>(attempt)
      expectType<AbortSignal>(signal)
      if (++calls < 2) throw new Error('flaky')
      return 'ok'
    },
    { attempts: 3, baseMs: 1, maxMs: 5, factor: 2, jitter: true, shouldRetry: () => true, onRetry: ({ delayMs }) => void delayMs },
  )
  expectType<string>(result)
  try {
    await retry(async () => {
      throw new TimeoutError('always')
    }, { attempts: 2, baseMs: 1 })
  } catch (error) {
    check(error instanceof RetryError, 'exhausted retries reject with RetryError')
  }
}

export async function main(): Promise<void> {
  await locks()
  await cache()
  await guards()
  await tasks()
  check(errors.length === 0, `no error reported (${errors.length})`)
}
