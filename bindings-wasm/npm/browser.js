// keyproof for browsers and bundlers: the `.wasm` fetched next to this module
// (`new URL(…, import.meta.url)`, which bundlers follow), instantiated on import.
import { fromSource } from './manual.js';

const keyproof = await fromSource(new URL('./keyproof.wasm', import.meta.url));
