/**
 * Waiting for a lease held elsewhere without polling only: a waiter subscribes to the
 * key's release channel (one SUBSCRIBE per channel per connection, shared), and sleeps
 * until the earliest of: a release message, the holder's remaining lease (PTTL: a holder
 * that died publishes nothing, its key just expires), the bounded `pollMs` re-check (a
 * lost message cannot strand it), a subscriber reconnect (messages may have been lost),
 * or its own abort.
 */
import { armTimer, disarmTimer } from '../internal/timers.js'
import { reportError, type OnError } from '../internal/report.js'
import { attemptLease, ownerToken, releaseLease, type Attempt, type LeaseKeys } from './lease.js'
import type { ChannelSubscription, SubscriberHub } from './subscriber.js'
import type { RedisClient } from './types.js'

/** `promise`, or `signal.reason` as soon as `signal` aborts. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/** One waiter's wake-up sources (see the module comment). Dispose leaves the channel. */
export class WakeWaiter implements Disposable {
  readonly ready: Promise<void>
  private woken = false
  private wake: (() => void) | undefined
  private readonly subscription: ChannelSubscription
  private readonly reconnect: Disposable

  constructor(hub: SubscriberHub, channel: string) {
    const onWake = (): void => {
      this.woken = true
      this.wake?.()
    }
    this.subscription = hub.listen(channel, onWake)
    this.reconnect = hub.onReconnect(onWake)
    this.ready = this.subscription.ready
  }

  /** Forgets wake-ups seen so far (call right before an attempt). */
  clear(): void {
    this.woken = false
  }

  /** Resolves on a wake-up (also one that came since `clear()`) or after `ms`; rejects with `signal.reason` on abort. */
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.woken) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.wake = undefined
        disarmTimer(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      const onAbort = (): void => {
        done()
        reject(signal!.reason)
      }
      const timer = armTimer(ms, () => {
        done()
        resolve()
      })
      this.wake = () => {
        done()
        resolve()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  [Symbol.dispose](): void {
    this.wake = undefined
    this.subscription[Symbol.dispose]()
    this.reconnect[Symbol.dispose]()
  }
}

/** What acquiring needs. */
export interface AcquireSettings {
  readonly client: RedisClient
  readonly hub: () => SubscriberHub
  readonly keys: LeaseKeys
  readonly leaseMs: number
  readonly pollMs: number
  readonly name: string | undefined
  readonly onError: OnError | undefined
}

/** A grant: who we are, its fencing token, when the granting command was sent. */
export interface Grant {
  readonly owner: string
  readonly token: number
  readonly sentAt: number
  /** The first attempt failed: the grant had to wait. */
  readonly contended: boolean
}

/** An attempt whose caller left: if it granted after all, give the lease back at once. */
export function abandonAttempt(settings: AcquireSettings, pending: Promise<Attempt>, owner: string): void {
  pending.then(
    (attempt) => {
      if (!attempt.granted) return
      releaseLease(settings.client, settings.keys, owner).catch((error: unknown) => {
        reportError(settings.onError, error, { area: 'redis', event: 'release-error', name: settings.name, key: settings.keys.lock })
      })
    },
    () => {
      // The caller already left; its failure is nobody's.
    },
  )
}

/** Sleep before the next attempt, from what the failed one saw. */
export function sleepMs(attempt: Attempt & { granted: false }, pollMs: number): number {
  if (attempt.pttl === -2) return 0 // gone already
  if (attempt.pttl < 0) return pollMs // no expiry (not ours): only the poll and messages
  return Math.min(attempt.pttl + 1, pollMs)
}

/**
 * Attempts until granted (or once, with `once`: then `undefined` when held elsewhere).
 * Rejects with `signal.reason` on abort, with a command's error on failure.
 */
export async function acquireLease(settings: AcquireSettings, signal: AbortSignal | undefined, once: boolean): Promise<Grant | undefined> {
  const owner = ownerToken()
  let waiter: WakeWaiter | undefined
  let contended = false
  try {
    for (;;) {
      waiter?.clear()
      const sentAt = performance.now()
      const pending = attemptLease(settings.client, settings.keys, owner, settings.leaseMs)
      let attempt: Attempt
      try {
        attempt = await raceSignal(pending, signal)
      } catch (error) {
        if (signal?.aborted) abandonAttempt(settings, pending, owner)
        throw error
      }
      if (attempt.granted) return { owner, token: attempt.token, sentAt, contended }
      if (once) return undefined
      contended = true
      if (waiter === undefined) {
        // Subscribe, then try again at once: a release between the attempt and the
        // subscription would otherwise be missed until the next timer.
        waiter = new WakeWaiter(settings.hub(), settings.keys.channel)
        await raceSignal(waiter.ready, signal)
        continue
      }
      await waiter.sleep(sleepMs(attempt, settings.pollMs), signal)
    }
  } finally {
    waiter?.[Symbol.dispose]()
  }
}
