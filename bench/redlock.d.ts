/**
 * Types of redlock 5 (its package.json `exports` hide its own .d.ts from TypeScript's
 * bundler resolution): the part the redis benchmark uses.
 */
declare module 'redlock' {
  import type { Redis } from 'ioredis'

  interface Settings {
    readonly driftFactor: number
    readonly retryCount: number
    readonly retryDelay: number
    readonly retryJitter: number
    readonly automaticExtensionThreshold: number
  }

  /** A held redlock lock. */
  export interface Lock {
    release(): Promise<unknown>
  }

  /** The redlock client. */
  export default class Redlock {
    constructor(clients: Iterable<Redis>, settings?: Partial<Settings>)
    acquire(resources: string[], duration: number): Promise<Lock>
  }
}
