/**
 * One pub/sub connection shared by every asyncsafe object on it: per-channel listener
 * sets with one `SUBSCRIBE` per channel (the first listener) and one `UNSUBSCRIBE` (the
 * last), and "reconnected" listeners for every `'ready'` after the first, when messages
 * may have been lost.
 *
 * Who owns the connection: a `subscriber` you pass is yours (asyncsafe subscribes and
 * unsubscribes its channels, never closes it). Without one, asyncsafe creates
 * `client.duplicate()` the first time an object on `client` needs pub/sub, shares it
 * among all of them, and disconnects it when the last of them is disposed.
 */
import { reportError, type OnError } from '../internal/report.js'
import type { RedisClient, RedisSubscriber } from './types.js'

type MessageListener = (message: string) => void

interface ChannelEntry {
  readonly listeners: Set<MessageListener>
  /** Settles once the SUBSCRIBE was answered (never rejects). */
  ready: Promise<void>
}

/** A listener's hold on a channel; dispose leaves it. */
export interface ChannelSubscription extends Disposable {
  /** Resolves once the server confirmed the subscription (or it failed: then only polling wakes). */
  readonly ready: Promise<void>
}

const owned = new WeakMap<RedisClient, SubscriberHub>()
const given = new WeakMap<RedisSubscriber, SubscriberHub>()

/** See the module comment. */
export class SubscriberHub {
  private readonly channels = new Map<string, ChannelEntry>()
  private readonly reconnectListeners = new Set<() => void>()
  private readonly ownedBy: RedisClient | undefined
  private refs = 0
  private connectedOnce: boolean
  private readonly onMessage = (channel: string, message: string): void => {
    const entry = this.channels.get(channel)
    if (entry === undefined) return
    for (const listener of [...entry.listeners]) listener(message)
  }
  private readonly onReady = (): void => {
    if (!this.connectedOnce) {
      this.connectedOnce = true
      return
    }
    for (const listener of [...this.reconnectListeners]) listener()
  }
  private readonly onConnectionError = (error: unknown): void => {
    // ioredis emits one per reconnect attempt; report once per outage.
    if (!this.connectedOnce || !this.reportedOutage) {
      this.reportedOutage = true
      reportError(this.onError, error, { area: 'redis', event: 'subscriber-error' })
    }
  }
  private reportedOutage = false
  private onError: OnError | undefined

  private constructor(readonly connection: RedisSubscriber, ownedBy: RedisClient | undefined) {
    this.ownedBy = ownedBy
    this.connectedOnce = (connection as { status?: unknown }).status === 'ready'
    connection.on('message', this.onMessage)
    connection.on('ready', this.onReady)
    connection.on('ready', () => {
      this.reportedOutage = false
    })
    if (ownedBy !== undefined) (connection as unknown as { on(e: 'error', l: (error: unknown) => void): unknown }).on('error', this.onConnectionError)
  }

  /**
   * The hub for `subscriber`, or the shared one asyncsafe creates for `client`; counts a
   * reference (give it back with `unref()`).
   */
  static acquire(client: RedisClient, subscriber: RedisSubscriber | undefined, onError: OnError | undefined): SubscriberHub {
    let hub: SubscriberHub | undefined
    if (subscriber !== undefined) {
      hub = given.get(subscriber)
      if (hub === undefined) given.set(subscriber, (hub = new SubscriberHub(subscriber, undefined)))
    } else {
      hub = owned.get(client)
      if (hub === undefined) owned.set(client, (hub = new SubscriberHub(client.duplicate(), client)))
    }
    hub.onError ??= onError
    hub.refs++
    return hub
  }

  /** Gives back a reference; the last one disconnects a connection asyncsafe created. */
  unref(): void {
    if (--this.refs > 0 || this.ownedBy === undefined) return
    owned.delete(this.ownedBy)
    try {
      this.connection.disconnect()
    } catch {
      // Closing a connection must not throw out of a dispose.
    }
  }

  /** Calls `listener(message)` for each message on `channel` until disposed. */
  listen(channel: string, listener: MessageListener): ChannelSubscription {
    let entry = this.channels.get(channel)
    if (entry === undefined) {
      const created: ChannelEntry = { listeners: new Set(), ready: Promise.resolve() }
      created.ready = this.connection.subscribe(channel).then(
        () => undefined,
        (error: unknown) => {
          if (this.channels.get(channel) === created) reportError(this.onError, error, { area: 'redis', event: 'subscribe-error', channel })
        },
      )
      this.channels.set(channel, created)
      entry = created
    }
    const current = entry
    current.listeners.add(listener)
    let left = false
    return {
      ready: current.ready,
      [Symbol.dispose]: () => {
        if (left) return
        left = true
        current.listeners.delete(listener)
        if (current.listeners.size === 0 && this.channels.get(channel) === current) {
          this.channels.delete(channel)
          this.connection.unsubscribe(channel).catch(() => {
            // A closed connection has no subscriptions left to remove.
          })
        }
      },
    }
  }

  /** Calls `listener()` after each reconnect of the subscriber (messages may have been lost). */
  onReconnect(listener: () => void): Disposable {
    this.reconnectListeners.add(listener)
    return {
      [Symbol.dispose]: () => {
        this.reconnectListeners.delete(listener)
      },
    }
  }

  /** Channels with at least one listener (tests: nothing left behind). */
  get channelCount(): number {
    return this.channels.size
  }

  /** References held (tests). */
  get refCount(): number {
    return this.refs
  }
}
