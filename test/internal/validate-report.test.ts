import { afterEach, describe, expect, it, vi } from 'vitest'
import dc from 'node:diagnostics_channel'
import { checkOptions, checkPositiveInteger, checkTimeout, checkFunction, checkSignal, describe as describeValue, knownOptions } from '../../src/internal/validate.js'
import { reportError } from '../../src/internal/report.js'
import { defaultClock } from '../../src/internal/clock.js'

describe('validation', () => {
  it('names the option and the value', () => {
    expect(() => checkPositiveInteger('capacity', 0)).toThrow(new RangeError('asyncsafe: capacity must be a positive integer, received 0'))
    expect(() => checkPositiveInteger('capacity', 1.5)).toThrow(RangeError)
    expect(() => checkPositiveInteger('capacity', '3')).toThrow(new TypeError('asyncsafe: capacity must be a positive integer, received "3"'))
    expect(() => checkTimeout('timeoutMs', Number.NaN)).toThrow(/timeoutMs .* received NaN/)
    expect(() => checkTimeout('timeoutMs', -1)).toThrow(RangeError)
    expect(checkTimeout('timeoutMs', Infinity)).toBeUndefined()
    expect(checkTimeout('timeoutMs', 0)).toBe(0)
    expect(() => checkFunction('loader', {})).toThrow(/loader must be a function, received an object/)
    expect(() => checkSignal('signal', {})).toThrow(TypeError)
    expect(describeValue(-0)).toBe('-0')
    expect(describeValue(10n)).toBe('10n')
  })
})

describe('checkOptions with known names', () => {
  const known = knownOptions(['capacity', 'ttlMs', 'onEvict', 'notifyConcurrency'], { max: 'capacity', timeout: 'per call: get(key, { timeout })' })

  it('accepts known keys, undefined and inherited keys', () => {
    expect(checkOptions('options', { capacity: 1, ttlMs: undefined }, known)).toEqual({ capacity: 1, ttlMs: undefined })
    expect(checkOptions('options', undefined, known)).toEqual({})
    expect(() => checkOptions('options', Object.create({ inherited: 1 }) as object, known)).not.toThrow()
  })

  it('refuses an unknown key with a TypeError naming it and the likely intended one', () => {
    const message = (value: object): string => {
      try {
        checkOptions('new LruTtlCache(options)', value, known)
      } catch (error) {
        expect(error).toBeInstanceOf(TypeError)
        return (error as Error).message
      }
      throw new Error('did not throw')
    }
    expect(message({ max: 10 })).toBe('asyncsafe: new LruTtlCache(options) has no option "max" (did you mean "capacity"?); known options: capacity, ttlMs, onEvict, notifyConcurrency')
    expect(message({ ttl: 1 })).toMatch(/"ttl" \(did you mean "ttlMs"\?\)/)
    expect(message({ capacty: 1 })).toMatch(/"capacty" \(did you mean "capacity"\?\)/)
    expect(message({ onevict: 1 })).toMatch(/"onevict" \(did you mean "onEvict"\?\)/)
    expect(message({ notifyConcurency: 1 })).toMatch(/did you mean "notifyConcurrency"/)
    expect(message({ timeout: 1 })).toMatch(/"timeout" \(per call: get\(key, \{ timeout \}\)\)/)
    expect(message({ zzz: 1 })).toBe('asyncsafe: new LruTtlCache(options) has no option "zzz"; known options: capacity, ttlMs, onEvict, notifyConcurrency')
  })
})

describe('reportError', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('calls onError with the context and publishes to the channel', () => {
    const published: unknown[] = []
    const listener = (message: unknown): void => {
      published.push(message)
    }
    dc.subscribe('asyncsafe:test:boom', listener)
    const onError = vi.fn()
    const error = new Error('x')
    reportError(onError, error, { area: 'test', event: 'boom', name: 'n', key: 1 })
    dc.unsubscribe('asyncsafe:test:boom', listener)
    expect(onError).toHaveBeenCalledWith(error, { area: 'test', event: 'boom', name: 'n', key: 1 })
    expect(published).toEqual([{ area: 'test', event: 'boom', name: 'n', key: 1, error }])
  })

  it('emits a process warning when there is no onError, or when onError throws', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    reportError(undefined, new TypeError('bad'), { area: 'test', event: 'boom-two' })
    expect(warn).toHaveBeenCalledWith('asyncsafe test boom-two: TypeError: bad', { type: 'AsyncsafeWarning', code: 'ASYNCSAFE_TEST_BOOM_TWO' })
    reportError(() => {
      throw new Error('oops')
    }, 'str', { area: 'test', event: 'boom' })
    expect(warn).toHaveBeenLastCalledWith('asyncsafe test boom: onError threw Error: oops while reporting str', expect.anything())
  })
})

describe('defaultClock', () => {
  it('is monotonic milliseconds from performance.now', () => {
    const a = defaultClock()
    const b = defaultClock()
    expect(b).toBeGreaterThanOrEqual(a)
    expect(Math.abs(a - performance.now())).toBeLessThan(1000)
  })
})
