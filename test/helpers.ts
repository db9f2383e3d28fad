/**
 * Shared test helpers.
 */
import { getEventListeners } from 'node:events'
import { afterAll, beforeAll, expect, vi } from 'vitest'
import type { ErrorContext } from '../src/internal/report.js'

/** Number of 'abort' listeners currently on a signal. */
export function abortListenerCount(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length
}

/**
 * Asserts, for the whole test file, that no unhandled rejection happened.
 * Call once at the top level of a test file.
 */
export function expectNoUnhandledRejections(): void {
  const seen: unknown[] = []
  const onUnhandled = (reason: unknown): void => {
    seen.push(reason)
  }
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled)
  })
  afterAll(async () => {
    // Let rejections of the last test surface (they are detected after a microtask turn).
    await new Promise((resolve) => setImmediate(resolve))
    process.off('unhandledRejection', onUnhandled)
    expect(seen, 'unhandled rejections in this file').toEqual([])
  })
}

/**
 * Captures the process warnings the code under test emits (instead of letting Node
 * print them: test/setup.ts fails a test whose warnings reach the process). Returns the
 * captured `[message, options]` pairs; call `restore()` (or let `vi.restoreAllMocks`)
 * when done.
 */
export function captureWarnings(): { warnings: { message: string; code: string | undefined }[]; restore: () => void } {
  const warnings: { message: string; code: string | undefined }[] = []
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error, options?: unknown) => {
    const code = typeof options === 'object' && options !== null ? (options as { code?: string }).code : undefined
    warnings.push({ message: typeof warning === 'string' ? warning : warning.message, code })
  })
  return { warnings, restore: () => spy.mockRestore() }
}

/** A promise with its settle functions exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Lets every queued microtask (and chains of them) run. */
export async function flushMicrotasks(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve()
}

/** A task that runs until its signal aborts, then rejects with the reason (a well-behaved task). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

/** An `onError` that records what it receives. */
export function collector(): { onError: (e: unknown, c: ErrorContext) => void; seen: { error: unknown; context: ErrorContext }[] } {
  const seen: { error: unknown; context: ErrorContext }[] = []
  return { seen, onError: (error, context) => seen.push({ error, context }) }
}

/** Lets deferred reports happen: they are decided once the microtask queue drained. */
export async function afterReports(): Promise<void> {
  await new Promise((r) => setImmediate(r))
}
