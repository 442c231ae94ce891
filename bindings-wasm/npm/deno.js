// keyproof for Deno: the `.wasm` next to this file (local or remote), instantiated on import.
import { fromSource } from './manual.js';

const url = new URL('./keyproof.wasm', import.meta.url);
const bytes = url.protocol === 'file:' ? await Deno.readFile(url) : new Uint8Array(await (await fetch(url)).arrayBuffer());
const keyproof = await fromSource(bytes);
