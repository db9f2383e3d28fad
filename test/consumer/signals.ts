/**
 * Consumer type test: with DOM or Node types, the library's signal type *is* the host's
 * `AbortSignal`. A host signal is accepted wherever a signal is taken, and the signals
 * the library hands out (to tasks, loaders, observers, `linkSignals`, `timeoutSignal`)
 * go wherever the host wants one (`fetch`, a variable typed `AbortSignal`...). Compiled
 * under node16 + @types/node and under bundler + DOM lib.
 */
import { Mutex } from 'asyncsafe/locks'
import { LruTtlCache } from 'asyncsafe/cache'
import { linkSignals, listen, spawnGuarded, TaskScope, timeoutSignal } from 'asyncsafe/guards'
import { DetachedPool, Initializer, retry, SingleFlightGroup } from 'asyncsafe/tasks'

export async function hostSignals(url: string): Promise<AbortSignal[]> {
  const controller = new AbortController()
  const host: AbortSignal = controller.signal
  const handed: AbortSignal[] = []

  const mutex = new Mutex()
  await mutex.runExclusive(() => undefined, { signal: host })
  await mutex.runExclusive(() => undefined, { signal: AbortSignal.timeout(1_000) })

  const cache = new LruTtlCache<string, Response>({ capacity: 1, onEvict: (_event, { signal }) => void handed.push(signal) })
  await cache.getOrLoad(url, (key, { signal }) => fetch(key, { signal }), { signal: host })

  using task = spawnGuarded((signal) => fetch(url, { signal }), { signal: host })
  handed.push(task.signal)
  await using scope = new TaskScope({ signal: host })
  scope.spawn((signal) => fetch(url, { signal }))
  await new Initializer((signal) => fetch(url, { signal })).get({ signal: host })
  await new SingleFlightGroup<string, Response>().run(url, (signal) => fetch(url, { signal }), { signal: host })
  new DetachedPool().run((signal) => fetch(url, { signal }))
  await retry((_attempt, signal) => fetch(url, { signal }), { signal: host })

  using linked = linkSignals(host, AbortSignal.timeout(5_000))
  using timed = timeoutSignal(1_000)
  handed.push(linked.signal, timed.signal)
  await fetch(url, { signal: linked.signal })
  // A host signal is an EventTarget listen() accepts.
  using off = listen(timed.signal, 'abort', () => undefined)
  void off
  return handed
}
