/**
 * What the rules consider a lock, and the region of code that holds it.
 *
 * With type information, a lock is a value whose type is asyncsafe's `Mutex`,
 * `RwLock` or `Semaphore`, async-mutex's (or asyncsafe/compat's) `Mutex`,
 * `Semaphore`, `MutexInterface` or `SemaphoreInterface`, or the Web Locks
 * `LockManager` (`navigator.locks`); a call whose awaited result is asyncsafe's
 * `LockGuard` or `Permit` is an acquisition whatever its receiver. Without type
 * information (or where the receiver's type is unknown), names decide: a receiver
 * whose name ends in `mutex`, `lock` or `semaphore` (`this.#mutex`, `writeLock`), a
 * `using` binding of `await x.lock()`/`read()`/`write()`/`acquire()`, and the
 * distinctive callback methods `runExclusive`, `runRead`, `runWrite`.
 */
import type { TSESTree } from '@typescript-eslint/utils'
import { type Context, type FunctionNode, contains, enclosingFunction, isDisposeSymbol, isFunction, propertyName, shortText, statementList, terminalName, unwrap, valueSite, walk } from './ast.js'
import { type Typed, isNamedType, isUnknownType, typed, typeOf } from './types.js'

/** How a lock is held: a guard object, an async-mutex releaser function, or a callback run under it. */
export type AcquisitionKind = 'guard' | 'releaser' | 'callback'

/** A lock acquisition found in the code. */
export interface Acquisition {
  kind: AcquisitionKind
  call: TSESTree.CallExpression
  /** Source text of the acquiring call, for messages. */
  label: string
  /** For `callback`: the function run under the lock. */
  callback?: FunctionNode
}

/** A stretch of code that runs while a lock is held. */
export interface Region {
  acquisition: Acquisition
  /** The nodes that run under the lock (statements, or a callback's body). */
  nodes: TSESTree.Node[]
  /** True when `nodes` is a callback body whose returned promise the lock waits for. */
  callbackBody: boolean
  /** The function that takes the lock (for callbacks: the one calling runExclusive). */
  owner: FunctionNode | undefined
}

const ASYNCSAFE_LOCKS = new Set(['Mutex', 'RwLock', 'Semaphore'])
const MUTEX_LIKE = new Set(['Mutex', 'Semaphore', 'MutexInterface', 'SemaphoreInterface', 'RwLock'])
const LOCK_PACKAGES = new Set(['asyncsafe', 'async-mutex'])
const GUARD_TYPES = new Set(['LockGuard', 'Permit'])
const ASYNCSAFE = new Set(['asyncsafe'])
const WEB_LOCKS = new Set(['LockManager'])
const LIB_PACKAGES = new Set(['typescript', '@types/node', '@types/web'])

const GUARD_METHODS = new Set(['lock', 'read', 'write', 'tryLock', 'tryRead', 'tryWrite', 'tryAcquire'])
const CALLBACK_METHODS = new Set(['runExclusive', 'runRead', 'runWrite'])
/** Receiver names that say "a lock" when types are not available. */
export const LOCK_NAME = /(?:mutex|lock|semaphore)$/i

const LOCK_METHODS = new Set([...GUARD_METHODS, ...CALLBACK_METHODS, 'acquire', 'run', 'request'])

/**
 * Classifies a call as a lock acquisition, or returns undefined. `bound` says the
 * call's result is bound by a declaration: only then is a call of another name (a
 * wrapper returning a LockGuard) looked at, which keeps the type queries few.
 */
export function classifyAcquisition(context: Context, call: TSESTree.CallExpression, usingEvidence = false, bound = false): Acquisition | undefined {
  const callee = unwrap(call.callee)
  const method = callee.type === 'MemberExpression' ? propertyName(callee) : undefined
  if (callee.type !== 'MemberExpression' || method === undefined || !LOCK_METHODS.has(method)) return bound ? fromResultType(context, call) : undefined
  const info = typed(context)
  const receiverType = info ? typeOf(info, callee.object) : undefined
  const label = shortText(context, call)
  const callbackLabel = `${shortText(context, callee)}(…)`
  if (info && receiverType && !isUnknownType(info, receiverType)) {
    if (isNamedType(receiverType, WEB_LOCKS, LIB_PACKAGES) && method === 'request') {
      const last = call.arguments.at(-1)
      return isFunction(last) ? { kind: 'callback', call, label: callbackLabel, callback: last } : undefined
    }
    if (!isNamedType(receiverType, MUTEX_LIKE, LOCK_PACKAGES)) return fromResultType(context, call)
    if (CALLBACK_METHODS.has(method) || (method === 'run' && isNamedType(receiverType, ASYNCSAFE_LOCKS, ASYNCSAFE))) {
      const fn = call.arguments[0]
      return isFunction(fn) ? { kind: 'callback', call, label: callbackLabel, callback: fn } : undefined
    }
    if (GUARD_METHODS.has(method)) return { kind: 'guard', call, label }
    if (method === 'acquire') return isGuardResult(info, call) ? { kind: 'guard', call, label } : { kind: 'releaser', call, label }
    return undefined
  }
  // No type information for the receiver: names.
  if (CALLBACK_METHODS.has(method)) {
    const fn = call.arguments[0]
    return isFunction(fn) ? { kind: 'callback', call, label: callbackLabel, callback: fn } : undefined
  }
  if (method === 'request' && isNavigatorLocks(callee.object)) {
    const last = call.arguments.at(-1)
    return isFunction(last) ? { kind: 'callback', call, label: callbackLabel, callback: last } : undefined
  }
  const receiverName = terminalName(callee.object)?.replace(/^[#_]+/, '')
  const lockNamed = receiverName !== undefined && LOCK_NAME.test(receiverName)
  if (GUARD_METHODS.has(method) && (lockNamed || (usingEvidence && method !== 'read' && method !== 'write'))) return { kind: 'guard', call, label }
  if ((method === 'read' || method === 'write') && (lockNamed || usingEvidence)) return { kind: 'guard', call, label }
  if (method === 'acquire' && (lockNamed || usingEvidence)) return { kind: usingEvidence ? 'guard' : 'releaser', call, label }
  return undefined
}

function isNavigatorLocks(node: TSESTree.Node): boolean {
  const target = unwrap(node)
  return target.type === 'MemberExpression' && propertyName(target) === 'locks' && terminalName(target.object) === 'navigator'
}

/** A call whose (awaited) result is asyncsafe's LockGuard or Permit, whatever its receiver. */
function fromResultType(context: Context, call: TSESTree.CallExpression): Acquisition | undefined {
  const info = typed(context)
  if (!info || !isGuardResult(info, call)) return undefined
  return { kind: 'guard', call, label: shortText(context, call) }
}

function isGuardResult(info: Typed, call: TSESTree.CallExpression): boolean {
  const type = typeOf(info, call)
  const awaited = info.checker.getAwaitedType(type) ?? type
  return isNamedType(awaited, GUARD_TYPES, ASYNCSAFE)
}

const regionCache = new WeakMap<TSESTree.Program, Region[]>()

/** Every lock-holding region of the file (computed once per file and shared by the rules). */
export function lockRegions(context: Context): Region[] {
  const program = context.sourceCode.ast
  const known = regionCache.get(program)
  if (known) return known
  const regions: Region[] = []
  walk(
    program,
    (node) => {
      if (node.type !== 'CallExpression') return
      const declaration = declarationOf(node)
      const acquisition = classifyAcquisition(context, node, declaration?.kind === 'using' || declaration?.kind === 'await using', declaration !== undefined)
      if (!acquisition) return
      const region = regionOf(acquisition, declaration)
      if (region) regions.push(region)
    },
    true,
  )
  regionCache.set(program, regions)
  return regions
}

/** The declaration binding a call's (awaited) result: `const g = await m.lock()` → that declaration. */
export function declarationOf(call: TSESTree.CallExpression): TSESTree.VariableDeclaration | undefined {
  let site = valueSite(call)
  if (site.parent?.type === 'AwaitExpression') site = valueSite(site.parent)
  const parent = site.parent
  if (parent?.type !== 'VariableDeclarator' || parent.init !== site) return undefined
  return parent.parent.type === 'VariableDeclaration' ? parent.parent : undefined
}

function regionOf(acquisition: Acquisition, declaration: TSESTree.VariableDeclaration | undefined): Region | undefined {
  const owner = enclosingFunction(acquisition.call)
  if (acquisition.kind === 'callback') {
    const fn = acquisition.callback!
    return { acquisition, nodes: [fn.body], callbackBody: true, owner }
  }
  if (!declaration) return undefined
  const list = statementList(declaration)
  if (!list) return undefined
  const following = list.slice(list.indexOf(declaration) + 1)
  if (declaration.kind === 'using' || declaration.kind === 'await using') return { acquisition, nodes: following, callbackBody: false, owner }
  const names = boundNames(declaration.declarations.find((d) => d.init && contains(d.init, acquisition.call))?.id)
  if (names.size === 0) return undefined
  const nodes: TSESTree.Node[] = []
  for (const statement of following) {
    if (!releases(statement, names)) {
      nodes.push(statement)
      continue
    }
    // `try { ...held... } finally { release() }`: the try block (and catch) hold the lock.
    if (statement.type === 'TryStatement' && statement.finalizer && releases(statement.finalizer, names) && !releases(statement.block, names)) {
      nodes.push(statement.block)
      if (statement.handler) nodes.push(statement.handler)
    }
    break
  }
  return { acquisition, nodes, callbackBody: false, owner }
}

/** The identifiers a binding pattern introduces. */
export function boundNames(id: TSESTree.Node | undefined | null): Set<string> {
  const names = new Set<string>()
  const visit = (node: TSESTree.Node | null | undefined): void => {
    if (!node) return
    if (node.type === 'Identifier') names.add(node.name)
    else if (node.type === 'ArrayPattern') node.elements.forEach(visit)
    else if (node.type === 'ObjectPattern') for (const p of node.properties) visit(p.type === 'Property' ? p.value : p.argument)
    else if (node.type === 'AssignmentPattern') visit(node.left)
    else if (node.type === 'RestElement') visit(node.argument)
  }
  visit(id)
  return names
}

/** True if `node` (outside nested functions) calls one of `names` as a releaser, or disposes/releases it. */
export function releases(node: TSESTree.Node, names: ReadonlySet<string>): boolean {
  let found = false
  walk(node, (n) => {
    if (found) return false
    if (n.type === 'CallExpression' && isReleaseCall(n, names)) found = true
  })
  return found
}

/** `release()`, `g.release()`, `g[Symbol.dispose]()`, `g[Symbol.asyncDispose]()` for a name in `names`. */
export function isReleaseCall(call: TSESTree.CallExpression, names: ReadonlySet<string>): boolean {
  const callee = unwrap(call.callee)
  if (callee.type === 'Identifier') return names.has(callee.name)
  if (callee.type !== 'MemberExpression') return false
  const object = unwrap(callee.object)
  if (object.type !== 'Identifier' || !names.has(object.name)) return false
  if (callee.computed) return isDisposeSymbol(callee.property)
  const name = propertyName(callee)
  return name === 'release' || name === 'dispose'
}

/** The innermost region containing `node`, if any. */
export function regionContaining(regions: readonly Region[], node: TSESTree.Node): Region | undefined {
  let best: Region | undefined
  for (const region of regions) {
    if (!region.nodes.some((n) => contains(n, node))) continue
    // A nested function inside a region does not run under the lock (unless it is the callback itself).
    const fn = enclosingFunction(node)
    const regionFn = region.callbackBody ? region.acquisition.callback : region.owner
    if (fn !== regionFn) continue
    if (!best || contains(best.nodes[0]!, region.nodes[0]!)) best = region
  }
  return best
}
