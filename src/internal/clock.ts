/**
 * Clocks. Every object that measures time takes `clock?: () => number` (milliseconds,
 * monotonic); the default is `performance.now`. Timeouts always use the global timers
 * at call time, so fake timers work in tests.
 */

/** A monotonic clock in milliseconds. */
export type Clock = () => number

const perf = globalThis.performance

/** `performance.now()`, monotonic, sub-millisecond. */
export const defaultClock: Clock = () => perf.now()
