/**
 * Consumer type test, Node-only part: asyncsafe/node and the async-mutex adapter,
 * compiled under `module: node16` as ESM (.mts) and CJS (.cts) with @types/node.
 */
import { gracefulKill, onSignals, watchEventLoop } from 'asyncsafe/node'
import { E_CANCELED, E_TIMEOUT, Mutex as CompatMutex, Semaphore as CompatSemaphore, withTimeout } from 'asyncsafe/compat/async-mutex'

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`consumer check failed: ${what}`)
}

export async function nodeOnly(): Promise<void> {
  {
    using watch = watchEventLoop({ thresholdMs: 1_000, onStall: ({ durationMs, at }) => void [durationMs, at] })
    using sigs = onSignals(['SIGUSR2'], () => undefined)
    void watch
    void sigs
  }
  const outcome: 'already-exited' | 'graceful' | 'forced' = await gracefulKill(2 ** 22 + 12_345, { signal: 'SIGTERM', graceMs: 50, pollMs: 5, group: false })
  check(outcome === 'already-exited', 'gracefulKill of a pid that does not exist')

  const mutex = new CompatMutex()
  const release = await mutex.acquire()
  check(mutex.isLocked(), 'compat mutex is locked')
  release()
  const value = await mutex.runExclusive(() => 7)
  check(value === 7, 'compat runExclusive returns the value')
  const timed = withTimeout(new CompatMutex(), 10, new Error('late'))
  await timed.runExclusive(() => undefined)
  const sem = new CompatSemaphore(2)
  const [permits, releaseSem] = await sem.acquire()
  check(permits === 2, 'compat semaphore hands out its value')
  releaseSem()
  check(E_TIMEOUT instanceof Error && E_CANCELED instanceof Error, 'compat error objects')
  check(typeof mutex.stats().acquisitions === 'number', 'compat stats()')
}
