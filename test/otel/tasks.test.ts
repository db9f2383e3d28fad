import { describe, expect, it } from 'vitest'
import { DetachedPool } from '../../src/tasks/index.js'
import { instrument } from '../../src/otel/index.js'
import { deferred } from '../helpers.js'
import { FakeMeterProvider, FakeTracerProvider } from './fake-otel.js'

const POOL = { 'asyncsafe.pool.name': 'writes' }
const failure = (event: string): [number, Record<string, string>] => [1, { 'asyncsafe.area': 'detached', 'asyncsafe.event': event, 'asyncsafe.name': 'writes' }]

describe('asyncsafe/otel: tasks', () => {
  it('reports queue depth and running tasks, drops, failures and timeouts', async () => {
    const meterProvider = new FakeMeterProvider()
    const tracerProvider = new FakeTracerProvider()
    using _bridge = instrument({ meterProvider, tracerProvider, modules: ['tasks'] })
    const meter = meterProvider.meter
    expect(meter.collect('asyncsafe.detached.queued')).toEqual([])
    const pool = new DetachedPool({ name: 'writes', concurrency: 1, maxQueue: 1, onError: () => {} })
    const first = deferred()
    const second = deferred()
    expect(pool.run(() => first.promise)).toBe(true) // runs
    expect(pool.run(() => second.promise)).toBe(true) // queued
    expect(pool.run(() => undefined)).toBe(false) // dropped: the queue is full
    expect(meter.collect('asyncsafe.detached.queued')).toEqual([[1, POOL]])
    expect(meter.collect('asyncsafe.detached.running')).toEqual([[1, POOL]])
    first.resolve()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(meter.collect('asyncsafe.detached.queued')).toEqual([[0, POOL]])
    expect(meter.collect('asyncsafe.detached.running')).toEqual([[1, POOL]])
    second.reject(new Error('write failed'))
    await pool.drain()
    expect(meter.collect('asyncsafe.detached.running')).toEqual([[0, POOL]])
    pool.run(() => new Promise(() => {}), { timeoutMs: 5 }) // never settles: times out
    await pool.drain()
    pool.close()
    pool.run(() => undefined) // refused
    expect(meter.of('asyncsafe.failures')).toEqual([failure('dropped'), failure('error'), failure('timeout'), failure('refused')])
    expect(meter.of('asyncsafe.detached.duration').map(([, a]) => a['asyncsafe.outcome'])).toEqual(['succeeded', 'failed', 'timeout'])
    expect(meter.of('asyncsafe.detached.duration').every(([ms, a]) => ms >= 0 && a['asyncsafe.pool.name'] === 'writes' && a['asyncsafe.task.name'] === 'writes')).toBe(true)
    expect(tracerProvider.tracer.spans.map((s) => [s.name, s.status.code, s.status.message])).toEqual([
      ['asyncsafe.detached.task', 0, undefined],
      ['asyncsafe.detached.task', 2, 'task failed'],
      ['asyncsafe.detached.task', 2, 'task timeout'],
    ])
  })

  it('sums pools of one name and drops from the queue at a drain deadline', async () => {
    const meterProvider = new FakeMeterProvider()
    using _bridge = instrument({ meterProvider, modules: ['tasks'] })
    const meter = meterProvider.meter
    const a = new DetachedPool({ name: 'jobs', concurrency: 1, onError: () => {} })
    const b = new DetachedPool({ name: 'jobs', concurrency: 1, onError: () => {} })
    const hang = (signal: AbortSignal): Promise<void> => new Promise((resolve) => signal.addEventListener('abort', () => resolve()))
    a.run(hang)
    a.run(hang)
    b.run(hang)
    b.run(hang)
    b.run(hang)
    expect(meter.collect('asyncsafe.detached.queued')).toEqual([[3, { 'asyncsafe.pool.name': 'jobs' }]])
    expect(meter.collect('asyncsafe.detached.running')).toEqual([[2, { 'asyncsafe.pool.name': 'jobs' }]])
    await expect(b.drain({ timeoutMs: 0, abortRemaining: true })).rejects.toThrow(/did not drain/)
    expect(meter.collect('asyncsafe.detached.queued')).toEqual([[1, { 'asyncsafe.pool.name': 'jobs' }]])
    expect(meter.collect('asyncsafe.detached.running')).toEqual([[1, { 'asyncsafe.pool.name': 'jobs' }]])
    await expect(a.drain({ timeoutMs: 0, abortRemaining: true })).rejects.toThrow(/did not drain/)
    expect(meter.collect('asyncsafe.detached.queued')).toEqual([[0, { 'asyncsafe.pool.name': 'jobs' }]])
    expect(meter.sums('asyncsafe.failures')).toEqual({
      [JSON.stringify({ 'asyncsafe.area': 'detached', 'asyncsafe.event': 'dropped', 'asyncsafe.name': 'jobs' })]: 3,
      [JSON.stringify({ 'asyncsafe.area': 'detached', 'asyncsafe.event': 'aborted', 'asyncsafe.name': 'jobs' })]: 2,
    })
  })
})
