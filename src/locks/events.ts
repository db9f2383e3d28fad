/**
 * `asyncsafe:lock:acquire` and `asyncsafe:lock:release` (see internal/channels.ts),
 * published from the one place every lock already measures a wait and a hold: the
 * recording of its statistics. `LockCore`'s two histograms are `LockTimes` (and so are a
 * keyed lock's shared ones, which every key's core records into), so the lock code itself
 * is unchanged; when nobody subscribes a record costs one `hasSubscribers` read more.
 *
 * Subscribers run synchronously inside the lock's grant or release: they must not call
 * the lock (`asyncsafe/otel` only records a measurement). A lock created with
 * `stats: false` records nothing, so it publishes neither event.
 *
 * @module
 */
import { Histogram } from '../internal/histogram.js'
import { diagnosticsChannel, type DiagnosticsChannel } from '../internal/diagnostics.js'
import { LOCK_ACQUIRE, LOCK_RELEASE, type LockAcquireMessage, type LockReleaseMessage } from '../internal/channels.js'

const acquireChannel = /* @__PURE__ */ diagnosticsChannel(LOCK_ACQUIRE)
const releaseChannel = /* @__PURE__ */ diagnosticsChannel(LOCK_RELEASE)

/** What a lock's histograms need to name the lock in a message. */
interface LockIdentity {
  readonly name: string | undefined
  readonly kind: string
}

/** A lock's wait or hold histogram that also publishes each value it records. */
export class LockTimes extends Histogram {
  private readonly lock: LockIdentity
  private readonly channel: DiagnosticsChannel | undefined
  private readonly hold: boolean

  /**
   * @param lock the lock, read when a message is built
   * @param hold true for the hold histogram (`asyncsafe:lock:release`), false for the wait one
   */
  constructor(lock: LockIdentity, hold: boolean) {
    super()
    this.lock = lock
    this.hold = hold
    this.channel = hold ? releaseChannel : acquireChannel
  }

  override record(ms: number): void {
    super.record(ms)
    const channel = this.channel
    if (channel?.hasSubscribers) this.publish(channel, ms)
  }

  override recordZero(): void {
    super.recordZero()
    const channel = this.channel
    if (channel?.hasSubscribers) this.publish(channel, 0)
  }

  private publish(channel: DiagnosticsChannel, ms: number): void {
    const { name, kind } = this.lock
    const message: LockAcquireMessage | LockReleaseMessage = this.hold ? { name, kind, heldMs: ms } : { name, kind, waitMs: ms }
    try {
      channel.publish(message)
    } catch {
      // Subscribers cannot break a lock.
    }
  }
}
