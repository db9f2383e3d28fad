/**
 * Runs the example service: `node --import tsx examples/service/main.ts`.
 * Environment: PORT (default 8080; 0 picks a free port), AUDIT_FILE (default
 * ./audit.log), DRAIN_MS (shutdown bound, default 5000).
 * Prints one JSON line when listening and one with the shutdown report after SIGTERM or
 * SIGINT; exits 0 when the shutdown drained everything within the bound.
 */
import { onSignals } from '../../src/node/index.js'
import { createService } from './service.js'

let unhandledRejections = 0
let warnings = 0
process.on('unhandledRejection', (reason) => {
  unhandledRejections++
  console.error('unhandled rejection:', reason)
})
process.on('warning', (warning) => {
  warnings++
  console.error(`warning: ${warning.name}: ${warning.message}`)
})

const service = createService({
  auditFile: process.env.AUDIT_FILE ?? 'audit.log',
  drainMs: Number(process.env.DRAIN_MS ?? 5_000),
})
const port = await service.listen(Number(process.env.PORT ?? 8080))
console.log(JSON.stringify({ event: 'listening', port }))

const signals = onSignals(['SIGTERM', 'SIGINT'], (signal) => {
  signals[Symbol.dispose]() // a second signal gets the default behaviour
  const started = performance.now()
  service
    .shutdown()
    .then((report) => {
      const ok = report.ok && unhandledRejections === 0
      console.log(JSON.stringify({ event: 'shutdown', signal, ...report, ok, unhandledRejections, warnings }))
      process.exitCode = ok ? 0 : 1
      // Nothing of ours should keep the process alive now; if something does, say so.
      setTimeout(() => {
        console.error(`still alive ${(performance.now() - started).toFixed(0)} ms after ${signal}: ${process.getActiveResourcesInfo().join(', ')}`)
        process.exit(2)
      }, 2_000).unref()
    })
    .catch((error: unknown) => {
      console.error('shutdown failed:', error)
      process.exit(1)
    })
})
