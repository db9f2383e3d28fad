/**
 * A fixed-size log-linear histogram of durations in milliseconds: O(1) record, bounded
 * memory (the bucket array is allocated on the first non-zero record, 4.7 kB), `count`,
 * `mean` and `max` exact, percentiles within about 3 % of the true value (16 linear
 * sub-buckets per power of two, reported at the bucket's midpoint, clamped to `max`).
 *
 * Values are kept in nanoseconds. Below 32 ns every nanosecond has its own bucket;
 * values above about 73 minutes share the last bucket (max stays exact).
 */

/** A summary of recorded durations, in milliseconds. */
export interface Summary {
  /** Number of values recorded. */
  readonly count: number
  /** Exact mean (0 when empty). */
  readonly mean: number
  /** Median (within a few percent). */
  readonly p50: number
  /** 90th percentile (within a few percent). */
  readonly p90: number
  /** 99th percentile (within a few percent). */
  readonly p99: number
  /** Exact maximum (0 when empty). */
  readonly max: number
}

const SUB_BITS = 4
const SUB = 1 << SUB_BITS // 16 linear sub-buckets per power of two
const LINEAR = SUB * 2 // values below 32 ns: one bucket each
const MAX_EXP = 42 // 2^42 ns ≈ 73 minutes
const BUCKETS = LINEAR + (MAX_EXP - SUB_BITS - 1) * SUB

/** The empty summary (shared, frozen). */
export const EMPTY_SUMMARY: Summary = Object.freeze({ count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 })

function bucketOf(ns: number): number {
  if (ns < LINEAR) return ns
  let exp: number
  let mantissa: number // in [SUB, 2*SUB)
  if (ns < 0x1_0000_0000) {
    // The common range (< 4.3 s): integer ops only; `2 ** k` and float logs cost
    // more than the whole uncontended lock operation.
    exp = 31 - Math.clz32(ns)
    mantissa = ns >>> (exp - SUB_BITS)
  } else {
    exp = Math.floor(Math.log2(ns))
    if (exp >= MAX_EXP) return BUCKETS - 1
    mantissa = Math.floor(ns / 2 ** (exp - SUB_BITS))
  }
  const index = LINEAR + (exp - SUB_BITS - 1) * SUB + (mantissa - SUB)
  return index < BUCKETS ? index : BUCKETS - 1
}

/** Midpoint of a bucket, in nanoseconds. */
function valueOf(index: number): number {
  if (index < LINEAR) return index
  const offset = index - LINEAR
  const exp = Math.floor(offset / SUB) + SUB_BITS + 1
  const mantissa = (offset % SUB) + SUB
  const width = 2 ** (exp - SUB_BITS)
  return mantissa * width + width / 2
}

/** Histogram of durations (ms). */
export class Histogram {
  private counts: Float64Array | undefined
  private n = 0
  private zeros = 0
  private sum = 0
  private maxValue = 0

  /** Records one duration in milliseconds (negative values count as 0). O(1). */
  record(ms: number): void {
    this.n++
    if (!(ms > 0)) {
      this.zeros++
      return
    }
    this.sum += ms
    if (ms > this.maxValue) this.maxValue = ms
    const ns = ms * 1e6
    // Fast path (1 ns up to 4.3 s, every lock hold worth measuring): integer ops only.
    if (ns >= LINEAR && ns < 0x1_0000_0000) {
      const v = ns >>> 0
      const exp = 31 - Math.clz32(v)
      const counts = this.counts ?? this.allocate()
      counts[LINEAR + (exp - SUB_BITS - 1) * SUB + ((v >>> (exp - SUB_BITS)) - SUB)]! += 1
      return
    }
    const floored = Math.floor(ns)
    if (floored === 0) {
      this.zeros++
      return
    }
    const counts = this.counts ?? this.allocate()
    counts[bucketOf(floored)]! += 1
  }

  private allocate(): Float64Array {
    return (this.counts = new Float64Array(BUCKETS))
  }

  /** Records a duration of exactly 0 (an uncontended grant's wait): two increments. */
  recordZero(): void {
    this.n++
    this.zeros++
  }

  /** Number of values recorded. */
  get count(): number {
    return this.n
  }

  /** Forgets every value. */
  reset(): void {
    this.counts?.fill(0)
    this.n = 0
    this.zeros = 0
    this.sum = 0
    this.maxValue = 0
  }

  /** The `q` quantile (0..1) in milliseconds. */
  quantile(q: number): number {
    if (this.n === 0) return 0
    const rank = Math.max(1, Math.ceil(q * this.n))
    if (rank <= this.zeros) return 0
    const counts = this.counts
    if (counts === undefined) return 0
    let seen = this.zeros
    for (let i = 0; i < BUCKETS; i++) {
      seen += counts[i]!
      if (seen >= rank) return Math.min(valueOf(i) / 1e6, this.maxValue)
    }
    return this.maxValue
  }

  /** Count, exact mean and max, p50/p90/p99. */
  summary(): Summary {
    if (this.n === 0) return EMPTY_SUMMARY
    return {
      count: this.n,
      mean: this.sum / this.n,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      max: this.maxValue,
    }
  }
}
