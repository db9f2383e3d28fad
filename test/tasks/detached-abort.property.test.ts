/**
 * Every path that aborts a detached task reaches its signal, however lazily that signal is
 * created (on Node 20 a task that never listens gets a proxy whose real AbortSignal exists
 * only once something uses it): the pool's timeout, a per-task timeout and a drain deadline
 * with `abortRemaining`. Tasks read their signal at random moments (at once, later, never
 * until the end) and listen at random moments; whatever they do, a task that was cut sees
 * its signal aborted with the reason it was reported with, each listener added before the
 * abort runs exactly once, and a task that was not cut never sees an abort.
 * Run with lazy signals forced on (where the runtime allows it) and off.
 */
import { afterAll, describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { DetachedPool } from '../../src/tasks/DetachedPool.js'
import { TimeoutError } from '../../src/errors.js'
import { useLazySignals } from '../../src/internal/lazy-signal.js'
import type { ErrorContext } from '../../src/internal/report.js'
import { expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

const initial = useLazySignals()
const modes: [string, boolean][] = [['real signals', false]]
if (useLazySignals(true)) modes.unshift(['lazy signals', true])
useLazySignals(initial)
afterAll(() => {
  useLazySignals(initial)
})

/** How a task treats its signal. */
type Use = 'listen-at-start' | 'listen-later' | 'poll-later' | 'untouched'

interface Probe {
  signal: AbortSignal | undefined
  listenerCalls: number
  /** `signal.aborted` / `signal.reason` when first read after starting, for 'poll-later'. */
  polled: { aborted: boolean; reason: unknown } | undefined
  settle: (() => void) | undefined
  listenedBeforeAbort: boolean
}

const taskSpec = fc.record({
  use: fc.constantFrom<Use>('listen-at-start', 'listen-later', 'poll-later', 'untouched'),
  ownTimeout: fc.option(fc.integer({ min: 1, max: 150 }), { nil: undefined }),
  honours: fc.boolean(),
})
const step = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 80 }) }),
  fc.record({ kind: fc.constant('touch' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('settle' as const), index: fc.nat() }),
)

describe.each(modes)('detached tasks with %s', (_label, lazy) => {
  it('a task cut by its timeout or by a drain deadline sees its signal aborted with the reported reason (property, fake timers)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(taskSpec, { minLength: 1, maxLength: 8 }),
        fc.array(step, { maxLength: 12 }),
        fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
        async (concurrency, specs, steps, drainAfter) => {
          useLazySignals(lazy)
          vi.useFakeTimers()
          try {
            const reports = new Map<string, { event: string; error: unknown }>()
            const onError = (error: unknown, context: ErrorContext): void => {
              expect(reports.has(context.name!)).toBe(false) // one report per task
              reports.set(context.name!, { event: context.event, error })
            }
            const pool = new DetachedPool({ concurrency, timeoutMs: 100, onError })
            const probes: Probe[] = specs.map(() => ({ signal: undefined, listenerCalls: 0, polled: undefined, settle: undefined, listenedBeforeAbort: false }))
            const listen = (p: Probe): void => {
              p.listenedBeforeAbort = !p.signal!.aborted
              p.signal!.addEventListener('abort', () => p.listenerCalls++)
            }
            specs.forEach((spec, i) => {
              const probe = probes[i]!
              pool.run(
                (signal) => {
                  probe.signal = signal
                  if (spec.use === 'listen-at-start') listen(probe)
                  return new Promise<void>((resolve, reject) => {
                    probe.settle = resolve
                    if (spec.honours && spec.use === 'listen-at-start') signal.addEventListener('abort', () => reject(signal.reason))
                  })
                },
                { name: `t${i}`, ...(spec.ownTimeout === undefined ? {} : { timeoutMs: spec.ownTimeout }) },
              )
            })
            let drained: Promise<unknown> | undefined
            let elapsed = 0
            for (const s of steps) {
              await flushMicrotasks()
              if (s.kind === 'advance') {
                vi.advanceTimersByTime(s.ms)
                elapsed += s.ms
              } else {
                const probe = probes[s.index % probes.length]!
                if (probe.signal === undefined) continue
                const spec = specs[s.index % probes.length]!
                if (s.kind === 'touch') {
                  if (spec.use === 'listen-later' && probe.listenerCalls === 0 && !probe.listenedBeforeAbort) listen(probe)
                  if (spec.use === 'poll-later' && probe.polled === undefined) probe.polled = { aborted: probe.signal.aborted, reason: probe.signal.reason }
                } else {
                  probe.settle?.()
                }
              }
              if (drainAfter !== undefined && drained === undefined && elapsed >= drainAfter) {
                drained = pool.drain({ timeoutMs: 1, abortRemaining: true }).catch((e: unknown) => e)
              }
            }
            await flushMicrotasks()
            if (drainAfter !== undefined && drained === undefined) drained = pool.drain({ timeoutMs: 0, abortRemaining: true }).catch((e: unknown) => e)
            vi.advanceTimersByTime(1)
            const drainOutcome = await drained
            await flushMicrotasks()
            // Whatever is left times out; then every probe is checked.
            await vi.runAllTimersAsync()
            for (const p of probes) p.settle?.()
            await flushMicrotasks()

            specs.forEach((spec, i) => {
              const probe = probes[i]!
              const report = reports.get(`t${i}`)
              const cut = report !== undefined && (report.event === 'timeout' || report.event === 'aborted')
              if (probe.signal === undefined) {
                // Never ran: dropped by the drain deadline, or cut before its start microtask.
                expect(report === undefined ? 'none' : report.event).toMatch(/dropped|timeout|aborted/)
                return
              }
              if (!cut) {
                expect(report).toBeUndefined()
                expect(probe.signal.aborted).toBe(false)
                expect(probe.listenerCalls).toBe(0)
                return
              }
              if (report.event === 'timeout') expect(report.error).toBeInstanceOf(TimeoutError)
              else expect(report.error).toBe(drainOutcome)
              // Read now, long after the abort: a lazily created signal says the same.
              expect(probe.signal.aborted).toBe(true)
              expect(probe.signal.reason).toBe(report.error)
              expect(() => {
                probe.signal!.throwIfAborted()
              }).toThrow()
              if (probe.polled?.aborted === true) expect(probe.polled.reason).toBe(report.error)
              expect(probe.listenerCalls).toBe(probe.listenedBeforeAbort ? 1 : 0)
              // A listener added after the abort never runs, the signal is still aborted.
              let late = 0
              probe.signal.addEventListener('abort', () => late++)
              expect(late).toBe(0)
            })
            const st = pool.stats()
            expect(st).toMatchObject({ running: 0, queued: 0, overdue: 0 })
            expect(st.succeeded + st.failed + st.timedOut + st.aborted).toBe(st.started)
            expect(vi.getTimerCount()).toBe(0)
          } finally {
            vi.clearAllTimers()
            vi.useRealTimers()
            useLazySignals(initial)
          }
        },
      ),
      { numRuns: 150 },
    )
  })
})
