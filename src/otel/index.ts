/**
 * `asyncsafe/otel`: an OpenTelemetry bridge. `instrument()` subscribes to the library's
 * diagnostics_channel events and records them as metrics (lock wait and hold times,
 * cache hits, misses and evictions, pool queue depth, failures) and, optionally, spans.
 *
 * `@opentelemetry/api` is an optional peer dependency, loaded by this subpath only, and
 * only when a provider is not passed; importing `asyncsafe` or any other subpath never
 * loads it. Node-only (diagnostics_channel).
 *
 * @module asyncsafe/otel
 */
export { instrument, type InstrumentOptions, type OtelBridge } from './instrument.js'
export { ATTR, INSTRUMENTED_MODULES, INSTRUMENTS, type InstrumentedModule, type InstrumentSpec } from './instruments.js'
export type {
  CacheAccessMessage,
  CacheEvictMessage,
  CacheLoadMessage,
  DetachedEndMessage,
  DetachedPoolMessage,
  DetachedStartMessage,
  LockAcquireMessage,
  LockReleaseMessage,
} from '../internal/channels.js'
