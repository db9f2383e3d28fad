/**
 * Clocks. Every object that measures time takes `clock?: () => number` (milliseconds,
 * monotonic); the default is `performance.now`. Timeouts always use the global timers
 * at call time, so fake timers work in tests.
 */

/** A monotonic clock in milliseconds. */
export type Clock = () => number

/**
 * `performance.now()`, monotonic, sub-millisecond. `performance` is looked up at call
 * time, like the timers, so fake timers that replace it (vitest, sinon) drive it too.
 */
export const defaultClock: Clock = () => globalThis.performance.now()
