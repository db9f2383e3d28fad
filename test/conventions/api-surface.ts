/**
 * The public API, read from the sources with the TypeScript compiler: every exported
 * function and class of the runtime-neutral barrel and of asyncsafe/node, with every
 * public method (instance and static) and the constructor, and whether each returns a
 * promise. Used by input-errors.test.ts to check the input-error rule on every callable.
 */
import ts from 'typescript'
import { join } from 'node:path'

/** One public callable. */
export interface Callable {
  /** `Mutex.lock`, `Mutex.constructor`, `retry`, `LruTtlCache.static from`... */
  readonly id: string
  /** The declared return type returns a promise (`Promise<...>` / `PromiseLike`). */
  readonly returnsPromise: boolean
  /** It takes parameters (a callable without any has no input to validate). */
  readonly takesInput: boolean
}

const root = join(import.meta.dirname, '..', '..')

function isPromise(checker: ts.TypeChecker, type: ts.Type): boolean {
  const text = checker.typeToString(type)
  return /^(Promise|PromiseLike)</.test(text)
}

/** Every public callable exported by the given entry files (relative to the repository). */
export function publicCallables(entries: readonly string[]): Callable[] {
  const files = entries.map((e) => join(root, e))
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  })
  const checker = program.getTypeChecker()
  const out = new Map<string, Callable>()
  const add = (rawId: string, signatures: readonly ts.Signature[]): void => {
    // Well-known symbols are named `__@dispose@110` by the checker.
    const id = rawId.replace(/__@(\w+)@\d+/, '[Symbol.$1]')
    if (signatures.length === 0 || out.has(id)) return
    const returnsPromise = signatures.every((s) => isPromise(checker, checker.getReturnTypeOfSignature(s)))
    const takesInput = signatures.some((s) => s.getParameters().length > 0)
    out.set(id, { id, returnsPromise, takesInput })
  }
  const ours = (decl: ts.Declaration): boolean => decl.getSourceFile().fileName.startsWith(join(root, 'src'))
  const isPublic = (decl: ts.Declaration | undefined): boolean => {
    if (decl === undefined || !ours(decl)) return false
    const flags = ts.getCombinedModifierFlags(decl)
    if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false
    const declName = (decl as ts.NamedDeclaration).name
    if (declName !== undefined && ts.isPrivateIdentifier(declName)) return false
    return !ts.getJSDocTags(decl).some((tag) => tag.tagName.text === 'internal')
  }
  for (const file of files) {
    const source = program.getSourceFile(file)
    if (source === undefined) throw new Error(`no source ${file}`)
    const moduleSymbol = checker.getSymbolAtLocation(source)!
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      const name = exported.getName()
      const decl = symbol.valueDeclaration
      if (decl === undefined) continue // types only
      const type = checker.getTypeOfSymbolAtLocation(symbol, decl)
      if (symbol.flags & ts.SymbolFlags.Class) {
        // A constructor documented @internal is not public (the instances come from a function).
        const ctor = (decl as ts.ClassDeclaration).members.find(ts.isConstructorDeclaration)
        if (ctor === undefined || isPublic(ctor)) add(`${name}.constructor`, type.getConstructSignatures())
        for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
          const mdecl = member.valueDeclaration ?? member.declarations?.[0]
          if (!isPublic(mdecl) || !(member.flags & ts.SymbolFlags.Method)) continue
          add(`${name}.${member.getName()}`, checker.getTypeOfSymbolAtLocation(member, mdecl!).getCallSignatures())
        }
        for (const member of checker.getPropertiesOfType(type)) {
          const mdecl = member.valueDeclaration
          if (!isPublic(mdecl) || !(member.flags & ts.SymbolFlags.Method) || member.getName() === 'prototype') continue
          add(`${name}.static ${member.getName()}`, checker.getTypeOfSymbolAtLocation(member, mdecl!).getCallSignatures())
        }
        continue
      }
      const calls = type.getCallSignatures()
      if (calls.length > 0) {
        add(name, calls)
        continue
      }
      // A const whose value is a constructor (DisposableStack and friends).
      const constructs = type.getConstructSignatures()
      if (constructs.length > 0) add(`${name}.constructor`, constructs)
    }
  }
  return [...out.values()].sort((a, b) => a.id.localeCompare(b.id))
}
