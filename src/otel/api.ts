/**
 * `@opentelemetry/api`, loaded only when `instrument()` needs a global provider (one was
 * not passed), so `asyncsafe/otel` itself imports where the API is not installed and no
 * other entry of the package ever reaches it. The API keeps its globals on `globalThis`
 * (one registry per major version), so the copy loaded here sees the providers the
 * application's SDK registered, whether the application imports the API as ESM or CJS.
 *
 * @module
 */
import { createRequire } from 'node:module'
import type { MeterProvider, TracerProvider } from '@opentelemetry/api'

/** The part of `@opentelemetry/api` the bridge uses. */
interface OtelApi {
  readonly metrics: { getMeterProvider(): MeterProvider }
  readonly trace: { getTracerProvider(): TracerProvider }
}

let api: OtelApi | undefined

function load(): OtelApi {
  if (api !== undefined) return api
  try {
    api = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi
  } catch (error) {
    throw new TypeError('asyncsafe/otel: @opentelemetry/api is not installed: install it (npm install @opentelemetry/api), or pass meterProvider and tracerProvider', { cause: error })
  }
  return api
}

/** The globally registered MeterProvider (a no-op one until an SDK registers its own). */
export function globalMeterProvider(): MeterProvider {
  return load().metrics.getMeterProvider()
}

/** The globally registered TracerProvider (a no-op one until an SDK registers its own). */
export function globalTracerProvider(): TracerProvider {
  return load().trace.getTracerProvider()
}
