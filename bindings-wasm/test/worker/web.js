// A Worker using the shared layer's Web-standard wrapper, loaded unbundled
// (wasm-bindgen's ES-module glue, the .wasm as a CompiledWasm module).
import keyproof from '../../pkg/workerd.js';
import { config } from './config.js';

const engine = new keyproof.Engine(config);
const verifier = new keyproof.Verifier(engine, {
  lookup: (hash) => globalThis.KEYS.get(hash, 'json'),
});

const handler = keyproof.fetch(verifier, (request) => {
  const caller = keyproof.principalOf(request);
  return Response.json({ runtime: 'workerd', via: 'fetch', keyId: caller.keyId, scopes: caller.scopes });
}, { clientIp: (request) => request.headers.get('CF-Connecting-IP') });

export default {
  fetch(request, env, ctx) {
    globalThis.KEYS = env.KEYS;
    return handler(request, env, ctx);
  },
};
