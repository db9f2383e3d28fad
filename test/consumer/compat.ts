/**
 * Consumer type test: the async-mutex adapter is assignable to async-mutex 0.5's own
 * interfaces, so code typed against async-mutex keeps compiling after the one-import
 * switch (node16 consumers; async-mutex's types come from the repository's install).
 */
import type { MutexInterface, SemaphoreInterface } from 'async-mutex'
import { Mutex, Semaphore, withTimeout, tryAcquire, E_TIMEOUT } from 'asyncsafe/compat/async-mutex'

export const mutex: MutexInterface = new Mutex()
export const semaphore: SemaphoreInterface = new Semaphore(2)
export const timed: MutexInterface = withTimeout(new Mutex(), 100, E_TIMEOUT)
export const timedSemaphore: SemaphoreInterface = withTimeout(new Semaphore(1), 100)
export const immediate: MutexInterface = tryAcquire(new Mutex())

export async function callers(m: MutexInterface, s: SemaphoreInterface): Promise<number> {
  const release: MutexInterface.Releaser = await m.acquire()
  release()
  const [value, releaseSemaphore] = await s.acquire(1, 5)
  releaseSemaphore()
  return value + (await m.runExclusive(() => 1))
}
