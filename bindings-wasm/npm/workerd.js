// keyproof for Cloudflare Workers / workerd: the `.wasm` is imported as a
// compiled WebAssembly.Module (Wrangler's and Miniflare's CompiledWasm rule)
// and instantiated once, synchronously, at global scope.
import wasm from './keyproof.wasm';
import { fromModule } from './manual.js';

const keyproof = fromModule(wasm);
