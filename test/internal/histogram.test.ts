import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { EMPTY_SUMMARY, Histogram } from '../../src/internal/histogram.js'

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!
}

describe('Histogram', () => {
  it('summarises nothing as zeros', () => {
    expect(new Histogram().summary()).toEqual(EMPTY_SUMMARY)
  })

  it('keeps count, mean and max exact and counts zero and negative values as 0', () => {
    const h = new Histogram()
    for (const v of [0, -1, 2, 4, 0.5]) h.record(v)
    const s = h.summary()
    expect(s.count).toBe(5)
    expect(s.mean).toBeCloseTo(6.5 / 5, 12)
    expect(s.max).toBe(4)
    expect(s.p50).toBeCloseTo(0.5, 1)
  })

  it('percentiles are within 3.5 % of the exact ones (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1e-5, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }), (values) => {
        const h = new Histogram()
        for (const v of values) h.record(v)
        const sorted = [...values].sort((a, b) => a - b)
        for (const q of [0.5, 0.9, 0.99]) {
          const exact = exactQuantile(sorted, q)
          const got = h.quantile(q)
          // 1 ns absolute slack for the linear sub-32 ns buckets.
          expect(Math.abs(got - exact)).toBeLessThanOrEqual(exact * 0.035 + 1e-6)
        }
        expect(h.summary().max).toBe(sorted[sorted.length - 1])
      }),
    )
  })

  it('clamps values beyond the range into the last bucket without losing max', () => {
    const h = new Histogram()
    h.record(1e12)
    expect(h.summary().max).toBe(1e12)
    expect(h.quantile(0.5)).toBeLessThanOrEqual(1e12)
  })

  it('reset forgets everything', () => {
    const h = new Histogram()
    h.record(3)
    h.reset()
    expect(h.summary()).toEqual(EMPTY_SUMMARY)
  })
})
