/**
 * The one thenable test every module uses on results of foreign code (tasks, loaders,
 * observers, flushes, lock callbacks).
 */

/**
 * True when `value` has a callable `then`, and also when reading `then` throws: the
 * caller then passes the value to `Promise.resolve`, which reads `then` again and turns
 * the getter's error into a rejection. So a hostile result fails the work it came from
 * and never throws out of the library (or out of a microtask).
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false
  try {
    return typeof (value as { then?: unknown }).then === 'function'
  } catch {
    return true
  }
}
