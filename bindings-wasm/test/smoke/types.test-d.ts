// Type check of the installed package (tsc --noEmit in the smoke directory):
// the API as the README uses it, typed by js/keyproof.d.ts, and the manual entry.
import keyproof, { Engine, Verifier, KeyproofError, type Decision, type KeyRecord } from '@keyproof/wasm';
import { fromModule, fromSource } from '@keyproof/wasm/manual';

const engine: Engine = new keyproof.Engine({
  formats: ['keyproof_live'],
  policy: { routes: [{ method: 'GET', path: '/v1/reports', all_of: ['reports:read'] }] },
});
const minted = engine.mint({ name: 'Typed key', scopes: ['reports:read'] });
const record: KeyRecord = minted.record;
const verifier = new Verifier(engine, { lookup: (hash: string) => (hash === record.hash ? record : null) });
const decision: Decision = verifier.verifySync({ method: 'GET', path: '/v1/reports', headers: { authorization: `Bearer ${minted.key}` } });
const status: number = decision.status;
const handler: (request: Request) => Promise<Response> = keyproof.fetch(verifier, () => new Response('ok'));
const middleware = keyproof.hono(verifier, { clientIp: () => null });
const error: KeyproofError | null = decision.toError();
const fromBytes: typeof keyproof = fromModule(new Uint8Array(0));
const later: Promise<typeof keyproof> = fromSource(new URL('https://example.com/keyproof.wasm'));
void [status, handler, middleware, error, fromBytes, later];
