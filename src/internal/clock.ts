/**
 * Clocks. Every object that measures time takes `clock?: () => number` (milliseconds,
 * monotonic); the default is `performance.now`. Timeouts always use the global timers
 * at call time, so fake timers work in tests.
 */

/** A monotonic clock in milliseconds. */
export type Clock = () => number

// Captured once: `globalThis.performance` is an accessor in Node, and looking it up on
// every read costs ~8 ns, twice per lock hold, against a 40 ns floor. So fake timers
// that replace `performance` do not drive the default clock: inject `clock` in tests.
const perf = globalThis.performance

/** `performance.now()`, monotonic, sub-millisecond (see above: captured at load). */
export const defaultClock: Clock = () => perf.now()
