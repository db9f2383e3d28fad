/**
 * "Foreign code" for no-await-while-holding: a call whose implementation the code
 * holding the lock does not know, because someone else supplies it at run time:
 * observers, listeners, hooks and other callbacks. Awaiting such a call under a lock
 * makes every waiter of the lock wait for whatever that code does (the audit's
 * critical finding: eviction observers awaited under the cache's write lock).
 *
 * With type information, a callee is foreign when it is
 * - a function-typed parameter (not one the lock's own function was handed to run,
 *   like `withLock(fn)` or `runExclusive(callback)`, unless its name says it notifies:
 *   `onX`, `…Listener`, `…Handler`, `…Hook`, `…Observer`, `…Subscriber`),
 * - a function-typed property with no implementation of its own (an interface or type
 *   field, or a class field without a function initializer) declared in the project,
 *   or, in a library's declarations, one whose name says callback,
 * - a method of an interface or abstract class of the project whose name says
 *   observer (`…Observer`, `…Listener`, `…Handler`, `…Hook(s)`, `…Subscriber`,
 *   `…Callback(s)`, `…Plugin`, `…Middleware`, `…Watcher`, `…Delegate`, `…Notifier`)
 *   or whose own name says callback,
 * - a loop variable over functions, or a function read out of an object or map into a local,
 * - a promise-returning `emit…` method (an async event emitter awaits its listeners).
 * A class method with a body, a function declaration, an import, or any library
 * function or method (fs, a database client, fetch) is not foreign: awaiting the
 * project's own I/O under a lock is what async locks are for.
 *
 * Without type information (or where the callee's type is unknown) names decide: a
 * parameter or loop variable called as a function, a method whose name says callback,
 * or a method of a receiver whose name says observer (`observer.evicted()`).
 */
import type * as TS from 'typescript'
import type { TSESTree } from '@typescript-eslint/utils'
import { type Context, type FunctionNode, isFunction, propertyName, shortText, terminalName, unwrap } from './ast.js'
import { type Typed, isLibraryDeclaration, isThenable, isUnknownType, symbolOf, typed, typeOf } from './types.js'

/** Callee names that say "a callback". */
export function isCallbackName(name: string): boolean {
  return /^on[A-Z_$]/.test(name) || /(?:callback|listener|handler|hook|observer|subscriber|notifier)s?$/i.test(name)
}

/**
 * Parameter names that say "notify someone": a function the lock's own function was
 * handed under such a name is foreign; under any other name (`fn`, `task`,
 * `callback`) it is what the caller asked to run under the lock.
 */
function isNotificationName(name: string): boolean {
  return /^on[A-Z_$]/.test(name) || /(?:listener|handler|hook|observer|subscriber|notifier)s?$/i.test(name)
}

/** Type or receiver names that say "an observer". */
const OBSERVER_CONTAINER = /(?:Observer|Listener|Handler|Hooks?|Subscriber|Callbacks?|Plugin|Middleware|Watcher|Delegate|Notifier)s?$/
const OBSERVER_RECEIVER = /(?:observer|listener|handler|hooks?|subscriber|callbacks?|plugin|middleware|watcher|delegate|notifier)s?$/i

/** What makes a call foreign: its label for messages. */
export interface ForeignCall {
  call: TSESTree.CallExpression
  label: string
}

/**
 * The first foreign call in `expression`, including inside the functions written
 * inline in it (`Promise.all(listeners.map((l) => l(event)))`). `owner` is the
 * function that took the lock (its own parameters are the wrapper exemption).
 */
export function findForeignCall(context: Context, expression: TSESTree.Node, owner: FunctionNode | undefined, skip: ReadonlySet<TSESTree.Node>): ForeignCall | undefined {
  let found: ForeignCall | undefined
  const stack: TSESTree.Node[] = [expression]
  while (stack.length > 0 && !found) {
    const node = stack.pop()!
    if (node.type === 'CallExpression' && !skip.has(node) && isForeignCall(context, node, owner)) {
      found = { call: node, label: shortText(context, node.callee, 50) }
      break
    }
    for (const key of Object.keys(node)) {
      if (key === 'parent' || key === 'loc' || key === 'range') continue
      const value = (node as unknown as Record<string, unknown>)[key]
      const children = Array.isArray(value) ? value : [value]
      for (let i = children.length - 1; i >= 0; i--) {
        const child = children[i] as TSESTree.Node | null | undefined
        if (child && typeof child === 'object' && typeof (child as { type?: unknown }).type === 'string' && Array.isArray((child as { range?: unknown }).range)) stack.push(child)
      }
    }
  }
  return found
}

/** True if the call runs foreign code (see the module comment). */
export function isForeignCall(context: Context, call: TSESTree.CallExpression, owner: FunctionNode | undefined): boolean {
  let callee = unwrap(call.callee)
  const info = typed(context)
  // fn.call(this, x) / fn.apply(this, args): the function is `fn` (not a method named `call`, like messenger.call).
  if (callee.type === 'MemberExpression' && (propertyName(callee) === 'call' || propertyName(callee) === 'apply')) {
    const object = unwrap(callee.object)
    const isFunctionValue = info ? typeOf(info, object).getCallSignatures().length > 0 : object.type === 'Identifier'
    if (isFunctionValue) callee = object
  }
  if (info) {
    const verdict = typedVerdict(info, context, call, callee, owner)
    if (verdict !== undefined) return verdict
  }
  return namedVerdict(context, callee, owner)
}

function typedVerdict(info: Typed, context: Context, call: TSESTree.CallExpression, callee: TSESTree.Node, owner: FunctionNode | undefined): boolean | undefined {
  const { ts } = info
  const symbol = symbolOf(info, callee, true)
  if (!symbol) return isUnknownType(info, typeOf(info, callee)) ? undefined : false
  if (symbol.flags & ts.SymbolFlags.Alias) return false // an import: a module's own code
  const declarations = symbol.declarations ?? []
  if (declarations.length === 0) return undefined
  const name = symbol.getName()
  if (name.startsWith("emit") && isThenable(info, typeOf(info, call), info.tsNode(call))) return true
  for (const declaration of declarations) {
    if (ts.isParameter(declaration)) return parameterIsForeign(info, callee, declaration, name, owner)
    if (ts.isBindingElement(declaration)) {
      let root: TS.Node = declaration
      while (ts.isBindingElement(root) || ts.isObjectBindingPattern(root) || ts.isArrayBindingPattern(root)) root = root.parent
      if (ts.isParameter(root)) return parameterIsForeign(info, callee, root, name, owner)
      continue
    }
    if (ts.isPropertySignature(declaration) || ts.isPropertyDeclaration(declaration)) {
      const initializer = ts.isPropertyDeclaration(declaration) ? declaration.initializer : undefined
      if (initializer && (ts.isArrowFunction(initializer) || ts.isFunctionExpression(initializer))) continue
      if (isLibraryDeclaration(declaration)) {
        if (isCallbackName(name)) return true
        continue
      }
      return true
    }
    if (ts.isMethodSignature(declaration) || (ts.isMethodDeclaration(declaration) && !declaration.body)) {
      if (isLibraryDeclaration(declaration)) continue
      if (isCallbackName(name)) return true
      const container = containerName(ts, declaration.parent)
      if (container !== undefined && OBSERVER_CONTAINER.test(container)) return true
      continue
    }
    if (ts.isVariableDeclaration(declaration)) {
      const list = declaration.parent
      if (ts.isVariableDeclarationList(list) && (ts.isForOfStatement(list.parent) || ts.isForInStatement(list.parent))) return true
      const init = declaration.initializer && skipOuter(ts, declaration.initializer)
      if (init && (ts.isPropertyAccessExpression(init) || ts.isElementAccessExpression(init) || (ts.isCallExpression(init) && ts.isPropertyAccessExpression(init.expression) && init.expression.name.text === 'get'))) return true
    }
  }
  return false
}

function skipOuter(ts: typeof TS, node: TS.Expression): TS.Expression {
  let current = node
  while (ts.isParenthesizedExpression(current) || ts.isAsExpression(current) || ts.isNonNullExpression(current)) current = current.expression
  return current
}

function containerName(ts: typeof TS, parent: TS.Node): string | undefined {
  if (ts.isInterfaceDeclaration(parent) || ts.isClassDeclaration(parent)) return parent.name?.text
  if (ts.isTypeLiteralNode(parent) && ts.isTypeAliasDeclaration(parent.parent)) return parent.parent.name.text
  return undefined
}

function parameterIsForeign(info: Typed, callee: TSESTree.Node, parameter: TS.ParameterDeclaration, name: string, owner: FunctionNode | undefined): boolean {
  const mapped = info.esNode(parameter.parent)
  // A method's parameters belong to its FunctionExpression (TypeScript maps them to the MethodDefinition).
  const fn = mapped && (mapped.type === 'MethodDefinition' || mapped.type === 'Property') ? mapped.value : mapped
  if (isFunction(fn) && isPromiseExecutor(fn)) return false
  if (fn !== undefined && fn === owner && !isNotificationName(name)) return false
  // A parameter of an inline function typed by a library signature (a promise's
  // `resolve`, an array method's element) is foreign only if its name says so.
  const type = typeOf(info, callee)
  const declaration = type.getCallSignatures()[0]?.getDeclaration() as TS.Declaration | undefined
  if (declaration && isLibraryDeclaration(declaration) && !isCallbackName(name)) {
    const alias = type.aliasSymbol?.getName()
    return alias !== undefined && OBSERVER_CONTAINER.test(alias)
  }
  return true
}

function isPromiseExecutor(fn: FunctionNode): boolean {
  const parent = fn.parent
  return parent?.type === 'NewExpression' && parent.callee.type === 'Identifier' && parent.callee.name === 'Promise' && parent.arguments[0] === fn
}

function namedVerdict(context: Context, callee: TSESTree.Node, owner: FunctionNode | undefined): boolean {
  if (callee.type === 'Identifier') {
    const variable = findVariable(context, callee)
    const definition = variable?.defs[0]
    if (!definition) return false
    if (definition.type === 'Parameter') {
      const fn = definition.node as TSESTree.Node
      if (isFunction(fn) && isPromiseExecutor(fn)) return false
      if (/^(?:resolve|reject|res|rej|next|done)$/.test(callee.name)) return false
      if (fn === owner && !isNotificationName(callee.name)) return false
      return true
    }
    if (definition.type === 'Variable') {
      const declaration = definition.parent
      return declaration.parent?.type === 'ForOfStatement' || declaration.parent?.type === 'ForInStatement'
    }
    return false
  }
  if (callee.type === 'MemberExpression') {
    const method = propertyName(callee)
    if (method !== undefined && isCallbackName(method)) return true
    const receiver = terminalName(callee.object)?.replace(/^[#_]+/, '')
    return receiver !== undefined && receiver !== 'this' && OBSERVER_RECEIVER.test(receiver)
  }
  return false
}

function findVariable(context: Context, identifier: TSESTree.Identifier): ReturnType<Context['sourceCode']['getScope']>['variables'][number] | undefined {
  for (let scope: ReturnType<Context['sourceCode']['getScope']> | null = context.sourceCode.getScope(identifier); scope; scope = scope.upper) {
    const variable = scope.set.get(identifier.name)
    if (variable) return variable
  }
  return undefined
}
