/**
 * no-check-then-start: the duplicate-initialization race. A shared slot (`this.task`,
 * `this.#client`, a module variable) is checked, then an `await` lets other callers in,
 * and only then is the slot set: two concurrent calls both pass the check and both
 * start. Shapes:
 * - `if (!this.client) { ...await...; this.client = c }`, `if (!this.client) this.client = await connect()`;
 * - a guard `if (this.running) return` followed by an await and then `this.running = true`;
 * - `this.task ??= await start()` / `||=`.
 * Not reported: the slot claimed before the first await (`this.task = start()` then
 * `await this.task`; `this.running = true` then the awaits), a re-check after the last
 * await, a reset to `undefined`/`null`/`false`, local variables, awaits in a branch that
 * returns or throws before the write, code that holds a lock (util/locks.ts, or a
 * callback handed to a helper named like a lock: `withVaultLock(async () => …)`), a
 * variable of the enclosing function when this one is an inline callback, and
 * checks whose write is synchronous (`if (!this.task) this.task = start()` is atomic
 * in JavaScript). The fix is `Initializer` / `SingleFlightGroup` (asyncsafe/tasks), or
 * storing the promise before awaiting it.
 */
import type { TSESTree } from '@typescript-eslint/utils'
import { type Context, type FunctionNode, contains, enclosingFunction, isFalsyLiteral, line, locationKey, propertyName, statementList, unwrap, walk } from '../util/ast.js'
import { lockRegions, regionContaining } from '../util/locks.js'
import { createRule } from '../util/rule.js'

type MessageIds = 'checkThenStart' | 'logicalAssign'

export const noCheckThenStart = createRule<MessageIds, []>({
  name: 'no-check-then-start',
  meta: {
    type: 'problem',
    docs: {
      description: 'Disallow checking a shared slot, awaiting, and only then setting it (duplicate initialization)',
      recommended: true,
      requiresTypeChecking: false,
    },
    schema: [],
    messages: {
      checkThenStart:
        '`{{target}}` is checked at line {{checkLine}} but set only after the `await` at line {{awaitLine}}: concurrent calls all pass the check and each starts its own. Use Initializer / SingleFlightGroup (asyncsafe/tasks), or store the promise in `{{target}}` before awaiting it.',
      logicalAssign:
        '`{{target}} {{operator}} await …` checks `{{target}}` before the await and sets it after: concurrent calls all pass the check and each starts its own. Use Initializer / SingleFlightGroup (asyncsafe/tasks), or store the promise: `{{target}} {{operator}} start()` and await that.',
    },
  },
  defaultOptions: [],
  create(context) {
    return {
      IfStatement(node) {
        const fn = enclosingFunction(node)
        if (!fn?.async || fn.generator || passedToLockHelper(fn)) return
        for (const [key, operand] of checkedKeys(context, node.test, 'falsy')) {
          if (!isShared(context, operand, fn)) continue
          analyze(context, key, node, [node.consequent], node.consequent)
        }
        if (!node.alternate && exits(node.consequent)) {
          const list = statementList(node)
          if (!list) return
          const following = list.slice(list.indexOf(node) + 1)
          for (const [key, operand] of checkedKeys(context, node.test, 'truthy')) {
            if (!isShared(context, operand, fn)) continue
            analyze(context, key, node, following, undefined)
          }
        }
      },
      AssignmentExpression(node) {
        if (node.operator !== '??=' && node.operator !== '||=') return
        const fn = enclosingFunction(node)
        if (!fn?.async || passedToLockHelper(fn) || !isShared(context, node.left, fn)) return
        const key = locationKey(context, node.left)
        if (key === undefined || !containsAwait(node.right)) return
        if (regionContaining(lockRegions(context), node)) return
        context.report({ node, messageId: 'logicalAssign', data: { target: context.sourceCode.getText(node.left), operator: node.operator } })
      },
    }
  },
})

/**
 * Reports the first write of `key` inside `scope` if an await can run between the
 * check (`check.test`) and that write.
 */
function analyze(context: Context, key: string, check: TSESTree.IfStatement, scope: TSESTree.Node[], consequent: TSESTree.Node | undefined): void {
  if (regionContaining(lockRegions(context), check)) return
  const write = firstWrite(context, key, scope)
  if (!write) return
  const awaitNode = awaitBefore(context, key, write, scope, consequent)
  if (!awaitNode) return
  context.report({
    node: write,
    messageId: 'checkThenStart',
    data: { target: context.sourceCode.getText(write.left), checkLine: String(line(check)), awaitLine: String(line(awaitNode)) },
  })
}

/** The first assignment of a value (not a reset) to `key` in `scope`, outside nested functions. */
function firstWrite(context: Context, key: string, scope: TSESTree.Node[]): TSESTree.AssignmentExpression | undefined {
  let found: TSESTree.AssignmentExpression | undefined
  for (const root of scope) {
    walk(root, (node) => {
      if (found) return false
      if (node.type === 'AssignmentExpression' && node.operator === '=' && locationKey(context, node.left) === key && !isFalsyLiteral(node.right)) found = node
    })
    if (found) break
  }
  return found
}

/**
 * An await that runs after the check and before `write` on the path to it: in the
 * write's own right-hand side, in the statements before it at every level up to the
 * check (skipping blocks that return or throw), or in the tests of the branches it is
 * in. A re-check of `key` on the way up stops the search (the write is guarded again).
 */
function awaitBefore(context: Context, key: string, write: TSESTree.AssignmentExpression, scope: TSESTree.Node[], consequent: TSESTree.Node | undefined): TSESTree.Node | undefined {
  const inRight = firstAwait(write.right)
  if (inRight) return inRight
  let found: TSESTree.Node | undefined
  let child: TSESTree.Node = write
  for (;;) {
    if (consequent !== undefined && child === consequent) return found
    const current: TSESTree.Node | undefined = child.parent
    if (!current) return found
    const list = statementList(child)
    if (list) {
      const topLevel = consequent === undefined && scope.includes(child)
      const before = topLevel ? scope.slice(0, scope.indexOf(child)) : list.slice(0, list.indexOf(child))
      for (let i = before.length - 1; i >= 0; i--) {
        const statement = before[i]!
        // A guard on the same slot re-checks it: what came before does not matter.
        if (statement.type === 'IfStatement' && !statement.alternate && exits(statement.consequent) && checkedKeys(context, statement.test, 'truthy').has(key)) return found
        found = firstAwait(statement, true) ?? found
      }
      if (topLevel) return found
    }
    if (current.type === 'IfStatement' && child !== current.test) {
      if (checkedKeys(context, current.test, child === current.consequent ? 'falsy' : 'truthy').has(key)) return found
      found = firstAwait(current.test) ?? found
    }
    if ((current.type === 'WhileStatement' || current.type === 'DoWhileStatement' || current.type === 'ForStatement') && current.test && child !== current.test) found = firstAwait(current.test) ?? found
    if (current.type === 'ForOfStatement' && current.await) found = current
    if (isFunctionBoundary(current)) return found
    child = current
  }
}

function isFunctionBoundary(node: TSESTree.Node): node is FunctionNode {
  return node.type === 'ArrowFunctionExpression' || node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression'
}

/** The first await in `node` outside nested functions; with `skipExiting`, not inside a block that ends by returning or throwing. */
function firstAwait(node: TSESTree.Node, skipExiting = false): TSESTree.Node | undefined {
  let found: TSESTree.Node | undefined
  walk(node, (n) => {
    if (found) return false
    if (skipExiting && n !== node && (n.type === 'BlockStatement' || n.type === 'SwitchCase') && exits(n)) return false
    if (n.type === 'AwaitExpression' || (n.type === 'ForOfStatement' && n.await) || (n.type === 'VariableDeclaration' && n.kind === 'await using')) found = n
  })
  return found
}

function containsAwait(node: TSESTree.Node): boolean {
  return firstAwait(node) !== undefined
}

/** True if the statement (or block) always leaves by `return` or `throw`. */
function exits(statement: TSESTree.Node): boolean {
  if (statement.type === 'ReturnStatement' || statement.type === 'ThrowStatement') return true
  if (statement.type === 'BlockStatement') {
    const last = statement.body.at(-1)
    return last !== undefined && exits(last)
  }
  if (statement.type === 'SwitchCase') {
    const last = statement.consequent.at(-1)
    return last !== undefined && exits(last)
  }
  return false
}

/**
 * The locations a test checks with the given polarity: `falsy` means the branch runs
 * when the location is empty (`!x`, `x == null`, `x === undefined`, `!x || …`);
 * `truthy` when it is set (`x`, `x != null`, `x || y`).
 */
function checkedKeys(context: Context, test: TSESTree.Node, polarity: 'falsy' | 'truthy'): Map<string, TSESTree.Node> {
  const keys = new Map<string, TSESTree.Node>()
  const add = (operand: TSESTree.Node): void => {
    const key = locationKey(context, operand)
    if (key !== undefined) keys.set(key, operand)
  }
  const visit = (node: TSESTree.Node, wanted: 'falsy' | 'truthy'): void => {
    const target = unwrap(node)
    if (target.type === 'LogicalExpression') {
      if (target.operator === '||' || (wanted === 'falsy' && target.operator === '&&')) {
        visit(target.left, wanted)
        visit(target.right, wanted)
      }
      return
    }
    if (target.type === 'UnaryExpression' && target.operator === '!') {
      visit(target.argument, wanted === 'falsy' ? 'truthy' : 'falsy')
      return
    }
    if (target.type === 'BinaryExpression') {
      // `x === undefined` / `x == null` / `x === false`: runs when empty; `x === true`: when set; `!==` the reverse.
      const literal = (n: TSESTree.Node): 'empty' | 'true' | undefined => {
        if (n.type === 'Literal' && n.value === true) return 'true'
        return isFalsyLiteral(n) && !(n.type === 'Literal' && (n.value === 0 || n.value === '')) ? 'empty' : undefined
      }
      const rightKind = literal(target.right)
      const leftKind = rightKind === undefined ? literal(target.left) : undefined
      const operand = rightKind !== undefined ? target.left : leftKind !== undefined ? target.right : undefined
      const kind = rightKind ?? leftKind
      if (!operand || !kind) return
      const equal = target.operator === '===' || target.operator === '=='
      if (!equal && target.operator !== '!==' && target.operator !== '!=') return
      const runsWhenEmpty = equal === (kind === 'empty')
      if ((wanted === 'falsy') === runsWhenEmpty) add(operand)
      return
    }
    if (wanted === 'truthy' && (target.type === 'MemberExpression' || target.type === 'Identifier')) add(target)
  }
  visit(test, polarity)
  return keys
}

/**
 * A callback handed to a helper whose name says it serializes (`withVaultLock(fn)`,
 * `exclusive(fn)`, `synchronized(fn)`): the project's own lock wrapper.
 */
function passedToLockHelper(fn: FunctionNode): boolean {
  const parent = fn.parent
  if (parent?.type !== 'CallExpression' || !parent.arguments.includes(fn as TSESTree.CallExpressionArgument)) return false
  const callee = unwrap(parent.callee)
  const name = callee.type === 'Identifier' ? callee.name : callee.type === 'MemberExpression' ? propertyName(callee) : undefined
  return name !== undefined && /lock|mutex|exclusive|serial|synchron/i.test(name)
}

/** An inline callback (`trace(async () => …)`): called by its receiver, typically once per call of the function around it. */
function isInlineCallback(fn: FunctionNode): boolean {
  return fn.parent?.type === 'CallExpression' && fn.parent.arguments.includes(fn as TSESTree.CallExpressionArgument)
}

/**
 * The location is shared between calls: `this.…`, a module variable, or a variable of
 * an enclosing function (a factory's state) unless this function is an inline callback
 * (then that variable belongs to the one call around it).
 */
function isShared(context: Context, operand: TSESTree.Node, fn: FunctionNode): boolean {
  let root = unwrap(operand)
  while (root.type === 'MemberExpression') root = unwrap(root.object)
  if (root.type === 'ThisExpression') return true
  if (root.type !== 'Identifier') return false
  for (let scope: ReturnType<Context['sourceCode']['getScope']> | null = context.sourceCode.getScope(root); scope; scope = scope.upper) {
    const variable = scope.set.get(root.name)
    if (!variable) continue
    const definition = variable.defs[0]
    if (!definition) return false
    if (definition.type === 'Parameter' || definition.type === 'ImportBinding') return false
    if (contains(fn, definition.node)) return false
    return scope.type === 'module' || scope.type === 'global' || !isInlineCallback(fn)
  }
  return false
}
