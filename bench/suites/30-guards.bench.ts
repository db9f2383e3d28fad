/**
 * Guards: the cost of `await using task = spawnGuarded(fn)` (spawn, then dispose = abort
 * and wait until settled) against its floor — what a hand-written guard cannot avoid:
 * an AbortController created and aborted with a preallocated reason, plus the bare task
 * (`const p = task(signal); ac.abort(reason); await p`). Target: at most 1.5x.
 */
import { groupMarkdown, runCpuGroup, runGroup, type GroupResult, type GroupSpec, type SuiteResult } from '../harness.js'
import { spawnGuarded, TaskScope } from '../../src/guards/index.js'

const REASON = new Error('preallocated abort reason')

/** A background task that runs until its signal aborts (the common shape). */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    signal.addEventListener('abort', () => {
      resolve()
    }, { once: true })
  })
}

/** A task that finishes on its own, one turn later. */
async function quick(_signal: AbortSignal): Promise<void> {
  await Promise.resolve()
}

function floor(task: (signal: AbortSignal) => Promise<void>) {
  return async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const ac = new AbortController()
      const p = task(ac.signal)
      ac.abort(REASON)
      await p
    }
  }
}

function guarded(task: (signal: AbortSignal) => Promise<void>) {
  return async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const g = spawnGuarded(task)
      await g[Symbol.asyncDispose]()
    }
  }
}

const groups: GroupSpec[] = [
  {
    name: 'spawnGuarded + await dispose (task runs until aborted)',
    batch: 4_000,
    reps: 31,
    cases: [
      { name: 'floor: AbortController + abort(prealloc) + bare task', run: floor(untilAborted) },
      { name: 'spawnGuarded + [Symbol.asyncDispose]()', run: guarded(untilAborted) },
    ],
    ratios: [{ name: 'spawnGuarded + dispose / floor', case: 'spawnGuarded + [Symbol.asyncDispose]()', base: 'floor: AbortController + abort(prealloc) + bare task', max: 1.5 }],
  },
  {
    name: 'spawnGuarded + await dispose (task finishes by itself)',
    batch: 4_000,
    reps: 31,
    cases: [
      { name: 'floor: AbortController + abort(prealloc) + bare quick task', run: floor(quick) },
      { name: 'spawnGuarded(quick) + [Symbol.asyncDispose]()', run: guarded(quick) },
    ],
    ratios: [{ name: 'spawnGuarded(quick) + dispose / floor', case: 'spawnGuarded(quick) + [Symbol.asyncDispose]()', base: 'floor: AbortController + abort(prealloc) + bare quick task', max: 1.5 }],
  },
  {
    // Its own group: run in the same group as spawnGuarded, the scope's extra allocations
    // and call sites also slowed the spawnGuarded case measurably (shared JIT feedback, GC).
    name: 'TaskScope: a scope created, one task spawned, scope await-disposed',
    batch: 4_000,
    reps: 31,
    cases: [
      { name: 'floor: AbortController + abort(prealloc) + bare task', run: floor(untilAborted) },
      {
        name: 'TaskScope.spawn + scope asyncDispose',
        run: async (n) => {
          for (let i = 0; i < n; i++) {
            const scope = new TaskScope()
            scope.spawn(untilAborted)
            await scope[Symbol.asyncDispose]()
          }
        },
      },
    ],
    ratios: [{ name: 'TaskScope spawn + dispose / floor', case: 'TaskScope.spawn + scope asyncDispose', base: 'floor: AbortController + abort(prealloc) + bare task' }],
  },
]


export default async function guardsSuite(): Promise<SuiteResult> {
  const results: GroupResult[] = []
  for (const g of groups) {
    results.push(await runGroup(g))
    results.push(await runCpuGroup(g))
  }
  return { name: 'guards', markdown: results.map(groupMarkdown).join('\n\n'), json: results }
}
