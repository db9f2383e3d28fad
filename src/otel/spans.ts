/**
 * Spans made from events that report an end and a duration (a lock release, a loader run's
 * end, a detached task's end): started and ended at once, with the start placed
 * `durationMs` before now. Their parent is the active context where the event is
 * published: the holder's, the loader's or the task's own flow.
 *
 * @module
 */
import type { Attributes, Exception, SpanStatusCode, Tracer } from '@opentelemetry/api'

// SpanStatusCode.ERROR (stable in the specification), without loading the API at run time.
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the enum's value, written out so this module needs no runtime import
const ERROR = 2 as SpanStatusCode

/** Now, as epoch milliseconds with performance.now()'s resolution. */
function epochNow(): number {
  return performance.timeOrigin + performance.now()
}

function asException(error: unknown): Exception | undefined {
  if (typeof error === 'string') return error
  if (error instanceof Error) return error
  return undefined
}

/**
 * Records a finished span.
 *
 * @param tracer the bridge's tracer
 * @param name span name
 * @param durationMs how long it lasted, ending now
 * @param attributes its attributes
 * @param failure when set, the span's status is ERROR with this message (and `error` is recorded as an exception)
 * @param error the failure itself, if any
 */
export function recordSpan(tracer: Tracer, name: string, durationMs: number, attributes: Attributes, failure?: string, error?: unknown): void {
  const end = epochNow()
  // No `kind`: the default, SpanKind.INTERNAL.
  const span = tracer.startSpan(name, { startTime: end - Math.max(0, durationMs), attributes })
  if (failure !== undefined) {
    const exception = asException(error)
    if (exception !== undefined) span.recordException(exception, end)
    span.setStatus({ code: ERROR, message: failure })
  }
  span.end(end)
}
