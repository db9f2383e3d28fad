/**
 * async-mutex 0.5's interfaces, so code typed against `MutexInterface` and
 * `SemaphoreInterface` keeps compiling after the import switch.
 *
 * @module
 */

/** A mutex as async-mutex 0.5 defines it. */
export interface MutexInterface {
  /**
   * Resolves with an idempotent releaser once the mutex is locked for the caller. A
   * greater `priority` (any number, default 0) is served first; FIFO among equals.
   * Rejects with the cancel error when `cancel()` is called while waiting.
   */
  acquire(priority?: number): Promise<MutexInterface.Releaser>
  /**
   * Runs `callback` once the mutex is locked (`priority` as for `acquire`), releases it
   * when the callback returns or its promise settles (also on a throw), and adopts the
   * callback's result.
   */
  runExclusive<T>(callback: MutexInterface.Worker<T>, priority?: number): Promise<T>
  /**
   * Resolves once the mutex could be acquired (with this `priority`), without locking
   * it: nothing guarantees it is still free after the next await.
   */
  waitForUnlock(priority?: number): Promise<void>
  /** Whether the mutex is held. */
  isLocked(): boolean
  /** Unscoped release: unlocks the mutex without its releaser (nothing happens when it is not locked). */
  release(): void
  /**
   * Rejects every pending request with the cancel error (`E_CANCELED` unless another one
   * was given to the constructor). A lock already held is not revoked.
   */
  cancel(): void
}

// eslint-disable-next-line @typescript-eslint/no-namespace -- async-mutex declares these types as a namespace merged with the interface; users reference MutexInterface.Releaser.
export declare namespace MutexInterface {
  /** Releases the lock; idempotent. */
  type Releaser = () => void
  /** The callback of `runExclusive`. */
  type Worker<T> = () => Promise<T> | T
}

/** A semaphore as async-mutex 0.5 defines it. */
export interface SemaphoreInterface {
  /**
   * Resolves once the value is at least `weight` (default 1), decrementing it by
   * `weight`, with `[value, release]`: the value just before this grant's decrement and an idempotent releaser that
   * adds `weight` back. A greater `priority` (any number, default 0) is served first.
   * Rejects with the cancel error when `cancel()` is called while waiting.
   */
  acquire(weight?: number, priority?: number): Promise<[number, SemaphoreInterface.Releaser]>
  /**
   * Runs `callback(value)` once `weight` is acquired (`weight` and `priority` as for
   * `acquire`), releases it when the callback returns or its promise settles (also on a
   * throw), and adopts the callback's result.
   */
  runExclusive<T>(callback: SemaphoreInterface.Worker<T>, weight?: number, priority?: number): Promise<T>
  /**
   * Resolves once `weight` could be acquired with this `priority`, without acquiring it:
   * nothing guarantees it is still available after the next await.
   */
  waitForUnlock(weight?: number, priority?: number): Promise<void>
  /** Whether the value is zero or negative. */
  isLocked(): boolean
  /** The current value. */
  getValue(): number
  /** Sets the value; a positive value grants pending requests accordingly. */
  setValue(value: number): void
  /**
   * Unscoped release: adds `weight` (default 1) to the value. Unlike the releaser from
   * `acquire`, the caller must pass the weight it acquired.
   */
  release(weight?: number): void
  /**
   * Rejects every pending request with the cancel error (`E_CANCELED` unless another one
   * was given to the constructor). Weights already held are not revoked.
   */
  cancel(): void
}

// eslint-disable-next-line @typescript-eslint/no-namespace -- mirrors async-mutex's declaration merging (SemaphoreInterface.Releaser, SemaphoreInterface.Worker).
export declare namespace SemaphoreInterface {
  /** Releases the acquired weight; idempotent. */
  type Releaser = () => void
  /** The callback of `runExclusive`; receives the semaphore's value at grant. */
  type Worker<T> = (value: number) => Promise<T> | T
}
