/**
 * The one way the library arms a delay. `setTimeout` treats any delay above 2^31-1 ms
 * (about 24.8 days) as 1 ms, so `timeoutMs: 30 days` passed straight through would fire
 * at once. {@link armTimer} accepts every non-negative duration up to `Infinity`:
 *
 * - `Infinity` arms nothing (returns `undefined`);
 * - a delay up to 2^31-1 ms is one native timer, returned as is (no wrapper, no closure:
 *   this is on the locks' and pools' hot paths);
 * - a longer delay is a {@link LongTimer} that re-arms in steps of at most 2^31-1 ms and
 *   calls back once the whole duration has passed.
 *
 * Timers are armed with the global `setTimeout` of the moment (so fake timers work) and
 * disarmed with {@link disarmTimer}. The step count is kept, not a clock, so a clock
 * injected for statistics never moves a timeout.
 */

import type { TimerId } from './types.js'

/** Longest delay `setTimeout` honours; a longer one fires after 1 ms. */
export const MAX_TIMER_DELAY_MS = 0x7fff_ffff

type Native = TimerId

/** A delay longer than {@link MAX_TIMER_DELAY_MS}, armed in steps. */
export class LongTimer<A, B> {
  /** @internal */ native: Native | undefined
  /** @internal Milliseconds still to wait after the step in progress. */ remaining: number
  /** @internal */ readonly fn: (a: A, b: B) => void
  /** @internal */ readonly a: A
  /** @internal */ readonly b: B
  /** @internal */ readonly unref: boolean

  constructor(ms: number, fn: (a: A, b: B) => void, a: A, b: B, unref: boolean) {
    this.remaining = ms
    this.fn = fn
    this.a = a
    this.b = b
    this.unref = unref
    this.native = undefined
    this.step()
  }

  /** @internal Arms the next step, or calls back once nothing remains. */
  step(): void {
    if (this.remaining <= 0) {
      this.native = undefined
      this.fn(this.a, this.b)
      return
    }
    const ms = this.remaining > MAX_TIMER_DELAY_MS ? MAX_TIMER_DELAY_MS : this.remaining
    this.remaining -= ms
    this.native = nativeTimer(stepLongTimer, ms, this, undefined, this.unref)
  }

  /** @internal */
  clear(): void {
    if (this.native !== undefined) {
      clearTimeout(this.native)
      this.native = undefined
    }
  }
}

function stepLongTimer(timer: { step(): void }): void {
  timer.step()
}

/** What {@link armTimer} returns: a native timer, or a {@link LongTimer} for longer delays. */
export type TimerHandle = Native | LongTimer<never, never>

function nativeTimer<A, B>(fn: (a: A, b: B) => void, ms: number, a: A, b: B, unref: boolean): Native {
  const native = setTimeout(fn, ms, a, b)
  if (unref) (native as { unref?: () => void }).unref?.()
  return native
}

/**
 * Calls `fn(a, b)` once `ms` milliseconds have passed; `Infinity` arms nothing and
 * returns `undefined`. `ms` must already be validated (a non-negative number).
 *
 * @param unref the timer does not keep a Node process alive (default false)
 */
export function armTimer<A = undefined, B = undefined>(ms: number, fn: (a: A, b: B) => void, a?: A, b?: B, unref = false): TimerHandle | undefined {
  if (ms === Infinity) return undefined
  if (ms <= MAX_TIMER_DELAY_MS) return nativeTimer(fn, ms > 0 ? ms : 0, a as A, b as B, unref)
  return new LongTimer(ms, fn, a as A, b as B, unref) as unknown as LongTimer<never, never>
}

/** Disarms a timer from {@link armTimer}; `undefined` and a timer that already fired are fine. */
export function disarmTimer(timer: TimerHandle | undefined): void {
  if (timer === undefined) return
  if (timer instanceof LongTimer) timer.clear()
  else clearTimeout(timer)
}
