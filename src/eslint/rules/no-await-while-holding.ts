/**
 * no-await-while-holding: an `await` of foreign code (observers, listeners, hooks,
 * callbacks: see util/foreign.ts) while a lock is held. Every other caller of the lock
 * then waits for code the lock's owner does not control: the audit's critical finding
 * (eviction observers awaited under the cache's write lock) in TypeScript.
 *
 * Held means: after `using g = await m.lock()` (to the end of the block), after
 * `const g = await m.lock()` / `const release = await mutex.acquire()` until the
 * statement that releases it (a `try` whose `finally` releases holds the lock in its
 * block), and inside the callback of `runExclusive` / `runRead` / `runWrite` /
 * `Semaphore.run` / `navigator.locks.request`, where a returned promise is awaited by
 * the lock too. What a lock is: util/locks.ts.
 */
import type { TSESTree } from '@typescript-eslint/utils'
import { type Context, line, walk } from '../util/ast.js'
import { findForeignCall } from '../util/foreign.js'
import { type Region, lockRegions } from '../util/locks.js'
import { createRule } from '../util/rule.js'
import { isThenable, typed, typeOf } from '../util/types.js'

type MessageIds = 'awaitWhileHolding' | 'returnWhileHolding' | 'forAwaitWhileHolding'

export const noAwaitWhileHolding = createRule<MessageIds, []>({
  name: 'no-await-while-holding',
  meta: {
    type: 'problem',
    docs: {
      description: 'Disallow awaiting observers, listeners and other foreign callbacks while a lock is held',
      recommended: true,
      requiresTypeChecking: false,
    },
    schema: [],
    messages: {
      awaitWhileHolding:
        '`await` of foreign code ({{callee}}) while holding the lock taken at line {{line}} ({{acquisition}}): every other user of the lock waits for it. Release the lock first and call it after the state change, as LruTtlCache does with its observers.',
      forAwaitWhileHolding:
        '`for await` over foreign code ({{callee}}) while holding the lock taken at line {{line}} ({{acquisition}}): every other user of the lock waits for it. Collect what you need under the lock and iterate after releasing it.',
      returnWhileHolding:
        'The lock taken at line {{line}} ({{acquisition}}) waits for this returned promise of foreign code ({{callee}}): every other user of the lock waits for it. Return the state change only and call it after the lock is released.',
    },
  },
  defaultOptions: [],
  create(context) {
    return {
      'Program:exit'() {
        const reported = new Set<TSESTree.Node>()
        for (const region of lockRegions(context)) scanRegion(context, region, reported)
      },
    }
  },
})

function scanRegion(context: Context, region: Region, reported: Set<TSESTree.Node>): void {
  const { acquisition, owner } = region
  const data = (callee: string) => ({ callee, line: line(acquisition.call), acquisition: acquisition.label })
  const check = (at: TSESTree.Node, expression: TSESTree.Node, messageId: MessageIds): void => {
    const foreign = findForeignCall(context, expression, owner, reported)
    if (!foreign) return
    reported.add(foreign.call)
    context.report({ node: at, messageId, data: data(foreign.label) })
  }
  for (const root of region.nodes) {
    if (region.callbackBody && root.type !== 'BlockStatement') {
      // An expression body: `runExclusive(() => observer.onEvict(e))`.
      if (returnsPromise(context, region, root)) check(root, root, 'returnWhileHolding')
    }
    walk(root, (node) => {
      if (node.type === 'AwaitExpression') check(node, node.argument, 'awaitWhileHolding')
      else if (node.type === 'ForOfStatement' && node.await) check(node.right, node.right, 'forAwaitWhileHolding')
      else if (region.callbackBody && node.type === 'ReturnStatement' && node.argument && node.argument.type !== 'AwaitExpression') {
        if (returnsPromise(context, region, node.argument)) check(node, node.argument, 'returnWhileHolding')
      }
    })
  }
}

/** A returned value the lock waits for: a thenable (typed), or anything an async callback returns. */
function returnsPromise(context: Context, region: Region, expression: TSESTree.Node): boolean {
  const info = typed(context)
  if (info) return isThenable(info, typeOf(info, expression), info.tsNode(expression))
  return region.acquisition.callback?.async === true
}
