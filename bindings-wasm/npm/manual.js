// keyproof over a WebAssembly module you load yourself (any runtime). The
// runtime entries (workerd.js, node.js, deno.js, browser.js) are thin wrappers
// over these two functions. The engine is instantiated once per module
// instance: later calls return the same API object.
import * as native from './native.js';
import { createKeyproof } from './shared.js';

let api;

/**
 * keyproof over `module`: a compiled `WebAssembly.Module` (Workers: the
 * imported `.wasm`) or the `.wasm` bytes. Synchronous: call it once at global
 * scope.
 */
export function fromModule(module) {
  if (api === undefined) {
    native.initSync({ module });
    api = createKeyproof(native);
  }
  return api;
}

/**
 * keyproof over a module, bytes, a `Response` (or a promise of one) or a URL,
 * instantiated asynchronously.
 */
export async function fromSource(source) {
  if (api === undefined) {
    await native.default({ module_or_path: source });
    api ??= createKeyproof(native);
  }
  return api;
}
