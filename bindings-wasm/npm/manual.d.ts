// Types of @keyproof/wasm/manual: keyproof over a WebAssembly module you load yourself.
type Keyproof = typeof import('./index').default;

/** keyproof over a compiled `WebAssembly.Module` or the `.wasm` bytes (synchronous, once). */
export function fromModule(module: WebAssembly.Module | BufferSource): Keyproof;
/** keyproof over a module, bytes, a `Response` (or a promise of one) or a URL (asynchronous, once). */
export function fromSource(
  source: WebAssembly.Module | BufferSource | Response | Promise<Response> | URL | string,
): Promise<Keyproof>;
