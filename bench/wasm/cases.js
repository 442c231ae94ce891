// The bench cases, shared by Node (verify.mjs) and the workerd Worker
// (worker.js): the same key, the same checks (hash, expiry, scope, client IP
// allowlist) for keyproof's full verify and for two hand-rolled verifies:
//   - WebCrypto: `await crypto.subtle.digest('SHA-256', …)` + constant-time compare + checks
//   - node:crypto: synchronous `createHash('sha256')` + `timingSafeEqual` + checks
// Web-standard APIs only, except the node:crypto module passed in.

export const CONFIG = {
  formats: ['keyproof_live'],
  policy: { routes: [{ method: 'GET', path: '/v1/briefs', all_of: ['briefs:read'] }] },
};
export const MINT = { name: 'Bench key', scopes: ['briefs:read'], allowedIps: ['10.0.0.0/8'], expiresIn: '90d' };
export const CLIENT_IP = '10.1.2.3';

const encoder = new TextEncoder();

function ipv4(ip) {
  const parts = ip.split('.');
  if (parts.length !== 4) return -1;
  let n = 0;
  for (const p of parts) {
    if (p === '' || p.length > 3) return -1;
    const v = Number(p);
    if (!(v >= 0 && v <= 255)) return -1;
    n = n * 256 + v;
  }
  return n;
}

function inCidr(ip, [net, bits]) {
  const a = ipv4(ip);
  if (a < 0) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (a & mask) >>> 0 === (net & mask) >>> 0;
}

function hexOf(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** What hand-rolled code keeps per key. */
function handRecord(record) {
  const hex = record.hash.split(':')[1];
  return {
    hex,
    bytes: Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16)),
    expiresAt: record.expiresAt.getTime(),
    scopes: record.scopes,
    allow: record.allowedIps.map((c) => {
      const [net, bits] = c.split('/');
      return [ipv4(net), Number(bits)];
    }),
  };
}

function checks(record, ip) {
  if (Date.now() >= record.expiresAt) return 401;
  if (!record.scopes.includes('briefs:read')) return 403;
  if (!record.allow.some((c) => inCidr(ip, c))) return 403;
  return 200;
}

function keyOf(req) {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string' || !auth.startsWith('Bearer ')) return null;
  const key = auth.slice(7);
  return key.startsWith('kp_live_') && key.length === 44 ? key : null;
}

/**
 * The cases over a keyproof API object (`kp`) and, when given, node:crypto.
 * Each is `[name, fn, async?]`; every fn answers the status.
 */
export function makeCases(kp, nodeCrypto) {
  const engine = new kp.Engine(CONFIG);
  const minted = engine.mint(MINT);
  const prepared = kp.prepareRecord(minted.record);
  const verifier = new kp.Verifier(engine, { lookup: (hash) => (hash === minted.record.hash ? prepared : null) });
  const request = { method: 'GET', path: '/v1/briefs', headers: { authorization: `Bearer ${minted.key}` }, clientIp: CLIENT_IP };
  const hand = handRecord(minted.record);
  const db = new Map([[hand.hex, hand]]);

  async function webCrypto(req) {
    const key = keyOf(req);
    if (key === null) return 401;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(key)));
    const record = db.get(hexOf(digest));
    if (record === undefined || !sameBytes(digest, record.bytes)) return 401;
    return checks(record, req.clientIp);
  }

  const cases = [
    ['keyproof verify (wasm, prepared record)', () => verifier.verifySync(request).status, false],
    ['hand-rolled WebCrypto (await crypto.subtle.digest + compare + checks)', () => webCrypto(request), true],
  ];
  if (nodeCrypto) {
    const { createHash, timingSafeEqual } = nodeCrypto;
    const nodeVerify = (req) => {
      const key = keyOf(req);
      if (key === null) return 401;
      const digest = createHash('sha256').update(key).digest();
      const record = db.get(digest.toString('hex'));
      if (record === undefined || !timingSafeEqual(digest, record.bytes)) return 401;
      return checks(record, req.clientIp);
    };
    cases.push(['hand-rolled node:crypto (createHash + timingSafeEqual + checks)', () => nodeVerify(request), false]);
  }
  return cases;
}

/** Runs `fn` n times (awaiting each call when async); returns the statuses seen. */
export async function loop(fn, isAsync, n) {
  let last = 0;
  if (isAsync) for (let i = 0; i < n; i++) last = await fn();
  else for (let i = 0; i < n; i++) last = fn();
  return last;
}
