/**
 * async-mutex 0.5's `withTimeout` and `tryAcquire` decorators, same behaviour: a
 * timed-out request rejects with the shared error but stays queued underneath; when it
 * is eventually granted it is released at once (so the value and `isLocked()` evolve
 * exactly as with async-mutex). They decorate any async-mutex-shaped object.
 *
 * @module
 */
import { E_ALREADY_LOCKED, E_TIMEOUT, invalidWeight } from './errors.js'
import type { MutexInterface, SemaphoreInterface } from './interfaces.js'

type Sync = MutexInterface | SemaphoreInterface

function isSemaphore(sync: Sync): sync is SemaphoreInterface {
  return (sync as Partial<SemaphoreInterface>).getValue !== undefined
}

function noteTimeout(sync: Sync): void {
  const target = sync as { _noteTimeout?: () => void; _timeouts?: number }
  if (typeof target._noteTimeout === 'function') target._noteTimeout()
  else if (typeof target._timeouts === 'number') target._timeouts++
}

/**
 * async-mutex's decorators take `(priority)` for a mutex and `(weight, priority)` for a
 * semaphore; this splits the arguments the same way (and throws as async-mutex does, synchronously).
 */
function weightAndPriority(sync: Sync, weightOrPriority: number | undefined, priority: number | undefined): [number | undefined, number | undefined] {
  if (!isSemaphore(sync)) return [undefined, weightOrPriority]
  if (weightOrPriority !== undefined && weightOrPriority <= 0) throw invalidWeight(weightOrPriority)
  return [weightOrPriority, priority]
}

/**
 * Limits how long `acquire`/`runExclusive`/`waitForUnlock` wait: after `timeout` ms they
 * reject with `timeoutError` (default the shared `E_TIMEOUT`).
 *
 * @example
 * ```ts
 * const m = withTimeout(new Mutex(), 100)
 * try { await m.runExclusive(work) } catch (e) { if (e === E_TIMEOUT) retryLater() }
 * ```
 */
export function withTimeout(mutex: MutexInterface, timeout: number, timeoutError?: Error): MutexInterface
export function withTimeout(semaphore: SemaphoreInterface, timeout: number, timeoutError?: Error): SemaphoreInterface
export function withTimeout(sync: Sync, timeout: number, timeoutError: Error = E_TIMEOUT): Sync {
  const acquire = (weightOrPriority?: number, priority?: number): Promise<MutexInterface.Releaser | [number, SemaphoreInterface.Releaser]> => {
    const [weight, prio] = weightAndPriority(sync, weightOrPriority, priority)
    return new Promise((resolve, reject) => {
      let isTimeout = false
      const handle = setTimeout(() => {
        isTimeout = true
        noteTimeout(sync)
        reject(timeoutError)
      }, timeout)
      let pending: Promise<MutexInterface.Releaser | [number, SemaphoreInterface.Releaser]>
      try {
        pending = isSemaphore(sync) ? sync.acquire(weight, prio) : sync.acquire(prio)
      } catch (error) {
        pending = Promise.reject(error)
      }
      pending.then(
        (ticket) => {
          if (isTimeout) {
            const release = Array.isArray(ticket) ? ticket[1] : ticket
            release()
          } else {
            clearTimeout(handle)
            resolve(ticket)
          }
        },
        (error: unknown) => {
          if (!isTimeout) {
            clearTimeout(handle)
            reject(error)
          }
        },
      )
    })
  }

  const decorated = {
    acquire,
    async runExclusive<T>(callback: (value?: number) => Promise<T> | T, weight?: number, priority?: number): Promise<T> {
      let release: () => void = () => undefined
      try {
        const ticket = await acquire(weight, priority)
        if (Array.isArray(ticket)) {
          release = ticket[1]
          return await callback(ticket[0])
        }
        release = ticket
        return await callback()
      } finally {
        release()
      }
    },
    release(weight?: number): void {
      sync.release(weight)
    },
    cancel(): void {
      sync.cancel()
    },
    waitForUnlock(weightOrPriority?: number, priority?: number): Promise<void> {
      const [weight, prio] = weightAndPriority(sync, weightOrPriority, priority)
      return new Promise<void>((resolve, reject) => {
        const handle = setTimeout(() => {
          reject(timeoutError)
        }, timeout)
        void (isSemaphore(sync) ? sync.waitForUnlock(weight, prio) : sync.waitForUnlock(prio)).then(() => {
          clearTimeout(handle)
          resolve()
        })
      })
    },
    isLocked: (): boolean => sync.isLocked(),
    getValue: (): number => (sync as SemaphoreInterface).getValue(),
    setValue: (value: number): void => {
      ;(sync as SemaphoreInterface).setValue(value)
    },
  }
  return decorated as unknown as Sync
}

/**
 * Makes `acquire`/`runExclusive` fail at once with `alreadyAcquiredError` (default the
 * shared `E_ALREADY_LOCKED`) when the lock is not available right away.
 *
 * @example
 * ```ts
 * try { await tryAcquire(mutex).runExclusive(work) } catch (e) { if (e === E_ALREADY_LOCKED) skip() }
 * ```
 */
export function tryAcquire(mutex: MutexInterface, alreadyAcquiredError?: Error): MutexInterface
export function tryAcquire(semaphore: SemaphoreInterface, alreadyAcquiredError?: Error): SemaphoreInterface
export function tryAcquire(sync: Sync, alreadyAcquiredError: Error = E_ALREADY_LOCKED): Sync {
  return withTimeout(sync as SemaphoreInterface, 0, alreadyAcquiredError)
}
