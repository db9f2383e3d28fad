/**
 * Consumer type test for a program with no host types at all: `"lib": ["ES2022",
 * "ESNext.Disposable"]`, `"types": []`, `skipLibCheck: false` (no DOM lib, no
 * @types/node). Every runtime-neutral subpath must compile there, published .d.ts
 * included; signals then have the library's minimal structural type, and the signals the
 * library hands out fit wherever it takes one. Type-checked only (no `console` here).
 */
import { ClosedError, DisposedError, RetryError, TimeoutError, type OnError } from 'asyncsafe'
import { Mutex, RwLock, Semaphore } from 'asyncsafe/locks'
import { LruTtlCache } from 'asyncsafe/cache'
import { createBatcher, every, linkSignals, listen, onAbort, spawnGuarded, swap, TaskScope, timeoutSignal, type EventTargetLike } from 'asyncsafe/guards'
import { DetachedPool, Initializer, retry, SingleFlightGroup, spawnDetached } from 'asyncsafe/tasks'
import { Mutex as CompatMutex, withTimeout } from 'asyncsafe/compat/async-mutex'

const onError: OnError = (error, context) => void [error, context.area]

export async function neutral(): Promise<number> {
  using deadline = timeoutSignal(1_000)
  const signal = deadline.signal
  const aborted: boolean = signal.aborted
  const reason: unknown = signal.reason
  signal.throwIfAborted()
  signal.addEventListener('abort', () => undefined, { once: true })

  const mutex = new Mutex({ name: 'm' })
  {
    using guard = await mutex.lock({ signal, timeoutMs: 50 })
    void guard
  }
  await new RwLock().runRead(() => 1, { signal })
  await new Semaphore(2).run(() => 1, { weight: 1, signal })

  await using cache = new LruTtlCache<string, number>({ capacity: 10, ttlMs: 1_000, onError })
  await cache.getOrLoad('k', (_key, context) => {
    // The loader's signal is accepted by every other API.
    const inner: typeof signal = context.signal
    return inner.aborted ? 0 : 1
  }, { signal })

  await using task = spawnGuarded(async (taskSignal) => {
    using linked = linkSignals(taskSignal, signal, undefined)
    using off = onAbort(linked.signal, (why) => void why)
    void off
    return mutex.runExclusive(() => 2, { signal: linked.signal })
  }, { signal, settleTimeoutMs: 100, onError })
  await task.done

  await using scope = new TaskScope({ signal, name: 'scope' })
  scope.spawn((child) => child.aborted)
  await scope.join()

  using ticker = every(1_000, (tick) => tick.aborted, { signal, unref: true })
  using batch = createBatcher<number>({ flush: (items) => items.length })
  batch.request(1)
  const registry: { cb?: () => void } = {}
  using restore = swap(registry, 'cb', () => undefined)
  // A listenable object declared structurally (no EventTarget type in this program).
  const target: EventTargetLike = { addEventListener: () => undefined, removeEventListener: () => undefined }
  using heard = listen(target, 'ping', () => undefined, { signal })
  void [ticker, restore, heard]

  const init = new Initializer(async (initSignal) => initSignal.aborted, { timeoutMs: 100 })
  await init.get({ signal })
  await new SingleFlightGroup<string, number>().run('k', async (s) => (s.aborted ? 0 : 1), { signal })
  await using pool = new DetachedPool({ concurrency: 1, onError })
  pool.run(async (s) => s.aborted)
  spawnDetached(async (s) => s.aborted, { onError })
  const n = await retry(async (attempt, s) => (s.aborted ? 0 : attempt), { attempts: 2, baseMs: 1, signal })

  const compat = withTimeout(new CompatMutex(), 10)
  await compat.runExclusive(() => undefined)

  // @ts-expect-error a number is not a signal
  await mutex.lock({ signal: 5 })
  const errors: Error[] = [new TimeoutError(), new ClosedError(), new DisposedError(), new RetryError([])]
  return n + errors.length + (aborted ? 1 : 0) + (reason === undefined ? 0 : 1)
}
