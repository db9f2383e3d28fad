import { describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { backoffDelay, DEFAULT_RETRY_OPTIONS, retry } from '../../src/tasks/retry.js'
import { RetryError } from '../../src/errors.js'
import { abortListenerCount, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

/** A function failing `failures` times, then returning 'ok'. */
function flaky(failures: number) {
  const errors = Array.from({ length: failures }, (_, i) => new Error(`fail ${i + 1}`))
  const fn = vi.fn(async (attempt: number, _signal: AbortSignal) => {
    if (attempt <= failures) throw errors[attempt - 1]
    return 'ok'
  })
  return { fn, errors }
}

describe('retry', () => {
  it('waits min(baseMs * factor^(n-1), maxMs) between tries, counting attempts from 1', async () => {
    vi.useFakeTimers()
    const { fn } = flaky(4)
    const onRetry = vi.fn()
    const p = retry(fn, { attempts: 5, baseMs: 100, maxMs: 500, factor: 3, jitter: false, onRetry })
    await flushMicrotasks()
    expect(fn).toHaveBeenCalledTimes(1)
    expect(fn).toHaveBeenLastCalledWith(1, expect.any(AbortSignal))
    const expected = [100, 300, 500, 500]
    for (let i = 0; i < expected.length; i++) {
      vi.advanceTimersByTime(expected[i]! - 1)
      await flushMicrotasks()
      expect(fn).toHaveBeenCalledTimes(i + 1)
      vi.advanceTimersByTime(1)
      await flushMicrotasks()
      expect(fn).toHaveBeenCalledTimes(i + 2)
      expect(fn).toHaveBeenLastCalledWith(i + 2, expect.any(AbortSignal))
    }
    await expect(p).resolves.toBe('ok')
    expect(onRetry.mock.calls.map(([e]) => [e.attempt, e.delayMs])).toEqual([
      [1, 100],
      [2, 300],
      [3, 500],
      [4, 500],
    ])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('full jitter scales each delay by the injected random', async () => {
    vi.useFakeTimers()
    const { fn } = flaky(2)
    const randoms = [0.5, 0.25]
    const onRetry = vi.fn()
    const p = retry(fn, { attempts: 3, baseMs: 100, factor: 2, random: () => randoms.shift()!, onRetry })
    await vi.runAllTimersAsync()
    await expect(p).resolves.toBe('ok')
    expect(onRetry.mock.calls.map(([e]) => e.delayMs)).toEqual([50, 50])
  })

  it('a misbehaving random source is clamped to [0, delay]', async () => {
    vi.useFakeTimers()
    const { fn } = flaky(3)
    const randoms = [Number.NaN, 7, -1]
    const onRetry = vi.fn()
    const p = retry(fn, { attempts: 4, baseMs: 10, random: () => randoms.shift()!, onRetry })
    await vi.runAllTimersAsync()
    await expect(p).resolves.toBe('ok')
    expect(onRetry.mock.calls.map(([e]) => e.delayMs)).toEqual([0, 20, 0])
  })

  it('rejects with a RetryError holding every failure, cause = the last, after `attempts` tries', async () => {
    vi.useFakeTimers()
    const { fn, errors } = flaky(10)
    const p = retry(fn, { attempts: 3, baseMs: 1, jitter: false })
    const settled = p.catch((e: unknown) => e)
    await vi.runAllTimersAsync()
    const error = (await settled) as RetryError
    expect(error).toBeInstanceOf(RetryError)
    expect(error).toBeInstanceOf(AggregateError)
    expect(error.name).toBe('RetryError')
    expect(error.errors).toEqual(errors.slice(0, 3))
    expect(error.cause).toBe(errors[2])
    expect(error.attempts).toBe(3)
    expect(fn).toHaveBeenCalledTimes(3)
  })

  it('keeps memory bounded: after many failures the RetryError holds the first and the 100 most recent, attempts the real count', async () => {
    vi.useFakeTimers()
    const { fn, errors } = flaky(1000)
    const p = retry(fn, { attempts: Infinity, baseMs: 0, shouldRetry: (_, attempt) => attempt < 450 })
    const settled = p.catch((e: unknown) => e)
    await vi.runAllTimersAsync()
    const error = (await settled) as RetryError
    expect(error).toBeInstanceOf(RetryError)
    expect(fn).toHaveBeenCalledTimes(450)
    expect(error.attempts).toBe(450)
    // The message carries the last failure's, so a log line alone says what went wrong.
    expect(error.message).toBe('Failed after 450 attempts: fail 450')
    expect(error.errors).toEqual([errors[0], ...errors.slice(350, 450)])
    expect(error.cause).toBe(errors[449])
  })

  it('attempts: 1 tries once and never waits', async () => {
    vi.useFakeTimers()
    const { fn, errors } = flaky(1)
    await expect(retry(fn, { attempts: 1 })).rejects.toMatchObject({ name: 'RetryError', cause: errors[0] })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('shouldRetry(error) false stops early with a RetryError', async () => {
    vi.useFakeTimers()
    const fatal = new Error('fatal')
    const fn = vi.fn(async (attempt: number) => {
      throw attempt === 2 ? fatal : new Error('transient')
    })
    const shouldRetry = vi.fn((e: unknown) => e !== fatal)
    const p = retry(fn, { attempts: 10, baseMs: 1, shouldRetry }).catch((e: unknown) => e)
    await vi.runAllTimersAsync()
    const error = (await p) as RetryError
    expect(fn).toHaveBeenCalledTimes(2)
    expect(error.cause).toBe(fatal)
    expect(error.errors).toHaveLength(2)
    expect(shouldRetry).toHaveBeenLastCalledWith(fatal, 2)
  })

  it('synchronous throws count as failures; a throwing shouldRetry or onRetry rejects with its error', async () => {
    vi.useFakeTimers()
    const boom = new Error('sync')
    const p = retry(
      () => {
        throw boom
      },
      { attempts: 2, baseMs: 0 },
    ).catch((e: unknown) => e)
    await vi.runAllTimersAsync()
    expect(((await p) as RetryError).errors).toEqual([boom, boom])
    const bad = new Error('bad predicate')
    await expect(
      retry(() => Promise.reject(boom), {
        shouldRetry: () => {
          throw bad
        },
      }),
    ).rejects.toBe(bad)
    await expect(
      retry(() => Promise.reject(boom), {
        onRetry: () => {
          throw bad
        },
      }),
    ).rejects.toBe(bad)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('an abort during a wait rejects at once with signal.reason and clears the timer', async () => {
    vi.useFakeTimers()
    const ac = new AbortController()
    const { fn } = flaky(5)
    const p = retry(fn, { attempts: 5, baseMs: 10_000, jitter: false, signal: ac.signal })
    await flushMicrotasks()
    expect(vi.getTimerCount()).toBe(1)
    const reason = new Error('shutdown')
    ac.abort(reason)
    expect(vi.getTimerCount()).toBe(0)
    await expect(p).rejects.toBe(reason)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(abortListenerCount(ac.signal)).toBe(0)
  })

  it('an abort during an attempt rejects at once; the attempt sees it on its signal and its result is ignored', async () => {
    const ac = new AbortController()
    let seen!: AbortSignal
    const p = retry(
      (_attempt, signal) => {
        seen = signal
        return new Promise<string>(() => {})
      },
      { signal: ac.signal },
    )
    ac.abort('stop')
    await expect(p).rejects.toBe('stop')
    expect(seen).toBe(ac.signal)
    expect(seen.aborted).toBe(true)
  })

  it('a signal aborted before the call rejects without calling fn; onRetry aborting stops before waiting', async () => {
    const fn = vi.fn(() => 1)
    await expect(retry(fn, { signal: AbortSignal.abort('early') })).rejects.toBe('early')
    expect(fn).not.toHaveBeenCalled()
    vi.useFakeTimers()
    const ac = new AbortController()
    await expect(retry(() => Promise.reject(new Error('x')), { signal: ac.signal, onRetry: () => ac.abort('from onRetry') })).rejects.toBe('from onRetry')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('without a signal, fn receives one that never aborts; success needs no timer', async () => {
    vi.useFakeTimers()
    const fn = vi.fn((_attempt: number, signal: AbortSignal) => {
      expect(signal.aborted).toBe(false)
      return 'v'
    })
    await expect(retry(fn)).resolves.toBe('v')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('huge attempt numbers never overflow: delays stay finite and capped (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.double({ min: 0, max: 1e12, noNaN: true }),
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        (n, base, max, factor) => {
          const d = backoffDelay(n, base, max, factor)
          expect(Number.isFinite(d)).toBe(true)
          expect(d).toBeGreaterThanOrEqual(0)
          expect(d).toBeLessThanOrEqual(max)
          if (n === 1) expect(d).toBe(Math.min(base, max))
          // Monotonic: the next delay is never shorter.
          if (n < Number.MAX_SAFE_INTEGER) expect(backoffDelay(n + 1, base, max, factor)).toBeGreaterThanOrEqual(d)
        },
      ),
      { numRuns: 500 },
    )
    expect(backoffDelay(1e6, 100, 5000, 2)).toBe(5000)
    expect(backoffDelay(2000, 1e300, 1e308, 10)).toBe(1e308)
    expect(backoffDelay(5000, 0, 5000, 2)).toBe(0)
    expect(backoffDelay(3, 100, 5000, 2)).toBe(400)
    expect(backoffDelay(7, 100, 5000, 2)).toBe(5000)
    expect(backoffDelay(4, 100, 50, 2)).toBe(50)
  })

  it('attempts: Infinity keeps trying with capped delays until it succeeds', async () => {
    vi.useFakeTimers()
    const { fn } = flaky(1100)
    const p = retry(fn, { attempts: Infinity, baseMs: 1, maxMs: 2, jitter: false })
    await vi.runAllTimersAsync()
    await expect(p).resolves.toBe('ok')
    expect(fn).toHaveBeenCalledTimes(1101)
  })

  it('validates every option', async () => {
    const ok = () => 1
    const bad: [object, ErrorConstructor][] = [
      [{ attempts: 0 }, RangeError],
      [{ attempts: 1.5 }, RangeError],
      [{ attempts: Number.NaN }, RangeError],
      [{ attempts: '3' }, TypeError],
      [{ baseMs: -1 }, RangeError],
      [{ baseMs: Infinity }, RangeError],
      [{ maxMs: Number.NaN }, RangeError],
      [{ factor: 0.5 }, RangeError],
      [{ factor: Infinity }, RangeError],
      [{ jitter: 'yes' }, TypeError],
      [{ random: 1 }, TypeError],
      [{ shouldRetry: true }, TypeError],
      [{ onRetry: {} }, TypeError],
      [{ signal: 'x' }, TypeError],
    ]
    for (const [options, type] of bad) {
      await expect(retry(ok, options as never), JSON.stringify(options)).rejects.toThrow(type)
    }
    await expect(retry('fn' as never)).rejects.toThrow(TypeError)
    await expect(retry(ok, 3 as never)).rejects.toThrow(TypeError)
    expect(DEFAULT_RETRY_OPTIONS).toEqual({ attempts: 3, baseMs: 100, maxMs: 10_000, factor: 2, jitter: true })
  })
})
