/**
 * The `LockStats` snapshot shared by the local locks and `asyncsafe/redis`'s `RedisMutex`.
 */
import { Histogram } from '../internal/histogram.js'
import type { LockStats } from './stats.js'

/** The counters behind `LockStats`. */
export interface LockCounts {
  acquisitions: number
  contended: number
  timeouts: number
  aborts: number
  longHolds: number
  readonly waitHist: Histogram
  readonly holdHist: Histogram
}

/** Fresh zeroed counters. */
export function lockCounts(): LockCounts {
  return { acquisitions: 0, contended: 0, timeouts: 0, aborts: 0, longHolds: 0, waitHist: new Histogram(), holdHist: new Histogram() }
}

/** A `LockStats` snapshot of `counts`. */
export function snapshotStats(name: string | undefined, counts: LockCounts): LockStats {
  return {
    name,
    acquisitions: counts.acquisitions,
    contended: counts.contended,
    timeouts: counts.timeouts,
    aborts: counts.aborts,
    longHolds: counts.longHolds,
    wait: counts.waitHist.summary(),
    hold: counts.holdHist.summary(),
  }
}
