/**
 * Long-hold reporting without a timer per acquisition: one timer per lock, armed
 * lazily while some hold is not yet reported, aimed at the oldest such hold, and
 * re-armed for the remaining time of the next one (a hand-off keeps the timer). Held-but-unreported guards form
 * an intrusive list in grant order (which is clock order), so add/remove are O(1).
 * No timer exists while nothing unreported is held. The timer is unref'd.
 *
 * @module
 */
import { LinkedQueue } from '../internal/queue.js'
import { publishEvent, reportError } from '../internal/report.js'
import { HoldNode, type LockGuard } from './guard.js'
import type { LockCore } from './core.js'
import type { LongHoldInfo } from './stats.js'

/** Watches the holds of one lock. */
export class LongHoldMonitor {
  private readonly pending = new LinkedQueue<HoldNode>()
  private timer: ReturnType<typeof setTimeout> | undefined = undefined
  private readonly core: LockCore
  private readonly thresholdMs: number
  private readonly onLongHold: ((info: LongHoldInfo) => void) | undefined
  private readonly fire: () => void

  constructor(core: LockCore, thresholdMs: number, onLongHold: ((info: LongHoldInfo) => void) | undefined) {
    this.core = core
    this.thresholdMs = thresholdMs
    this.onLongHold = onLongHold
    this.fire = () => {
      this.check()
    }
  }

  /** A guard was granted; returns its node in the list. */
  add(guard: LockGuard): HoldNode {
    const node = new HoldNode(guard)
    this.pending.push(node)
    if (this.timer === undefined) this.arm(this.thresholdMs)
    return node
  }

  /**
   * A guard still in the list was released. The timer stays: when a release hands the
   * lock over, the next holder is listed before `stopIfIdle` runs, and the timer, aimed
   * at the released hold's deadline, re-aims itself at the new head when it fires. So a
   * busy lock arms at most one timer per threshold period, not one per hand-off.
   */
  remove(node: HoldNode): void {
    this.pending.remove(node)
  }

  /** After a release (and its hand-off): no timer is left while nothing is listed. */
  stopIfIdle(): void {
    if (this.pending.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
  }

  private arm(ms: number): void {
    const timer = setTimeout(this.fire, ms)
    ;(timer as { unref?: () => void }).unref?.()
    this.timer = timer
  }

  private check(): void {
    this.timer = undefined
    const now = this.core.clock()
    let head = this.pending.peek()
    while (head !== undefined && now - head.guard.acquiredAt >= this.thresholdMs) {
      this.pending.shift()
      this.report(head.guard, now - head.guard.acquiredAt)
      head = this.pending.peek()
    }
    // A callback that acquired this lock armed a full-threshold timer for its own hold:
    // replace it with one aimed at the head, which may be due sooner.
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    if (head !== undefined) this.arm(Math.max(1, this.thresholdMs - (now - head.guard.acquiredAt)))
  }

  private report(guard: LockGuard, heldMs: number): void {
    const core = this.core
    core.longHolds++
    const stack = guard.extra?.stack
    const info: LongHoldInfo = stack === undefined
      ? { name: core.name, heldMs, acquiredAt: guard.acquiredAt }
      : { name: core.name, heldMs, acquiredAt: guard.acquiredAt, stack }
    publishEvent('lock', 'long-hold', () => info)
    const callback = this.onLongHold
    if (callback === undefined) return
    try {
      callback(info)
    } catch (error) {
      reportError(undefined, error, { area: 'lock', event: 'long-hold-callback-error', name: core.name })
    }
  }
}
