/**
 * require-using: a guard-returning call whose guard nobody disposes. asyncsafe's guards
 * release what they hold (a lock, a listener, a timer, a running task, a swapped value)
 * only when disposed; a guard that is dropped, or disposed on one path only, leaks it:
 * the audit's background tasks that outlived their session, overrides never restored,
 * and, for a lock, every later caller waiting forever.
 *
 * Guard-returning calls: `spawnGuarded`, `listen`, `every`, `swap`, `swapWith`,
 * `linkSignals`, `timeoutSignal`, `onAbort`, `createBatcher`, `watchEventLoop`,
 * `onSignals`, `new TaskScope` (asyncsafe's, by type; by import without types), a lock
 * acquisition (`lock()`, `read()`, `write()`, `acquire()`, `try*()`, see
 * util/locks.ts), and async-mutex's `acquire()`, whose releaser function must be called.
 *
 * Accepted: a `using` / `await using` binding; returning it; passing it on (an argument,
 * an array or object literal, an assignment elsewhere: the receiver owns it then); a
 * field of a class that has a dispose method; `detach()`; a `const` disposed in a
 * `finally` that follows it, or by straight-line code with no await, return, throw,
 * break or continue in between; and a `const` disposed by a callback (an event decides
 * when). With type information a factory is asyncsafe's exported function only, not
 * a local function of the same name.
 */
import type { TSESLint, TSESTree } from '@typescript-eslint/utils'
import { type Context, enclosingFunction, isDisposeSymbol, propertyName, shortText, statementList, unwrap, valueSite, walk } from '../util/ast.js'
import { importedAt, isAsyncsafeModule } from '../util/imports.js'
import { boundNames, classifyAcquisition } from '../util/locks.js'
import { createRule } from '../util/rule.js'
import { symbolOf, symbolPackage, typed } from '../util/types.js'

type MessageIds = 'dropped' | 'neverDisposed' | 'notOnEveryPath' | 'fieldWithoutOwner' | 'useUsing' | 'bindUsing'

type GuardKind = 'lock' | 'releaser' | 'task' | 'scope' | 'listener' | 'ticker' | 'swap' | 'signal' | 'timer' | 'batcher' | 'watch'

const FACTORIES: Record<string, GuardKind> = {
  spawnGuarded: 'task',
  listen: 'listener',
  onAbort: 'listener',
  onSignals: 'listener',
  every: 'ticker',
  swap: 'swap',
  swapWith: 'swap',
  linkSignals: 'signal',
  timeoutSignal: 'timer',
  createBatcher: 'batcher',
  watchEventLoop: 'watch',
}

const WHAT: Record<GuardKind, [what: string, consequence: string]> = {
  lock: ['lock guard', 'the lock is never released: every later caller waits forever'],
  releaser: ['releaser', 'the lock is never released: every later caller waits forever'],
  task: ['task guard', 'the task is never aborted and can outlive its owner'],
  scope: ['task scope', 'its tasks are never aborted and can outlive their owner'],
  listener: ['listener guard', 'the listener is never removed'],
  ticker: ['ticker', 'its timer keeps firing'],
  swap: ['swap guard', 'the previous value is never restored'],
  signal: ['linked signal', 'its listeners on the source signals are never removed'],
  timer: ['timeout signal', 'its timer is never cleared'],
  batcher: ['batcher', 'its timer and pending items are never cleared'],
  watch: ['event-loop watch', 'its timer keeps running'],
}

const DISPOSE_METHODS = new Set(['dispose', 'close', 'destroy', 'stop', 'shutdown', 'teardown', 'cleanup', 'disconnect', 'unsubscribe', 'release', 'abort', 'end', 'unmount'])

export const requireUsing = createRule<MessageIds, []>({
  name: 'require-using',
  meta: {
    type: 'problem',
    hasSuggestions: true,
    docs: {
      description: 'Require the guards of asyncsafe (and lock releasers) to be bound with `using`, returned, owned or disposed on every path',
      recommended: true,
      requiresTypeChecking: false,
    },
    schema: [],
    messages: {
      dropped: 'The {{what}} returned by {{call}} is dropped, so it is never disposed: {{consequence}}. Bind it with `using`, return it, or store it in an owner that disposes it.',
      neverDisposed: '`{{name}}` holds the {{what}} of {{call}} but nothing disposes it: {{consequence}}. {{advice}}',
      notOnEveryPath: '`{{name}}` ({{call}}) is disposed at line {{line}}, but not on every path: a throw or early return before it leaks it ({{consequence}}). {{advice}}',
      fieldWithoutOwner: '{{call}} is stored in `{{field}}` of class {{owner}}, which has no dispose method ([Symbol.dispose], dispose, close, stop, …): nothing disposes it, so {{consequence}}.',
      useUsing: 'Declare it with `using` (disposed when the block exits).',
      bindUsing: 'Bind it with `using {{name}}` (disposed when the block exits).',
    },
  },
  defaultOptions: [],
  create(context) {
    const check = (node: TSESTree.CallExpression | TSESTree.NewExpression): void => {
      const kind = guardKind(context, node)
      if (kind) checkSite(context, node, kind)
    }
    return { CallExpression: check, NewExpression: check }
  },
})

/** Whether `node` returns one of the guards this rule tracks. */
function guardKind(context: Context, node: TSESTree.CallExpression | TSESTree.NewExpression): GuardKind | undefined {
  const callee = unwrap(node.callee)
  const info = typed(context)
  if (node.type === 'NewExpression') {
    if (callee.type !== 'Identifier') return undefined
    if (info) {
      const symbol = symbolOf(info, callee)
      if (symbol && (symbol.declarations?.length ?? 0) > 0) return symbol.getName() === 'TaskScope' && symbolPackage(symbol) === 'asyncsafe' ? 'scope' : undefined
    }
    const binding = importedAt(context, callee)
    return binding && isAsyncsafeModule(binding.source) && binding.imported === 'TaskScope' ? 'scope' : undefined
  }
  if (callee.type === 'Identifier') {
    if (info) {
      const symbol = symbolOf(info, callee)
      if (symbol && (symbol.declarations?.length ?? 0) > 0) {
        const name = symbol.getName()
        if (!Object.hasOwn(FACTORIES, name) || symbolPackage(symbol) !== 'asyncsafe') return undefined
        // asyncsafe's exported function, not a local helper of the same name.
        const { ts } = info
        const exported = symbol.declarations!.some((d) => ts.isFunctionDeclaration(d) && (ts.isSourceFile(d.parent) || ts.isModuleBlock(d.parent)))
        return exported ? FACTORIES[name] : undefined
      }
    }
    const binding = importedAt(context, callee)
    if (!binding || !isAsyncsafeModule(binding.source) || !Object.hasOwn(FACTORIES, binding.imported)) return undefined
    return FACTORIES[binding.imported]
  }
  const acquisition = classifyAcquisition(context, node)
  if (!acquisition || acquisition.kind === 'callback') return undefined
  return acquisition.kind === 'releaser' ? 'releaser' : 'lock'
}

function checkSite(context: Context, node: TSESTree.CallExpression | TSESTree.NewExpression, kind: GuardKind): void {
  let site = valueSite(node)
  let awaited = false
  if (site.parent?.type === 'AwaitExpression') {
    site = valueSite(site.parent)
    awaited = true
  }
  const parent = site.parent
  if (!parent) return
  const lockCall = kind === 'lock' || kind === 'releaser'
  const [what, consequence] = WHAT[kind]
  const call = shortText(context, node)
  const base = { what, consequence, call }
  const advice = kind === 'releaser' ? 'Call it in a `finally`, or use runExclusive.' : 'Declare it with `using` (or `await using`), or dispose it in a `finally`.'

  // Dropped: `listen(...)`, `void spawnGuarded(...)`, `await m.lock()`, `spawnGuarded(fn).done`.
  if (parent.type === 'ExpressionStatement' || (parent.type === 'UnaryExpression' && parent.operator === 'void')) {
    if (lockCall && !awaited && parent.type === 'UnaryExpression') return // `void m.lock()` is as dropped, but a promise: leave it to no-floating-detached
    const suggest: TSESLint.SuggestionReportDescriptor<MessageIds>[] = []
    const statement = parent.type === 'ExpressionStatement' ? parent : parent.parent.type === 'ExpressionStatement' ? parent.parent : undefined
    if (statement && kind !== 'releaser' && (awaited || !lockCall) && canDeclareUsing(context, statement)) {
      const name = freeName(context, statement, 'guard')
      suggest.push({ messageId: 'bindUsing', data: { name }, fix: (fixer) => fixer.replaceText(statement, `using ${name} = ${context.sourceCode.getText(site)}`) })
    }
    context.report({ node, messageId: 'dropped', data: base, suggest })
    return
  }
  if (parent.type === 'MemberExpression' && parent.object === site) {
    const property = parent.computed ? (isDisposeSymbol(parent.property) ? 'dispose' : undefined) : propertyName(parent)
    if (property === 'detach' || property === 'release' || property === 'dispose') return
    if (!lockCall || awaited) context.report({ node, messageId: 'dropped', data: base })
    return
  }
  if (!awaited && lockCall) return // a pending lock promise passed around: whoever awaits it owns the guard

  if (parent.type === 'VariableDeclarator' && parent.init === site) {
    const declaration = parent.parent
    if (declaration.kind === 'using' || declaration.kind === 'await using') return
    checkBinding(context, parent, declaration, kind, base, advice)
    return
  }
  if ((parent.type === 'AssignmentExpression' && parent.right === site) || (parent.type === 'PropertyDefinition' && parent.value === site)) {
    const target = parent.type === 'AssignmentExpression' ? unwrap(parent.left) : parent
    const field = fieldOf(target)
    if (field === undefined) return // stored elsewhere: the receiver owns it
    const owner = classOf(parent)
    if (!owner || hasDisposeMethod(owner)) return
    context.report({ node, messageId: 'fieldWithoutOwner', data: { ...base, field, owner: owner.id?.name ?? '(anonymous)' } })
  }
  // Returned, passed as an argument, put in a literal, yielded...: ownership moves on.
}

/** `this.x` / `this.#x` / a class field: its name; anything else: undefined. */
function fieldOf(target: TSESTree.Node): string | undefined {
  if (target.type === 'PropertyDefinition') {
    const key = target.key
    return key.type === 'Identifier' ? key.name : key.type === 'PrivateIdentifier' ? `#${key.name}` : key.type === 'Literal' ? String(key.value) : '[computed]'
  }
  if (target.type === 'MemberExpression' && unwrap(target.object).type === 'ThisExpression') return propertyName(target)
  return undefined
}

/** The class whose `this` a node sees (through arrow functions), if any. */
function classOf(node: TSESTree.Node): TSESTree.ClassDeclaration | TSESTree.ClassExpression | undefined {
  for (let current = node.parent; current; current = current.parent) {
    if (current.type === 'ClassBody') return current.parent
    if (current.type === 'FunctionDeclaration' || (current.type === 'FunctionExpression' && current.parent.type !== 'MethodDefinition')) return undefined
  }
  return undefined
}

function hasDisposeMethod(owner: TSESTree.ClassDeclaration | TSESTree.ClassExpression): boolean {
  if (owner.superClass) return true // the base class may dispose it
  return owner.body.body.some((member) => {
    if (member.type !== 'MethodDefinition' && member.type !== 'PropertyDefinition') return false
    if (member.computed) return isDisposeSymbol(member.key)
    const name = member.key.type === 'Identifier' ? member.key.name : member.key.type === 'Literal' ? String(member.key.value) : undefined
    return name !== undefined && DISPOSE_METHODS.has(name)
  })
}

interface Base {
  what: string
  consequence: string
  call: string
}

function checkBinding(context: Context, declarator: TSESTree.VariableDeclarator, declaration: TSESTree.VariableDeclaration, kind: GuardKind, base: Base, advice: string): void {
  const names = boundNames(declarator.id)
  const variables = context.sourceCode.getDeclaredVariables(declarator).filter((v) => names.has(v.name))
  const disposals: TSESTree.Node[] = []
  for (const variable of variables) {
    for (const reference of variable.references) {
      if (reference.init || reference.identifier === declarator.id) continue
      const use = classifyUse(reference.identifier as TSESTree.Identifier)
      if (use === 'escape') return
      // Disposed by a callback (`const off = onSignals(s, () => off[Symbol.dispose]())`):
      // when is up to the event, not to this function's paths.
      if (use === 'dispose' && enclosingFunction(reference.identifier) !== enclosingFunction(declarator)) return
      if (use === 'dispose') disposals.push(reference.identifier)
    }
  }
  const name = [...names].join(', ')
  const suggest: TSESLint.SuggestionReportDescriptor<MessageIds>[] = []
  const onlyInit = variables.every((v) => v.references.every((r) => !r.isWrite() || r.init === true))
  if (kind !== 'releaser' && declaration.kind !== 'var' && declaration.declarations.length === 1 && declarator.id.type === 'Identifier' && onlyInit && canDeclareUsing(context, declaration)) {
    suggest.push({
      messageId: 'useUsing',
      fix: (fixer) => {
        const keyword = context.sourceCode.getFirstToken(declaration)!
        return fixer.replaceText(keyword, 'using')
      },
    })
  }
  if (disposals.length === 0) {
    context.report({ node: declarator, messageId: 'neverDisposed', data: { ...base, name, advice }, suggest })
    return
  }
  if (disposals.some((d) => disposedOnEveryPath(declaration, d))) return
  context.report({ node: declarator, messageId: 'notOnEveryPath', data: { ...base, name, advice, line: String(disposals[0]!.loc.start.line) }, suggest })
}

/** What a reference to the guard's variable does with it. */
function classifyUse(identifier: TSESTree.Identifier): 'dispose' | 'escape' | 'use' {
  const site = valueSite(identifier)
  const parent = site.parent
  if (!parent) return 'use'
  if (parent.type === 'CallExpression' && parent.callee === site) return 'dispose' // releaser()
  if (parent.type === 'MemberExpression' && parent.object === site) {
    const callee = valueSite(parent)
    const isCall = callee.parent?.type === 'CallExpression' && callee.parent.callee === callee
    if (!isCall) return 'use'
    if (parent.computed) return isDisposeSymbol(parent.property) ? 'dispose' : 'use'
    const name = propertyName(parent)
    if (name === 'detach') return 'escape'
    return name === 'release' || name === 'dispose' || name === 'abort' ? 'dispose' : 'use'
  }
  switch (parent.type) {
    case 'CallExpression':
    case 'NewExpression':
    case 'ReturnStatement':
    case 'ArrowFunctionExpression':
    case 'ArrayExpression':
    case 'Property':
    case 'SpreadElement':
    case 'YieldExpression':
    case 'PropertyDefinition':
    case 'VariableDeclarator':
    case 'ConditionalExpression':
    case 'LogicalExpression':
      return 'escape'
    case 'AssignmentExpression':
      return parent.right === site ? 'escape' : 'use'
    default:
      return 'use'
  }
}

/**
 * True if the disposal at `disposal` runs on every path after `declaration`: in the
 * `finally` of a try statement that follows it in the same block, or in a later
 * statement of the same block with nothing in between that can leave the block.
 */
function disposedOnEveryPath(declaration: TSESTree.VariableDeclaration, disposal: TSESTree.Node): boolean {
  const list = statementList(declaration)
  if (!list) return false
  const start = list.indexOf(declaration)
  for (let i = start + 1; i < list.length; i++) {
    const statement = list[i]!
    if (statement.range[0] <= disposal.range[0] && disposal.range[1] <= statement.range[1]) {
      if (statement.type === 'TryStatement' && statement.finalizer && within(statement.finalizer, disposal)) return true
      return enclosingFunction(disposal) === enclosingFunction(declaration) && !leavesEarly(statement, disposal)
    }
    if (leavesEarly(statement)) return false
  }
  return false
}

function within(outer: TSESTree.Node, inner: TSESTree.Node): boolean {
  return outer.range[0] <= inner.range[0] && inner.range[1] <= outer.range[1]
}

/** True if `statement` (before `until`, outside nested functions) can leave the block: await, return, throw, break, continue, yield. */
function leavesEarly(statement: TSESTree.Node, until?: TSESTree.Node): boolean {
  let leaves = false
  walk(statement, (node) => {
    if (leaves) return false
    if (until && node.range[0] >= until.range[0]) return false
    if (node.type === 'AwaitExpression' || node.type === 'ReturnStatement' || node.type === 'ThrowStatement' || node.type === 'BreakStatement' || node.type === 'ContinueStatement' || node.type === 'YieldExpression') leaves = true
    if (node.type === 'VariableDeclaration' && node.kind === 'await using') leaves = true
  })
  return leaves
}

/** `using` is valid here: a statement of a block, a function body, or an ES module's top level, in TypeScript or an ES module. */
function canDeclareUsing(context: Context, statement: TSESTree.Node): boolean {
  const parent = statement.parent
  if (!parent) return false
  if (parent.type === 'BlockStatement' || parent.type === 'StaticBlock') return true
  if (parent.type === 'SwitchCase') return false
  return parent.type === 'Program' && context.sourceCode.ast.sourceType === 'module'
}

/** `base`, or `base2`, `base3`, … if the name is taken where `at` is. */
function freeName(context: Context, at: TSESTree.Node, base: string): string {
  const taken = new Set<string>()
  for (let scope: ReturnType<Context['sourceCode']['getScope']> | null = context.sourceCode.getScope(at); scope; scope = scope.upper) {
    for (const name of scope.set.keys()) taken.add(name)
    for (const ref of scope.through) taken.add(ref.identifier.name)
  }
  if (!taken.has(base)) return base
  for (let i = 2; ; i++) if (!taken.has(`${base}${i}`)) return `${base}${i}`
}
