// keyproof for Node and Bun (ESM; `require()` works on Node >= 20.19): the
// `.wasm` next to this file, compiled and instantiated synchronously on import.
import { readFileSync } from 'node:fs';
import { fromModule } from './manual.js';

const keyproof = fromModule(readFileSync(new URL('./keyproof.wasm', import.meta.url)));
