// The native surface (js/NATIVE.md) over the wasm-bindgen module: every export
// as wasm-bindgen makes it, except `Engine#verify`, the per-request fast path,
// which crosses the JS/wasm boundary fewer times: the request's strings go in
// as one string with their UTF-16 lengths (one copy into wasm memory instead of
// one per method, path, client IP and header), and a NativeRecord answered by a
// lookup is handed over with one call (no property lookup through Reflect).
import * as wasm from './keyproof_wasm.js';

export * from './keyproof_wasm.js';
export { default } from './keyproof_wasm.js';

const { NativeRecord } = wasm;
const NULL_CUT = 0xffffffff;
const HANDED_OVER = 1;

let cuts = new Uint32Array(64);
// The caller's lookup during one (synchronous) verify; saved and restored
// around the call, so a lookup that itself verifies cannot confuse them.
let currentLookup = null;

/** Ends with a high surrogate: concatenated, it could pair with the next part's low one. */
function endsHigh(s) {
  return s.length > 0 && (s.charCodeAt(s.length - 1) & 0xfc00) === 0xd800;
}

function lookupShim(hash) {
  const found = currentLookup(hash);
  if (found instanceof NativeRecord) {
    found.__handOver();
    return HANDED_OVER;
  }
  return found;
}

export class Engine extends wasm.Engine {
  verify(method, path, headers, clientIp, nowMs, lookup, loadState, act, hostWrites, usageCost) {
    const n = Array.isArray(headers) ? headers.length : -1;
    const ip = clientIp ?? null;
    let ok = typeof method === 'string' && typeof path === 'string' && (ip === null || typeof ip === 'string');
    ok = ok && n >= 0 && typeof lookup === 'function' && !endsHigh(method) && !endsHigh(path) && !(ip !== null && endsHigh(ip));
    let packed = '';
    if (ok) {
      if (cuts.length < n + 3) cuts = new Uint32Array(n + 3);
      for (let i = 0; i < n; i++) {
        const h = headers[i];
        if (typeof h !== 'string' || endsHigh(h)) {
          ok = false;
          break;
        }
        packed += h;
        cuts[3 + i] = h.length;
      }
    }
    if (!ok) {
      // Anything unusual goes the checked way (and fails there with its error).
      return super.verify(method, path, headers, clientIp, nowMs, lookup, loadState, act, hostWrites, usageCost);
    }
    cuts[0] = method.length;
    cuts[1] = path.length;
    cuts[2] = ip === null ? NULL_CUT : ip.length;
    packed = ip === null ? method + path + packed : method + path + ip + packed;
    const saved = currentLookup;
    currentLookup = lookup;
    try {
      return super.verifyPacked(packed, cuts.subarray(0, n + 3), nowMs, lookupShim, loadState, act, hostWrites, usageCost);
    } finally {
      currentLookup = saved;
    }
  }
}
