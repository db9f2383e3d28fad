/**
 * no-blocking-in-async: synchronous sleeps and blocking calls inside async functions,
 * the TypeScript form of the audit's `std::thread::sleep` in async paths. An async
 * function runs on the event loop; while it blocks, no other request, timer or I/O
 * callback of the process runs.
 *
 * Reported inside an async function (and inside the synchronous callbacks it passes to
 * array methods such as `map` and `forEach`, which run there and then):
 * - `Atomics.wait(...)`;
 * - `*Sync` calls of `fs` (also `fs-extra`, `graceful-fs`), `child_process`, `crypto`
 *   and `zlib`, found through the file's imports and requires (`execSync`,
 *   `spawnSync`, `readFileSync`, `pbkdf2Sync`, ...), unless named in `allow`;
 * - a busy-wait loop: a `while` / `do` / `for` loop whose condition reads the clock
 *   (`Date.now()`, `performance.now()`, `new Date()`, `process.hrtime`) and whose body
 *   awaits nothing and calls nothing but the clock;
 * - a call of a function of the same file that does one of the two sleeps above
 *   (`sleepSync(100)`).
 * Module top-level code (startup) and synchronous functions are not reported.
 */
import type { TSESTree } from '@typescript-eslint/utils'
import { type Context, type FunctionNode, isFunction, propertyName, unwrap, walk } from '../util/ast.js'
import { bareModule, importedAt, requireSource } from '../util/imports.js'
import { createRule } from '../util/rule.js'

type MessageIds = 'atomicsWait' | 'syncCall' | 'busyWait' | 'blockingHelper'
type Options = [{ allow?: string[] }]

const BLOCKING_MODULES = new Set(['fs', 'fs-extra', 'graceful-fs', 'child_process', 'crypto', 'zlib'])
const ARRAY_CALLBACKS = new Set(['map', 'forEach', 'filter', 'reduce', 'reduceRight', 'some', 'every', 'find', 'findIndex', 'findLast', 'findLastIndex', 'flatMap', 'sort', 'toSorted'])

export const noBlockingInAsync = createRule<MessageIds, Options>({
  name: 'no-blocking-in-async',
  meta: {
    type: 'problem',
    docs: {
      description: 'Disallow synchronous sleeps and blocking calls inside async functions',
      recommended: true,
      requiresTypeChecking: false,
    },
    schema: [
      {
        type: 'object',
        properties: { allow: { type: 'array', items: { type: 'string' }, uniqueItems: true, description: 'Names of *Sync functions to allow, e.g. "existsSync".' } },
        additionalProperties: false,
      },
    ],
    messages: {
      atomicsWait: '`Atomics.wait` in an async function blocks the event loop: nothing else in the process runs until it returns. Use `Atomics.waitAsync` or a timer.',
      syncCall: '`{{name}}` in an async function blocks the event loop until it returns: nothing else in the process runs meanwhile. Use the asynchronous form ({{alternative}}).',
      busyWait: 'A busy-wait loop on the clock in an async function: it blocks the event loop for the whole wait. Await a timer instead (`await setTimeout(ms, undefined, { signal })` from node:timers/promises).',
      blockingHelper: '`{{name}}` (line {{line}}) blocks the thread ({{how}}); calling it from an async function stalls the event loop. Await a timer instead.',
    },
  },
  defaultOptions: [{ allow: [] }],
  create(context, [options]) {
    const allow = new Set(options.allow ?? [])
    let blockingHelpers: Map<string, { fn: FunctionNode; how: string }> | undefined
    const helpers = (): Map<string, { fn: FunctionNode; how: string }> => (blockingHelpers ??= findBlockingHelpers(context))
    return {
      CallExpression(node) {
        if (!inAsyncPath(node)) return
        const callee = unwrap(node.callee)
        if (callee.type === 'MemberExpression') {
          const name = propertyName(callee)
          const object = unwrap(callee.object)
          if (name === 'wait' && object.type === 'Identifier' && object.name === 'Atomics' && isGlobal(context, object)) {
            context.report({ node, messageId: 'atomicsWait' })
            return
          }
          if (name === undefined || !name.endsWith('Sync') || allow.has(name)) return
          const module = moduleOf(context, object)
          if (module !== undefined) context.report({ node, messageId: 'syncCall', data: { name: `${module}.${name}`, alternative: alternative(module, name) } })
          return
        }
        if (callee.type !== 'Identifier') return
        const binding = importedAt(context, callee)
        if (binding && BLOCKING_MODULES.has(bareModule(binding.source)) && binding.imported.endsWith('Sync')) {
          if (!allow.has(binding.imported)) context.report({ node, messageId: 'syncCall', data: { name: binding.imported, alternative: alternative(bareModule(binding.source), binding.imported) } })
          return
        }
        const helper = helpers().get(callee.name)
        if (helper && resolvesTo(context, callee, helper.fn)) {
          context.report({ node, messageId: 'blockingHelper', data: { name: callee.name, line: String(helper.fn.loc.start.line), how: helper.how } })
        }
      },
      'WhileStatement, DoWhileStatement, ForStatement'(node: TSESTree.WhileStatement | TSESTree.DoWhileStatement | TSESTree.ForStatement) {
        if (isBusyWait(node) && inAsyncPath(node)) context.report({ node, messageId: 'busyWait' })
      },
    }
  },
})

/** True if `node` runs as part of an async function's own execution. */
function inAsyncPath(node: TSESTree.Node): boolean {
  for (let current = node.parent; current; current = current.parent) {
    if (!isFunction(current)) continue
    if (current.async) return !current.generator
    // A synchronous callback passed to an array method runs inside its caller.
    const parent = current.parent
    if (parent?.type === 'CallExpression' && parent.arguments.includes(current as TSESTree.CallExpressionArgument) && parent.callee.type === 'MemberExpression' && ARRAY_CALLBACKS.has(propertyName(parent.callee) ?? '')) continue
    return false
  }
  return false
}

function isGlobal(context: Context, identifier: TSESTree.Identifier): boolean {
  for (let scope: ReturnType<Context['sourceCode']['getScope']> | null = context.sourceCode.getScope(identifier); scope; scope = scope.upper) {
    const variable = scope.set.get(identifier.name)
    if (variable) return scope.type === 'global' && variable.defs.length === 0
  }
  return true
}

/** The blocking module an object expression is: an imported/required namespace, or `require('fs')` inline. */
function moduleOf(context: Context, object: TSESTree.Node): string | undefined {
  const inline = requireSource(object)
  if (inline !== undefined) return BLOCKING_MODULES.has(bareModule(inline)) ? bareModule(inline) : undefined
  if (object.type !== 'Identifier') return undefined
  const binding = importedAt(context, object)
  if (!binding || (binding.imported !== '*' && binding.imported !== 'default')) return undefined
  const module = bareModule(binding.source)
  return BLOCKING_MODULES.has(module) ? module : undefined
}

function alternative(module: string, name: string): string {
  const base = name.slice(0, -4)
  if (module === 'child_process') return `${base} / execFile with a callback or util.promisify`
  if (module === 'fs' || module === 'fs-extra' || module === 'graceful-fs') return `fs/promises ${base}`
  if (module === 'zlib') return `zlib.${base} with a callback, or a stream`
  return `crypto.${base} with a callback`
}

const CLOCK_READ = (node: TSESTree.Node): boolean => {
  if (node.type === 'CallExpression') {
    const callee = unwrap(node.callee)
    if (callee.type !== 'MemberExpression') return false
    const name = propertyName(callee)
    const object = unwrap(callee.object)
    if (object.type === 'Identifier' && object.name === 'Date' && name === 'now') return true
    if (object.type === 'Identifier' && object.name === 'performance' && name === 'now') return true
    if (object.type === 'Identifier' && object.name === 'process' && name === 'hrtime') return true
    if (object.type === 'MemberExpression' && propertyName(object) === 'hrtime' && name === 'bigint') return true
    if (object.type === 'NewExpression' && object.callee.type === 'Identifier' && object.callee.name === 'Date' && name === 'getTime') return true
    return false
  }
  return node.type === 'NewExpression' && node.callee.type === 'Identifier' && node.callee.name === 'Date' && node.arguments.length === 0
}

/** A loop whose condition reads the clock and whose body awaits nothing and calls nothing else. */
function isBusyWait(loop: TSESTree.WhileStatement | TSESTree.DoWhileStatement | TSESTree.ForStatement): boolean {
  if (!loop.test) return false
  let readsClock = false
  walk(loop.test, (node) => {
    if (CLOCK_READ(node)) readsClock = true
  })
  if (!readsClock) return false
  let works = false
  const parts: TSESTree.Node[] = [loop.body]
  if (loop.type === 'ForStatement' && loop.update) parts.push(loop.update)
  for (const part of parts) {
    walk(part, (node) => {
      if (works) return false
      if (node.type === 'AwaitExpression' || node.type === 'YieldExpression') works = true
      else if ((node.type === 'CallExpression' || node.type === 'NewExpression') && !CLOCK_READ(node)) works = true
      else if (node.type === 'CallExpression' || node.type === 'NewExpression') return false
    })
  }
  return !works
}

/** Functions of this file that sleep the thread: they contain `Atomics.wait` or a busy-wait loop. */
function findBlockingHelpers(context: Context): Map<string, { fn: FunctionNode; how: string }> {
  const helpers = new Map<string, { fn: FunctionNode; how: string }>()
  walk(
    context.sourceCode.ast,
    (node) => {
      let fn: FunctionNode | undefined
      let name: string | undefined
      if (node.type === 'FunctionDeclaration' && node.id && !node.async) {
        fn = node
        name = node.id.name
      } else if (node.type === 'VariableDeclarator' && node.id.type === 'Identifier' && isFunction(node.init) && !node.init.async) {
        fn = node.init
        name = node.id.name
      }
      if (!fn || name === undefined) return
      let how: string | undefined
      walk(fn, (inner) => {
        if (how !== undefined) return false
        if ((inner.type === 'WhileStatement' || inner.type === 'DoWhileStatement' || inner.type === 'ForStatement') && isBusyWait(inner)) how = 'a busy-wait loop on the clock'
        else if (inner.type === 'CallExpression') {
          const callee = unwrap(inner.callee)
          if (callee.type === 'MemberExpression' && propertyName(callee) === 'wait' && unwrap(callee.object).type === 'Identifier' && (unwrap(callee.object) as TSESTree.Identifier).name === 'Atomics') how = 'Atomics.wait'
        }
      })
      if (how !== undefined) helpers.set(name, { fn, how })
    },
    true,
  )
  return helpers
}

function resolvesTo(context: Context, identifier: TSESTree.Identifier, fn: FunctionNode): boolean {
  for (let scope: ReturnType<Context['sourceCode']['getScope']> | null = context.sourceCode.getScope(identifier); scope; scope = scope.upper) {
    const variable = scope.set.get(identifier.name)
    if (!variable) continue
    const definition = variable.defs[0]
    if (!definition) return false
    const node = definition.node as TSESTree.Node
    return node === fn || (node.type === 'VariableDeclarator' && node.init === fn)
  }
  return false
}
