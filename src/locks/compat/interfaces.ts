/**
 * async-mutex 0.5's interfaces, so code typed against `MutexInterface` and
 * `SemaphoreInterface` keeps compiling after the import switch.
 *
 * @module
 */

/** A mutex as async-mutex 0.5 defines it. */
export interface MutexInterface {
  acquire(priority?: number): Promise<MutexInterface.Releaser>
  runExclusive<T>(callback: MutexInterface.Worker<T>, priority?: number): Promise<T>
  waitForUnlock(priority?: number): Promise<void>
  isLocked(): boolean
  release(): void
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
  acquire(weight?: number, priority?: number): Promise<[number, SemaphoreInterface.Releaser]>
  runExclusive<T>(callback: SemaphoreInterface.Worker<T>, weight?: number, priority?: number): Promise<T>
  waitForUnlock(weight?: number, priority?: number): Promise<void>
  isLocked(): boolean
  getValue(): number
  setValue(value: number): void
  release(weight?: number): void
  cancel(): void
}

// eslint-disable-next-line @typescript-eslint/no-namespace -- mirrors async-mutex's declaration merging (SemaphoreInterface.Releaser, SemaphoreInterface.Worker).
export declare namespace SemaphoreInterface {
  /** Releases the acquired weight; idempotent. */
  type Releaser = () => void
  /** The callback of `runExclusive`; receives the semaphore's value at grant. */
  type Worker<T> = (value: number) => Promise<T> | T
}
