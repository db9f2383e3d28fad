/**
 * asyncsafe/node: Node-only helpers: graceful process-group termination, event-loop
 * stall reports, disposable signal subscriptions.
 *
 * @module asyncsafe/node
 */
export { gracefulKill } from './gracefulKill.js'
export type { GracefulKillOptions, KillOutcome } from './gracefulKill.js'
export { watchEventLoop } from './watchEventLoop.js'
export type { WatchEventLoopOptions, StallEvent, EventLoopWatch } from './watchEventLoop.js'
export { onSignals } from './onSignals.js'
export type { SignalSubscription } from './onSignals.js'
