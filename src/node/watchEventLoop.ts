/**
 * `watchEventLoop`: report event-loop stalls (blocking work) as they happen.
 *
 * @module
 */

import { publishEvent, reportError } from '../internal/report.js'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'
import { checkOptionalFunction, checkOptions, checkPositiveFinite, knownOptions } from '../internal/validate.js'

const WATCH_OPTIONS = knownOptions(['thresholdMs', 'onStall', 'intervalMs'], { onBlock: 'onStall', onLag: 'onStall', onStalled: 'onStall', maxLagMs: 'thresholdMs' })

/** A stall: the event loop was blocked for `durationMs`. */
export interface StallEvent {
  /** How long the loop was blocked (ms): the lateness of the watch's timer, a lower bound of the block. */
  readonly durationMs: number
  /** When the stall was detected (epoch ms, `Date.now()`), right after the block ended. */
  readonly at: number
}

/** Options of {@link watchEventLoop}. */
export interface WatchEventLoopOptions {
  /** Stalls longer than this (ms) are reported. */
  readonly thresholdMs: number
  /** Called for each stall; errors it throws become process warnings. Optional: stalls are also published to diagnostics_channel `asyncsafe:node:stall`. */
  readonly onStall?: ((event: StallEvent) => void) | undefined
  /** Check interval (ms). Default `min(thresholdMs / 4, 50)`; a block shorter than `thresholdMs + intervalMs` may be measured up to `intervalMs` short. */
  readonly intervalMs?: number | undefined
}

/** A running watch: dispose (or `stop()`) to end it. */
export interface EventLoopWatch extends Disposable {
  /** Stalls reported so far. */
  readonly stalls: number
  /** Longest stall reported so far (ms), 0 if none. */
  readonly maxStallMs: number
  /** Stops the watch (same as dispose). Idempotent. */
  stop(): void
}

/**
 * Watches the event loop with one unref'd timer (re-armed every `intervalMs`) and reports every stall longer
 * than `thresholdMs` to `onStall({ durationMs, at })` and diagnostics_channel
 * `asyncsafe:node:stall` (with `thresholdMs`).
 *
 * Hazard it makes visible: blocking work on the event loop (sync I/O, busy loops,
 * blocking sleeps) that delays every other request while it runs.
 *
 * The timer is unref'd, so a watch never keeps the process alive; dispose clears it (no
 * timer is left). The measure is the lateness of that timer, so it is a lower bound of
 * the block: a block of `B` ms is reported as between `B - intervalMs` and `B`.
 *
 * @example
 * ```ts
 * using watch = watchEventLoop({ thresholdMs: 100, onStall: ({ durationMs }) => log.warn(`event loop blocked ${durationMs} ms`) })
 * ```
 */
export function watchEventLoop(options: WatchEventLoopOptions): EventLoopWatch {
  const opts = checkOptions<WatchEventLoopOptions>('watchEventLoop: options', options, WATCH_OPTIONS)
  if (options === undefined) throw new TypeError('asyncsafe: options must be an options object with thresholdMs, received undefined')
  const thresholdMs = checkPositiveFinite('thresholdMs', opts.thresholdMs)
  const onStall = checkOptionalFunction<(event: StallEvent) => void>('onStall', opts.onStall)
  const intervalMs = opts.intervalMs === undefined ? Math.max(1, Math.min(thresholdMs / 4, 50)) : checkPositiveFinite('intervalMs', opts.intervalMs)

  let stalls = 0
  let maxStallMs = 0
  let stopped = false
  let last = performance.now()
  // A timeout re-armed after each check rather than an interval: armTimer honours any
  // interval (setInterval turns one past 2^31-1 ms into 1 ms), and the lateness of each
  // timer is measured from when it was armed.
  const check = (): void => {
    if (stopped) return
    const now = performance.now()
    const durationMs = now - last - intervalMs
    last = now
    timer = armTimer(intervalMs, check, undefined, undefined, true)
    if (durationMs <= thresholdMs) return
    stalls++
    if (durationMs > maxStallMs) maxStallMs = durationMs
    const event: StallEvent = { durationMs, at: Date.now() }
    publishEvent('node', 'stall', () => ({ ...event, thresholdMs }))
    if (onStall !== undefined) {
      try {
        onStall(event)
      } catch (error) {
        reportError(undefined, error, { area: 'node', event: 'stall-handler-error' })
      }
    }
  }
  let timer: TimerHandle | undefined = armTimer(intervalMs, check, undefined, undefined, true)

  const stop = (): void => {
    if (stopped) return
    stopped = true
    disarmTimer(timer)
    timer = undefined
  }
  return {
    get stalls() {
      return stalls
    },
    get maxStallMs() {
      return maxStallMs
    },
    stop,
    [Symbol.dispose]: stop,
  }
}
