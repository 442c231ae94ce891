// The bench inside workerd: GET /run?case=<i>&n=<N> runs case i N times
// (sequentially, awaiting async ones) and answers the last status. Time is
// measured outside, by the caller (inside a Worker the clock only moves on I/O).
import * as nodeCrypto from 'node:crypto';
import keyproof from '../../bindings-wasm/pkg/workerd.js';
import { loop, makeCases } from './cases.js';

let cases;

export default {
  async fetch(request) {
    cases ??= makeCases(keyproof, nodeCrypto);
    const url = new URL(request.url);
    if (url.pathname === '/cases') return Response.json(cases.map(([name, , isAsync]) => ({ name, async: isAsync })));
    const [, fn, isAsync] = cases[Number(url.searchParams.get('case'))];
    const last = await loop(fn, isAsync, Number(url.searchParams.get('n')));
    return new Response(String(last));
  },
};
