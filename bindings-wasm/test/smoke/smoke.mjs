// Smoke test of the installed package (run from a fresh directory by Node, Deno
// and Bun): mint, verify, a denial with its exact headers, an error's code.
import keyproof, { Engine, Verifier, KeyproofError } from '@keyproof/wasm';

const runtime = globalThis.Deno ? `deno ${Deno.version.deno}` : globalThis.Bun ? `bun ${Bun.version}` : `node ${process.version}`;
function check(ok, what) {
  if (!ok) throw new Error(`${runtime}: ${what}`);
}

const engine = new Engine({
  formats: ['keyproof_live'],
  policy: { routes: [{ method: 'GET', path: '/v1/items', all_of: ['items:read'] }], plans: { p: { limit: 60, burst: 1 } }, default_plan: 'p' },
});
const minted = engine.mint({ name: 'Smoke key', scopes: ['items:read'] });
check(minted.key.startsWith('kp_live_') && minted.record.hash.startsWith('sha256:'), 'mint');
check(keyproof.parseKey(minted.key).formatId === 'keyproof_live', 'parseKey');

const verifier = new Verifier(engine, { lookup: (hash) => (hash === minted.record.hash ? minted.record : null) });
const request = { method: 'GET', path: '/v1/items', headers: { authorization: `Bearer ${minted.key}` } };
const ok = verifier.verifySync(request);
check(ok.allowed && ok.status === 200 && ok.principal.name === 'Smoke key', `allowed: ${ok.status} ${ok.code}`);
check(ok.header('RateLimit') === '"p";r=0;t=1', `RateLimit header: ${ok.header('RateLimit')}`);

const limited = verifier.verifySync(request);
check(limited.status === 429 && limited.code === 'rate_limited', `429: ${limited.status}`);
check(Number(limited.header('Retry-After')) >= 1, 'Retry-After');

const denied = verifier.verifySync({ method: 'GET', path: '/v1/items', headers: {} });
check(denied.status === 401 && denied.code === 'missing_credentials', 'denial');
check(denied.header('WWW-Authenticate') === 'Bearer realm="api"', `challenge: ${denied.header('WWW-Authenticate')}`);
check(denied.header('Content-Type') === 'application/problem+json', 'content type');
check(JSON.parse(denied.body).status === 401, 'problem body');

const response = await keyproof.fetch(verifier, () => new Response('hi'))(new Request('https://edge.example/v1/items'));
check(response.status === 401 && (await response.json()).code === 'missing_credentials', 'fetch wrapper');

try {
  keyproof.parseKey('kp_live_short');
  check(false, 'no error');
} catch (e) {
  check(e instanceof KeyproofError && e instanceof Error && e.code === 'wrong_length', `error: ${e}`);
}
console.log(`${runtime}: @keyproof/wasm ${keyproof.version} smoke test passed (mint, verify 200/429/401, fetch wrapper, errors)`);
