/**
 * Node built-in modules for the runtime-neutral code: loaded through
 * `process.getBuiltinModule` (Node >= 20.16), never by a static import, so the modules
 * still load in browsers, Deno and Bun. Where it is missing the result is `undefined`
 * and the feature that needs it (diagnostics_channel, re-entry detection, the cache's
 * nested-notification context) is skipped.
 */

const cache = new Map<string, unknown>()

/** The built-in module `id` (e.g. `'node:async_hooks'`), or undefined where the runtime has none. Cached. */
export function loadBuiltin<T>(id: string): T | undefined {
  if (cache.has(id)) return cache.get(id) as T | undefined
  let mod: unknown
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    mod = proc?.getBuiltinModule?.(id)
  } catch {
    mod = undefined
  }
  cache.set(id, mod)
  return mod as T | undefined
}
