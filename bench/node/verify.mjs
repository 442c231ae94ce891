// Per-call full verify of the same key with the same checks (hash, expiry,
// scope, client IP allowlist), in one run:
//   keyproof (the Verifier over the native engine)
//   a hand-rolled node:crypto verify (createHash + timingSafeEqual + expiry + scope + IP)
//   Seam prefixed-api-key's checkAPIKey (+ the same expiry, scope and IP checks)
// Not run by the tests: `bash scripts/test-node.sh --build-only && node bench/node/verify.mjs [--json]`
// (--json: one JSON line for bench/run instead of the table).
import { createRequire } from 'node:module';
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4 } from 'node:net';
import os from 'node:os';

const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url));
const kp = require('./index.cjs');
const { checkAPIKey } = require('prefixed-api-key');

const JSON_OUT = process.argv.includes('--json');
const log = JSON_OUT ? () => {} : (...a) => console.log(...a);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const N = Number(process.env.N ?? 200_000);
const now = Date.now();
const ip = '10.1.2.3';

const engine = new kp.Engine({
  formats: ['keyproof_live', 'seam'],
  policy: { routes: [{ method: 'GET', path: '/v1/briefs', all_of: ['briefs:read'] }] },
});
const options = { name: 'Bench key', scopes: ['briefs:read'], allowedIps: ['10.0.0.0/8'], expiresIn: '90d' };
const live = engine.mint({ ...options, format: 'keyproof_live' });
const seam = engine.mint({ ...options, format: 'seam' });

// keyproof: the records as the verifier reads them fastest (validated once).
const prepared = new Map([live, seam].map((m) => [m.record.hash, kp.prepareRecord(m.record)]));
const verifier = new kp.Verifier(engine, { lookup: (hash) => prepared.get(hash) ?? null });
// …as the JSON text a store holds, loaded on every call…
const texts = new Map([live, seam].map((m) => [m.record.hash, JSON.stringify(m.record)]));
const textVerifier = new kp.Verifier(engine, { lookup: (hash) => texts.get(hash) ?? null });
// …as the records mint() returned (frozen: loaded natively once, then reused)…
const made = new Map([live, seam].map((m) => [m.record.hash, m.record]));
const madeVerifier = new kp.Verifier(engine, { lookup: (hash) => made.get(hash) ?? null });
// …and as objects of the caller's own (storage schema), converted on every call.
const plain = new Map([live, seam].map((m) => [m.record.hash, JSON.parse(JSON.stringify(m.record))]));
const plainVerifier = new kp.Verifier(engine, { lookup: (hash) => plain.get(hash) ?? null });
// …and the JSON text again behind an engine whose recordCache keeps the loaded record.
const cachedEngine = new kp.Engine({
  formats: ['keyproof_live', 'seam'],
  policy: { routes: [{ method: 'GET', path: '/v1/briefs', all_of: ['briefs:read'] }] },
  recordCache: { ttlSeconds: 3600 },
});
const cachedVerifier = new kp.Verifier(cachedEngine, { lookup: (hash) => texts.get(hash) ?? null });
const request = (key) => ({ method: 'GET', path: '/v1/briefs', headers: { authorization: `Bearer ${key}` }, clientIp: ip });
const liveRequest = request(live.key);
const seamRequest = request(seam.key);

// The hand-rolled records: what such code keeps per key.
function handRecord(m, hashHex) {
  const allow = new BlockList();
  for (const cidr of m.record.allowedIps) {
    const [net, bits] = cidr.split('/');
    allow.addSubnet(net, Number(bits), isIPv4(net) ? 'ipv4' : 'ipv6');
  }
  return { hash: Buffer.from(hashHex, 'hex'), hashHex, expiresAt: m.record.expiresAt.getTime(), scopes: m.record.scopes, allow };
}
const liveHex = live.record.hash.split(':')[1];
const handDb = new Map([[liveHex, handRecord(live, liveHex)]]);
const seamHex = seam.record.hash.split(':')[1];
const seamShort = seam.key.split('_')[1];
const seamDb = new Map([[seamShort, handRecord(seam, seamHex)]]);

function handChecks(record, ip) {
  if (Date.now() >= record.expiresAt) return 401;
  if (!record.scopes.includes('briefs:read')) return 403;
  if (!record.allow.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6')) return 403;
  return 200;
}

function handRolled(req) {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string' || !auth.startsWith('Bearer ')) return 401;
  const key = auth.slice(7);
  if (!key.startsWith('kp_live_') || key.length !== 44) return 401;
  const digest = createHash('sha256').update(key).digest();
  const record = handDb.get(digest.toString('hex'));
  if (record === undefined || !timingSafeEqual(digest, record.hash)) return 401;
  return handChecks(record, req.clientIp);
}

function seamVerify(req) {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string' || !auth.startsWith('Bearer ')) return 401;
  const token = auth.slice(7);
  const record = seamDb.get(token.split('_')[1]);
  if (record === undefined || !checkAPIKey(token, record.hashHex)) return 401;
  return handChecks(record, req.clientIp);
}

const cases = [
  ['keyproof (keyproof_live key, prepared record)', () => verifier.verifySync(liveRequest).status],
  ['keyproof (keyproof_live key, stored JSON text)', () => textVerifier.verifySync(liveRequest).status],
  ['keyproof (keyproof_live key, record from mint())', () => madeVerifier.verifySync(liveRequest).status],
  ['keyproof (keyproof_live key, own plain object, converted per call)', () => plainVerifier.verifySync(liveRequest).status],
  ['hand-rolled node:crypto (createHash + timingSafeEqual + checks)', () => handRolled(liveRequest)],
  ['keyproof (Seam key, prepared record)', () => verifier.verifySync(seamRequest).status],
  ['Seam prefixed-api-key checkAPIKey + checks', () => seamVerify(seamRequest)],
  ['keyproof (keyproof_live key, recordCache over the stored JSON text)', () => cachedVerifier.verifySync(liveRequest).status],
];

for (const [name, fn] of cases) if (fn() !== 200) throw new Error(`${name} did not allow the request`);

const best = new Map();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of cases) {
    for (let i = 0; i < 2_000; i++) fn();
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn();
    const ns = Number(process.hrtime.bigint() - t) / N;
    best.set(name, Math.min(best.get(name) ?? Infinity, ns));
  }
}

const kpLive = best.get(cases[0][0]);
const kpSeam = best.get(cases[5][0]);
const rows = [
  ['benchmark', 'ns/call', 'calls/s', 'vs keyproof'],
  ...cases.map(([name], i) => {
    const ns = best.get(name);
    const ref = i === 5 || i === 6 ? kpSeam : kpLive;
    return [name, ns.toFixed(0), Math.round(1e9 / ns).toLocaleString('en-US'), `${(ns / ref).toFixed(2)}×`];
  }),
];
log(`node ${process.version}, ${N} calls × ${ROUNDS} rounds, best round per row`);
log(`| ${rows[0].join(' | ')} |\n|${rows[0].map(() => '---').join('|')}|`);
for (const r of rows.slice(1)) log(`| ${r.join(' | ')} |`);
const handRatio = best.get(cases[4][0]) / kpLive;
const seamRatio = best.get(cases[6][0]) / kpSeam;
log(`\nkeyproof is ${handRatio.toFixed(2)}× the speed of the hand-rolled verify and ${seamRatio.toFixed(2)}× the speed of checkAPIKey (goal ≥ 3×: ${handRatio >= 3 && seamRatio >= 3 ? 'met' : 'not met'}).`);
if (JSON_OUT) {
  const ns = Object.fromEntries(cases.map(([name]) => [name, best.get(name)]));
  console.log(JSON.stringify({ node: process.version, calls: N, rounds: ROUNDS, load: os.loadavg()[0], ns,
    ratios: { hand_rolled_vs_keyproof: handRatio, seam_vs_keyproof: seamRatio,
      text_vs_cached: best.get(cases[1][0]) / best.get(cases[7][0]) } }));
}
