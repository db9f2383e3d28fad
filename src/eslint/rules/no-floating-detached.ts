/**
 * no-floating-detached: a promise-returning call whose promise is dropped inside a
 * function (`void save()`, or a bare `save()`). Nothing bounds how many such calls run
 * at once, nothing stops one that hangs, and its failure is either an unhandled
 * rejection or nowhere at all: the audit's detached approval-record writes.
 * `spawnDetached` / a `DetachedPool` bound it (concurrency, queue, a timeout that
 * aborts its signal) and report every failure; the suggestion rewrites the call to it.
 *
 * Promise-returning: by type (a thenable); without types, a call of an async function
 * or method declared in the same file, `Promise.all/race/allSettled/any`, `.then()` /
 * `.finally()` chains and async IIFEs. Not reported: calls at module top level (a
 * program's `void main()`), chains that handle rejection (`.catch(h)`, `.then(f, h)`
 * anywhere in the chain), continuations of a promise that already exists
 * (`void ready.then(() => …)`, `void Promise.all(pending).then(…)`: no new work starts), calls into asyncsafe (whose promises
 * never reject unobserved), calls of an async function whose every `await` is inside a
 * `try` whose `catch` does not rethrow (it observes its own failures; with types,
 * also a function of another file; an awaited stored promise counts when everything
 * stored there never rejects), calls of a lodash debounce/throttle wrapper of such a
 * function, calls of a local helper that returns the existing promise it was given,
 * and chains inside a `new Promise` executor whose handlers settle that promise.
 */
import type * as TS from 'typescript'
import type { TSESLint, TSESTree } from '@typescript-eslint/utils'
import { type Context, type FunctionNode, enclosingFunction, isFunction, propertyName, shortText, terminalName, unwrap, walk } from '../util/ast.js'
import { importedAt, isAsyncsafeModule } from '../util/imports.js'
import { createRule } from '../util/rule.js'
import { type Typed, isThenable, isUnknownType, symbolOf, symbolPackage, typed, typeOf } from '../util/types.js'

type MessageIds = 'floating' | 'voided' | 'useSpawnDetached' | 'addAwait'

export const noFloatingDetached = createRule<MessageIds, []>({
  name: 'no-floating-detached',
  meta: {
    type: 'problem',
    hasSuggestions: true,
    docs: {
      description: 'Disallow dropping a promise-returning call where spawnDetached or a DetachedPool would bound and observe it',
      recommended: true,
      requiresTypeChecking: false,
    },
    schema: [],
    messages: {
      floating:
        'The promise of {{call}} is dropped: the work is unbounded and its failure is an unhandled rejection. Await it, or run it with spawnDetached / a DetachedPool (bounded, timed out, every failure reported).',
      voided:
        '`void` drops the promise of {{call}}: the work is unbounded, nothing stops it if it hangs, and its failure is an unhandled rejection. Run it with spawnDetached / a DetachedPool (bounded, timed out, every failure reported).',
      useSpawnDetached: 'Run it with spawnDetached(() => …) from asyncsafe/tasks.',
      addAwait: 'Await it.',
    },
  },
  defaultOptions: [],
  create(context) {
    const check = (expression: TSESTree.Expression, voided: boolean, statement: TSESTree.ExpressionStatement | undefined): void => {
      const call = unwrap(expression)
      if (call.type !== 'CallExpression' && call.type !== 'NewExpression') return
      const fn = enclosingFunction(call)
      if (!fn) return
      if (!returnsPromise(context, call)) return
      const { root, links } = chainOf(call)
      if (links.some(handlesRejection)) return
      // A continuation of a promise that already exists (`void ready.then(() => …)`) starts no new work.
      if (links.length > 0 && root.type !== 'CallExpression' && root.type !== 'NewExpression') return
      if (links.length > 0 && combinesExisting(root)) return
      const started = root.type === 'CallExpression' || root.type === 'NewExpression' ? root : call
      if (isAsyncsafeCall(context, started) || observesOwnFailures(context, started) || bridgesExecutor(fn, links) || passesThrough(context, started)) return
      const replaced: TSESTree.Node = voided ? (expression.parent) : expression
      const suggest: TSESLint.SuggestionReportDescriptor<MessageIds>[] = []
      if (!containsAwait(call)) {
        const importFix = spawnDetachedImport(context)
        if (importFix !== null) {
          suggest.push({
            messageId: 'useSpawnDetached',
            fix: (fixer) => [fixer.replaceText(replaced, `spawnDetached(() => ${context.sourceCode.getText(call)})`), ...(importFix ? [importFix(fixer)] : [])],
          })
        }
      }
      if (!voided && fn.async && statement) suggest.push({ messageId: 'addAwait', fix: (fixer) => fixer.insertTextBefore(expression, 'await ') })
      context.report({ node: replaced, messageId: voided ? 'voided' : 'floating', data: { call: shortText(context, call) }, suggest })
    }
    return {
      ExpressionStatement(node) {
        if (node.directive !== undefined) return
        const expression = node.expression
        if (expression.type === 'UnaryExpression' && expression.operator === 'void') check(expression.argument, true, node)
        else check(expression, false, node)
      },
      'UnaryExpression[operator="void"]'(node: TSESTree.UnaryExpression) {
        if (node.parent.type === 'ExpressionStatement') return // handled above
        // `() => void save()`: the arrow's result is dropped by design.
        if (node.parent.type === 'ArrowFunctionExpression' && node.parent.body === node) check(node.argument, true, undefined)
      },
    }
  },
})

function returnsPromise(context: Context, call: TSESTree.CallExpression | TSESTree.NewExpression): boolean {
  const info = typed(context)
  if (info) {
    const type = typeOf(info, call)
    if (!(type.flags & (info.ts.TypeFlags.Any | info.ts.TypeFlags.Unknown))) return isThenable(info, type, info.tsNode(call))
  }
  if (call.type === 'NewExpression') return call.callee.type === 'Identifier' && call.callee.name === 'Promise'
  const callee = unwrap(call.callee)
  if (isFunction(callee)) return callee.async
  if (callee.type === 'MemberExpression') {
    const name = propertyName(callee)
    const object = unwrap(callee.object)
    if (object.type === 'Identifier' && object.name === 'Promise' && name !== undefined && ['all', 'race', 'allSettled', 'any'].includes(name)) return true
    if (name === 'then' || name === 'finally') return true
    if (object.type === 'ThisExpression' && name !== undefined) return localAsyncMethod(callee, name) !== undefined
    return false
  }
  if (callee.type === 'Identifier') return localFunction(context, callee)?.async === true
  return false
}

const CHAIN_METHODS = new Set(['then', 'catch', 'finally'])

/**
 * A promise chain `start().then(f).catch(h)`: its links (the then/catch/finally calls,
 * outermost first) and its root (`start()`, or the expression the chain hangs on).
 * `then.call(p, f, h)` counts as a link on `p`.
 */
function chainOf(call: TSESTree.CallExpression | TSESTree.NewExpression): { root: TSESTree.Node; links: TSESTree.CallExpression[] } {
  const links: TSESTree.CallExpression[] = []
  let current: TSESTree.Node = call
  for (;;) {
    if (current.type !== 'CallExpression') break
    const callee = unwrap(current.callee)
    if (callee.type !== 'MemberExpression') break
    const name = propertyName(callee)
    if (name !== undefined && CHAIN_METHODS.has(name)) {
      links.push(current)
      current = unwrap(callee.object)
    } else if (name === 'call' && /(?:then|catch|finally)$/i.test(terminalName(callee.object) ?? '') && current.arguments[0]) {
      links.push(current)
      current = unwrap(current.arguments[0])
    } else break
  }
  return { root: current, links }
}

/** `Promise.all(promises)` over promises that already exist (no call in its arguments): it starts no work. */
function combinesExisting(root: TSESTree.Node): boolean {
  if (root.type !== 'CallExpression') return false
  const callee = unwrap(root.callee)
  if (callee.type !== 'MemberExpression' || terminalName(callee.object) !== 'Promise') return false
  let calls = false
  for (const argument of root.arguments) {
    walk(argument, (node) => {
      if (node.type === 'CallExpression' || node.type === 'NewExpression') calls = true
      return !calls
    })
  }
  return !calls
}

/** `.catch(h)`, `.then(f, h)` (or their `.call(p, …)` forms): the rejection is handled. */
function handlesRejection(link: TSESTree.CallExpression): boolean {
  const callee = unwrap(link.callee)
  if (callee.type !== 'MemberExpression') return false
  let name = propertyName(callee)
  let count = link.arguments.length
  if (name === 'call') {
    name = /then$/i.test(terminalName(callee.object) ?? '') ? 'then' : /catch$/i.test(terminalName(callee.object) ?? '') ? 'catch' : undefined
    count--
  }
  const handler = name === 'catch' ? link.arguments.at(-1) : name === 'then' && count > 1 ? link.arguments.at(-1) : undefined
  return handler !== undefined && !(handler.type === 'Identifier' && handler.name === 'undefined')
}

/**
 * Inside a `new Promise((resolve, reject) => …)` executor, a chain whose handlers settle
 * that promise is the outer promise's own work: whoever awaits it observes it.
 */
function bridgesExecutor(fn: FunctionNode, links: readonly TSESTree.CallExpression[]): boolean {
  const parent = fn.parent
  if (parent?.type !== 'NewExpression' || parent.callee.type !== 'Identifier' || parent.callee.name !== 'Promise' || parent.arguments[0] !== fn) return false
  const settlers = new Set(fn.params.flatMap((p) => (p.type === 'Identifier' ? [p.name] : [])))
  let settles = false
  for (const link of links) {
    for (const argument of link.arguments) {
      walk(
        argument,
        (node) => {
          if (node.type === 'Identifier' && settlers.has(node.name)) settles = true
          return !settles
        },
        true,
      )
    }
  }
  return settles
}

/** A call of something asyncsafe declares (its promises never reject unobserved). */
function isAsyncsafeCall(context: Context, call: TSESTree.CallExpression | TSESTree.NewExpression): boolean {
  const callee = unwrap(call.callee)
  const info = typed(context)
  if (info) {
    const symbol = symbolOf(info, callee)
    if (symbol?.declarations?.length) return symbolPackage(symbol) === 'asyncsafe'
  }
  const root = callee.type === 'MemberExpression' ? unwrap(callee.object) : callee
  if (root.type !== 'Identifier') return false
  const binding = importedAt(context, root)
  return binding !== undefined && isAsyncsafeModule(binding.source)
}

/**
 * A call of an async function that observes its own failures: every `await` of its
 * body is inside a `try` whose `catch` does not rethrow, or awaits (or returns) a call
 * of a function that observes its own failures (followed three levels deep), and it
 * returns no other call's promise outside a `try`. With types the functions may be in
 * other files.
 */
function observesOwnFailures(context: Context, call: TSESTree.CallExpression | TSESTree.NewExpression): boolean {
  const info = typed(context)
  if (info) {
    const tsCall = info.tsNode(call) as TS.CallLikeExpression
    const declaration = info.checker.getResolvedSignature(tsCall)?.getDeclaration()
    if (declaration && tsCatchesEverything(info, declaration)) return true
  }
  const callee = unwrap(call.callee)
  let fn: FunctionNode | undefined
  if (isFunction(callee)) fn = callee
  else if (callee.type === 'Identifier') fn = localFunction(context, callee) ?? debouncedFunction(context, callee)
  else if (callee.type === 'MemberExpression' && unwrap(callee.object).type === 'ThisExpression') {
    const name = propertyName(callee)
    if (name !== undefined) fn = localAsyncMethod(callee, name)
  }
  return fn?.body?.type === 'BlockStatement' && catchesEverything(context, fn.body)
}

/**
 * A call of a synchronous function declared in this file that returns one of its
 * parameters, never reassigned (`const setPromise = (entity, p) => { entity.slot = p;
 * return p }`), where each such argument is an existing value (a name, `this`, a member),
 * not a call: the dropped promise is the caller's own and no new work starts.
 */
function passesThrough(context: Context, call: TSESTree.CallExpression | TSESTree.NewExpression): boolean {
  if (call.type !== 'CallExpression') return false
  const callee = unwrap(call.callee)
  const fn = callee.type === 'Identifier' ? localFunction(context, callee) : undefined
  // `declare function f()` has no body (TSDeclareFunction): nothing is known of what it returns.
  if (!fn?.body || fn.async || fn.generator) return false
  const returned: (TSESTree.Node | null)[] = []
  if (fn.body.type === 'BlockStatement') {
    walk(fn.body, (n) => {
      if (n.type === 'ReturnStatement') returned.push(n.argument)
    })
  } else returned.push(fn.body)
  if (returned.length === 0) return false
  const variables = context.sourceCode.scopeManager?.getDeclaredVariables(fn) ?? []
  return returned.every((value) => {
    if (value === null) return true
    const name = unwrap(value)
    if (name.type !== 'Identifier') return false
    const index = fn.params.findIndex((p) => p.type === 'Identifier' && p.name === name.name)
    const variable = variables.find((v) => v.name === name.name)
    if (index < 0 || !variable || variable.references.some((r) => r.isWrite())) return false
    const argument = call.arguments[index]
    if (!argument || argument.type === 'SpreadElement') return false
    const given = unwrap(argument)
    return given.type === 'Identifier' || given.type === 'ThisExpression' || (given.type === 'MemberExpression' && !containsCall(given))
  })
}

function containsCall(node: TSESTree.Node): boolean {
  let found = false
  walk(node, (n) => {
    if (n.type === 'CallExpression' || n.type === 'NewExpression' || n.type === 'AwaitExpression') found = true
    return !found
  })
  return found
}

/** How deep "it awaits a function that observes its own failures" is followed. */
const DELEGATION_DEPTH = 3

function catchesEverything(context: Context, body: TSESTree.BlockStatement, depth = 0, seen = new Set<TSESTree.Node>()): boolean {
  seen.add(body)
  let guarded = false
  let escapes = false
  // An uncaught `await g()` / `return g()` is fine when `g` observes its own failures, and
  // `await stored` when every promise ever stored there does (see neverRejects).
  const delegates = (operand: TSESTree.Node): boolean => depth < DELEGATION_DEPTH && neverRejects(context, operand, depth, seen)
  const visit = (node: TSESTree.Node, caught: boolean): void => {
    walk(node, (n) => {
      if (escapes) return false
      if (n.type === 'TryStatement') {
        const catches = n.handler !== null && !throwsIn(n.handler)
        if (catches) guarded = true
        visit(n.block, caught || catches)
        if (n.handler) visit(n.handler, caught)
        if (n.finalizer) visit(n.finalizer, caught)
        return false
      }
      const operand = n.type === 'AwaitExpression' ? n.argument : n.type === 'ReturnStatement' ? n.argument : undefined
      // A value whose type is not a promise (`return fallback()`) cannot reject: it neither guards nor escapes.
      if (caught || !operand || notAPromise(context, operand)) {
        // nothing to decide here
      } else if (n.type === 'AwaitExpression' || operand.type === 'CallExpression' || operand.type === 'NewExpression') {
        if (delegates(unwrap(operand))) guarded = true
        else escapes = true
      } else if (storedSlot(unwrap(operand)) && delegates(unwrap(operand))) {
        // `return this.#inFlight` of a promise that never rejects (a returned slot that may reject
        // is left as before: the caller receives it, this function did not start it).
        guarded = true
      }
      if (!caught && n.type === 'ForOfStatement' && n.await) escapes = true
    })
  }
  visit(body, false)
  return guarded && !escapes
}

/**
 * True when the promise an expression evaluates to cannot reject (followed
 * DELEGATION_DEPTH levels, same file only):
 * - a call of a function that observes its own failures (catchesEverything);
 * - `Promise.all/allSettled([…])` or `Promise.all(xs.map((x) => …))` over such promises;
 * - `p.then(f)`, `p.finally(f)` of such a promise with a handler that cannot throw
 *   (an arrow returning a literal or a name), `p.catch(h)` with such a handler;
 * - a stored promise: a local variable, or a private field of the enclosing class
 *   (`#x` or `private x`), whose every assignment in the file is such an expression or
 *   not a promise (`null`, `undefined`).
 * `null` / `undefined` themselves do not reject either.
 */
function neverRejects(context: Context, node: TSESTree.Node, depth: number, seen: Set<TSESTree.Node>): boolean {
  const expression = unwrap(node)
  if (depth > DELEGATION_DEPTH || seen.has(expression)) return false
  if (isNothing(expression)) return true
  if (expression.type === 'CallExpression' || expression.type === 'NewExpression') {
    const callee = unwrap(expression.callee)
    if (callee.type === 'MemberExpression' && expression.type === 'CallExpression') {
      const name = propertyName(callee)
      const object = unwrap(callee.object)
      if (object.type === 'Identifier' && object.name === 'Promise' && (name === 'all' || name === 'allSettled')) {
        const argument = expression.arguments[0]
        if (argument?.type === 'ArrayExpression') return argument.elements.every((e) => e !== null && e.type !== 'SpreadElement' && neverRejects(context, e, depth, seen))
        if (argument?.type === 'CallExpression' && argument.callee.type === 'MemberExpression' && propertyName(argument.callee) === 'map') {
          const mapper = argument.arguments[0]
          const result = isFunction(mapper) && !mapper.async ? returnedExpression(mapper) : undefined
          return result !== undefined && neverRejects(context, result, depth, seen)
        }
        return false
      }
      if ((name === 'then' || name === 'finally') && expression.arguments.length === 1) return cannotThrow(expression.arguments[0]!) && neverRejects(context, object, depth, seen)
      if (name === 'catch' && expression.arguments.length === 1) return cannotThrow(expression.arguments[0]!)
    }
    const target = isFunction(callee) ? callee : callee.type === 'Identifier' ? localFunction(context, callee) : callee.type === 'MemberExpression' && unwrap(callee.object).type === 'ThisExpression' && propertyName(callee) !== undefined ? localAsyncMethod(callee, propertyName(callee)!) : undefined
    if (target?.body?.type !== 'BlockStatement' || seen.has(target.body)) return false
    return catchesEverything(context, target.body, depth + 1, seen)
  }
  if (!storedSlot(expression)) return false
  const writes = slotWrites(context, expression)
  if (writes === undefined) return false
  seen.add(expression)
  try {
    return writes.every((value) => neverRejects(context, value, depth + 1, seen))
  } finally {
    seen.delete(expression)
  }
}

/** `null`, `undefined`, `void 0`: not a promise. */
function isNothing(node: TSESTree.Node): boolean {
  return (node.type === 'Literal' && node.value === null) || (node.type === 'Identifier' && node.name === 'undefined') || (node.type === 'UnaryExpression' && node.operator === 'void' && node.argument.type === 'Literal')
}

/** A name or `this.x`: a slot a promise can be stored in. */
function storedSlot(node: TSESTree.Node): boolean {
  return node.type === 'Identifier' || (node.type === 'MemberExpression' && unwrap(node.object).type === 'ThisExpression' && propertyName(node) !== undefined)
}

/** The expression a (non-async) function returns, when it has exactly one way to return. */
function returnedExpression(fn: FunctionNode): TSESTree.Node | undefined {
  if (fn.body.type !== 'BlockStatement') return fn.body
  const [only] = fn.body.body
  return fn.body.body.length === 1 && only?.type === 'ReturnStatement' && only.argument ? only.argument : undefined
}

/**
 * A handler that can neither throw nor return a promise that rejects: `() => undefined`,
 * `() => {}`, `() => 0`, `(x) => x` (a settled value is never a thenable). Not
 * `() => other`: a returned promise is adopted, and may reject.
 */
function cannotThrow(handler: TSESTree.Node): boolean {
  if (!isFunction(handler) || handler.async) return false
  if (handler.body.type === 'BlockStatement') return handler.body.body.length === 0
  const body = unwrap(handler.body)
  const first = handler.params[0]
  return body.type === 'Literal' || (body.type === 'Identifier' && (body.name === 'undefined' || (first?.type === 'Identifier' && first.name === body.name)))
}

/**
 * Every value assigned to a slot in this file (declaration initialiser included), or
 * undefined when a write cannot be seen: a parameter, a non-`const`/`let`/`var` binding,
 * a public field (other code may assign it), a write by destructuring or `++`.
 */
function slotWrites(context: Context, slot: TSESTree.Node): TSESTree.Node[] | undefined {
  if (slot.type === 'Identifier') {
    let variable
    let scope: ReturnType<Context['sourceCode']['getScope']> | null = context.sourceCode.getScope(slot)
    for (; scope && !variable; scope = variable ? scope : scope.upper) variable = scope.set.get(slot.name)
    const definition = variable?.defs[0]
    if (variable?.defs.length !== 1 || definition?.type !== 'Variable' || definition.node.id.type !== 'Identifier') return undefined
    // A global (other scripts may assign it) or an ambient `declare let` (assigned elsewhere).
    if (scope?.type === 'global' || definition.parent.declare) return undefined
    const values: TSESTree.Node[] = []
    for (const reference of variable.references) {
      if (!reference.isWrite()) continue
      const parent = reference.identifier.parent
      if (parent === definition.node) {
        if (definition.node.init) values.push(definition.node.init)
      } else if (parent?.type === 'AssignmentExpression' && parent.left === reference.identifier) values.push(parent.right)
      else return undefined
    }
    return values
  }
  if (slot.type !== 'MemberExpression') return undefined
  const name = propertyName(slot)
  let body: TSESTree.ClassBody | undefined
  for (let current: TSESTree.Node | undefined = slot.parent; current && !body; current = current.parent) if (current.type === 'ClassBody') body = current
  if (!body || name === undefined) return undefined
  const field = body.body.find((e): e is TSESTree.PropertyDefinition => e.type === 'PropertyDefinition' && !e.computed && !e.static && (e.key.type === 'PrivateIdentifier' ? `#${e.key.name}` : e.key.type === 'Identifier' ? e.key.name : undefined) === name)
  if (!field || (field.key.type !== 'PrivateIdentifier' && field.accessibility !== 'private')) return undefined
  const values: TSESTree.Node[] = field.value ? [field.value] : []
  let unknown = false
  walk(
    body,
    (n) => {
      // Any object's `.name` (`other.#inFlight = …` writes the field too; an unrelated
      // object's property of the same name only makes the answer more cautious).
      if (n.type !== 'MemberExpression' || propertyName(n) !== name) return !unknown
      const parent = n.parent
      if (parent.type === 'AssignmentExpression' && parent.left === n) values.push(parent.right)
      else if ((parent.type === 'UpdateExpression' || (parent.type === 'UnaryExpression' && parent.operator === 'delete')) || parent.type === 'ArrayPattern' || parent.type === 'Property' || parent.type === 'AssignmentPattern' || parent.type === 'RestElement') unknown = true
      return !unknown
    },
    true,
  )
  return unknown ? undefined : values
}

/**
 * `const flush = debounce(run, ms)` (or `throttle`, `_.debounce`) from lodash: calling the
 * wrapper returns `run`'s last result, so its promises are `run`'s. The function it wraps,
 * when declared in this file.
 */
function debouncedFunction(context: Context, identifier: TSESTree.Identifier): FunctionNode | undefined {
  for (let scope: ReturnType<Context['sourceCode']['getScope']> | null = context.sourceCode.getScope(identifier); scope; scope = scope.upper) {
    const variable = scope.set.get(identifier.name)
    if (!variable) continue
    const definition = variable.defs[0]
    if (definition?.type !== 'Variable' || definition.node.type !== 'VariableDeclarator' || definition.parent.kind !== 'const') return undefined
    const init = definition.node.init ? unwrap(definition.node.init) : undefined
    if (init?.type !== 'CallExpression') return undefined
    const callee = unwrap(init.callee)
    const wrapper = callee.type === 'Identifier' ? callee : callee.type === 'MemberExpression' && unwrap(callee.object).type === 'Identifier' ? (unwrap(callee.object) as TSESTree.Identifier) : undefined
    const name = callee.type === 'Identifier' ? importedAt(context, callee)?.imported : callee.type === 'MemberExpression' ? propertyName(callee) : undefined
    const source = wrapper ? importedAt(context, wrapper)?.source : undefined
    if (source === undefined || !/^lodash(?:-es)?(?:[./](?:debounce|throttle))?$/.test(source)) return undefined
    const kind = name === 'default' ? /(debounce|throttle)$/.exec(source)?.[1] : name
    if (kind !== 'debounce' && kind !== 'throttle') return undefined
    const wrapped = init.arguments[0] ? unwrap(init.arguments[0]) : undefined
    if (isFunction(wrapped)) return wrapped
    return wrapped?.type === 'Identifier' ? localFunction(context, wrapped) : undefined
  }
  return undefined
}

/** With types: the expression's type is known and is not a thenable. */
function notAPromise(context: Context, node: TSESTree.Node): boolean {
  const info = typed(context)
  return info !== undefined && tsNotAPromise(info, info.tsNode(node) as TS.Expression)
}

function tsNotAPromise(info: Typed, node: TS.Expression): boolean {
  const type = info.checker.getTypeAtLocation(node)
  return !isUnknownType(info, type) && !isThenable(info, type, node)
}

function throwsIn(node: TSESTree.Node): boolean {
  let found = false
  walk(node, (n) => {
    if (n.type === 'ThrowStatement') found = true
    return !found
  })
  return found
}

function tsCatchesEverything(info: Typed, fn: TS.SignatureDeclaration, depth = 0, seen = new Set<TS.Node>()): boolean {
  const { ts } = info
  const body = (fn as { body?: TS.Node }).body
  if (!body || !ts.isBlock(body) || seen.has(body)) return false
  seen.add(body)
  let guarded = false
  let escapes = false
  const throwsInTs = (node: TS.Node): boolean => {
    let found = false
    const look = (n: TS.Node): void => {
      if (found || (n !== node && ts.isFunctionLike(n))) return
      if (ts.isThrowStatement(n)) found = true
      else ts.forEachChild(n, look)
    }
    look(node)
    return found
  }
  // An uncaught `await g()` / `return g()` is fine when `g` observes its own failures.
  const delegates = (operand: TS.Expression): boolean => {
    let target = operand
    while (ts.isParenthesizedExpression(target) || ts.isAsExpression(target) || ts.isNonNullExpression(target)) target = target.expression
    if (depth >= DELEGATION_DEPTH || !ts.isCallExpression(target)) return false
    const declaration = info.checker.getResolvedSignature(target)?.getDeclaration()
    return declaration !== undefined && tsCatchesEverything(info, declaration, depth + 1, seen)
  }
  const visit = (node: TS.Node, caught: boolean): void => {
    if (escapes || (node !== body && ts.isFunctionLike(node))) return
    if (ts.isTryStatement(node)) {
      const catches = node.catchClause !== undefined && !throwsInTs(node.catchClause)
      if (catches) guarded = true
      visit(node.tryBlock, caught || catches)
      if (node.catchClause) visit(node.catchClause, caught)
      if (node.finallyBlock) visit(node.finallyBlock, caught)
      return
    }
    if (!caught) {
      const operand = ts.isAwaitExpression(node) ? node.expression : ts.isReturnStatement(node) && node.expression && (ts.isCallExpression(node.expression) || ts.isNewExpression(node.expression)) ? node.expression : undefined
      if (operand && !tsNotAPromise(info, operand)) {
        if (delegates(operand)) guarded = true
        else escapes = true
      }
      if (ts.isForOfStatement(node) && node.awaitModifier !== undefined) escapes = true
    }
    ts.forEachChild(node, (child) => {
      visit(child, caught)
    })
  }
  visit(body, false)
  return guarded && !escapes
}

/** The function an identifier names, when it is declared in this file. */
function localFunction(context: Context, identifier: TSESTree.Identifier): FunctionNode | undefined {
  for (let scope: ReturnType<Context['sourceCode']['getScope']> | null = context.sourceCode.getScope(identifier); scope; scope = scope.upper) {
    const variable = scope.set.get(identifier.name)
    if (!variable) continue
    const definition = variable.defs[0]
    if (!definition) return undefined
    if (definition.type === 'FunctionName') return definition.node as FunctionNode
    if (definition.type === 'Variable' && definition.node.type === 'VariableDeclarator' && definition.parent.kind === 'const' && isFunction(definition.node.init)) return definition.node.init
    return undefined
  }
  return undefined
}

/** `this.name` inside a class whose method `name` is async. */
function localAsyncMethod(member: TSESTree.MemberExpression, name: string): FunctionNode | undefined {
  for (let current: TSESTree.Node | undefined = member.parent; current; current = current.parent) {
    if (current.type !== 'ClassBody') continue
    for (const element of current.body) {
      if ((element.type === 'MethodDefinition' || element.type === 'PropertyDefinition') && !element.computed && element.key.type === 'Identifier' && element.key.name === name) {
        const value = element.value
        return isFunction(value) && value.async ? value : undefined
      }
      if ((element.type === 'MethodDefinition' || element.type === 'PropertyDefinition') && element.key.type === 'PrivateIdentifier' && `#${element.key.name}` === name) {
        const value = element.value
        return isFunction(value) && value.async ? value : undefined
      }
    }
    return undefined
  }
  return undefined
}

function containsAwait(node: TSESTree.Node): boolean {
  let found = false
  walk(node, (n) => {
    if (n.type === 'AwaitExpression' || n.type === 'YieldExpression') found = true
    return !found
  })
  return found
}

/**
 * The fix that imports spawnDetached: undefined when it is already in scope, a fixer
 * adding it to an existing asyncsafe import or inserting one, or null when the file
 * is not an ES module (no suggestion then).
 */
function spawnDetachedImport(context: Context): ((fixer: TSESLint.RuleFixer) => TSESLint.RuleFix) | undefined | null {
  const program = context.sourceCode.ast
  if (program.sourceType !== 'module') return null
  const existing = context.sourceCode.scopeManager?.globalScope?.childScopes.find((s) => s.type === 'module')?.set.get('spawnDetached')
  if (existing) return undefined
  const imports = program.body.filter((s): s is TSESTree.ImportDeclaration => s.type === 'ImportDeclaration')
  const target = imports.find((s) => (s.source.value === 'asyncsafe/tasks' || s.source.value === 'asyncsafe') && s.importKind !== 'type' && s.specifiers.some((x) => x.type === 'ImportSpecifier'))
  if (target) {
    const last = target.specifiers.filter((x) => x.type === 'ImportSpecifier').at(-1)!
    return (fixer) => fixer.insertTextAfter(last, ', spawnDetached')
  }
  const after = imports.at(-1)
  const text = "import { spawnDetached } from 'asyncsafe/tasks'\n"
  return after ? (fixer) => fixer.insertTextAfter(after, `\n${text.trimEnd()}`) : (fixer) => fixer.insertTextBeforeRange([0, 0], text)
}
