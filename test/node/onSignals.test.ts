import { describe, expect, it, vi } from 'vitest'
import { onSignals } from '../../src/node/onSignals.js'
import { expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

describe('onSignals', () => {
  it('calls the handler with the signal name and removes exactly its listeners on dispose', async () => {
    const other = vi.fn()
    process.on('SIGUSR2', other)
    const before = { usr2: process.listenerCount('SIGUSR2'), usr1: process.listenerCount('SIGUSR1') }
    const handler = vi.fn()
    const sub = onSignals(['SIGUSR2', 'SIGUSR1', 'SIGUSR2'], handler)
    expect(sub.signals).toEqual(['SIGUSR2', 'SIGUSR1'])
    expect(process.listenerCount('SIGUSR2')).toBe(before.usr2 + 1)
    expect(process.listenerCount('SIGUSR1')).toBe(before.usr1 + 1)
    const received = new Promise<void>((resolve) => handler.mockImplementation(() => resolve()))
    process.kill(process.pid, 'SIGUSR2')
    await received
    expect(handler).toHaveBeenCalledWith('SIGUSR2')
    expect(other).toHaveBeenCalledTimes(1)
    sub[Symbol.dispose]()
    sub[Symbol.dispose]()
    expect(sub.active).toBe(false)
    expect(process.listenerCount('SIGUSR2')).toBe(before.usr2)
    expect(process.listenerCount('SIGUSR1')).toBe(before.usr1)
    expect(process.listeners('SIGUSR2')).toContain(other)
    process.off('SIGUSR2', other)
  })

  it('two subscriptions with the same handler are independent', () => {
    const handler = vi.fn()
    const base = process.listenerCount('SIGHUP')
    const a = onSignals('SIGHUP', handler)
    {
      using _b = onSignals(['SIGHUP'], handler)
      expect(process.listenerCount('SIGHUP')).toBe(base + 2)
    }
    expect(process.listenerCount('SIGHUP')).toBe(base + 1)
    expect(a.active).toBe(true)
    a[Symbol.dispose]()
    expect(process.listenerCount('SIGHUP')).toBe(base)
  })

  it('validates signal names and the handler', () => {
    const before = process.listenerCount('SIGTERM')
    expect(() => onSignals(['SIGTERM', 'SIGNOPE'] as never, () => {})).toThrow(RangeError)
    expect(() => onSignals([], () => {})).toThrow(RangeError)
    expect(() => onSignals([1 as never], () => {})).toThrow(TypeError)
    expect(() => onSignals(5 as never, () => {})).toThrow(TypeError)
    expect(() => onSignals(['SIGTERM'], 'x' as never)).toThrow(TypeError)
    // Nothing installed by a refused call.
    expect(process.listenerCount('SIGTERM')).toBe(before)
  })
})
