// Run by gc-race.test.ts in a child process with --expose-gc: a bridge disposed, its
// channels collected, and a new bridge made before their finalizers ran, must still see
// what the library publishes afterwards on a channel it creates lazily (long holds).
import { Mutex } from '../../src/locks/index.js'
import { instrument } from '../../src/otel/index.js'

const gc = (globalThis as { gc?: () => void }).gc!
let counted = 0
const meterProvider = {
  getMeter: () => ({
    createHistogram: () => ({ record: () => {} }),
    createCounter: (name: string) => ({
      add: () => {
        if (name === 'asyncsafe.lock.long_holds') counted++
      },
    }),
    createObservableGauge: () => ({ addCallback: () => {}, removeCallback: () => {} }),
  }),
} as never
instrument({ meterProvider, modules: ['locks'] })[Symbol.dispose]()
await new Promise((resolve) => setTimeout(resolve, 5)) // a WeakRef's deref() keeps its target alive until the job ends
gc() // collects the unsubscribed channels, unless the bridge holds them; their finalizers run later
using _bridge = instrument({ meterProvider, modules: ['locks'] })
await new Promise((resolve) => setTimeout(resolve, 20)) // finalizers of collected channels run here
const m = new Mutex({ longHoldMs: 5, onLongHold: () => {} })
const guard = await m.lock()
await new Promise((resolve) => setTimeout(resolve, 40))
guard.release()
console.log(JSON.stringify({ longHolds: m.stats().longHolds, counted }))
