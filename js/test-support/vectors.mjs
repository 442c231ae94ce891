// The golden-vector runner, engine-agnostic: `runVectorFile(kp, file)` runs one
// file of tests/vectors/ against any keyproof API object (the shared layer over
// the napi-rs or the wasm engine), driving the verification step exactly as
// core/tests/golden_vectors.rs does, then the same request again through the
// one-call `Verifier.verify` fast path; `vectorTests(kp, label)` registers one
// node:test per file. Throws (node:assert) on any difference. Test support
// only: not part of either package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { expectError, hex, supplied } from './vector-helpers.mjs';
import { runTokens } from './vectors-tokens.mjs';
import { runRecordCache } from './vectors-cache.mjs';

export { hex } from './vector-helpers.mjs';


function runDecisions(kp, file) {
  const engine = new kp.Engine(file.config);
  const records = file.records.map((r) => kp.recordFromJSON(r));
  const prepared = records.map((r) => kp.prepareRecord(r));
  for (const v of file.vectors) {
    const req = v.request;
    // usage_limits.json: `usage_cost`, the host's price of the request.
    const request = { method: req.method, path: req.path, headers: req.headers, clientIp: req.client_ip ?? null, usageCost: req.usage_cost ?? null };
    // 1. The I/O-free step, as the core's golden runner drives it.
    const step = engine.begin(request, { now: v.now });
    for (;;) {
      const s = step.nextStep();
      if (s.kind === 'lookup_record') step.record(supplied(records, v, s.value));
      else if (s.kind === 'load_rate_state') {
        const failed = v.rate_store_failure; // rate_store*.json: the host's store failed
        if (failed === 'policy') step.rateStateUnavailable(); // the policy's rate_store_failure answers
        else if (failed) step.rateStateUnavailable({ onError: failed.on_error, retryAfterSeconds: failed.retry_after_seconds });
        else step.rateState(v.rate_states ? (v.rate_states[s.value] ?? null) : v.rate_limit_state);
      } else break;
    }
    const d = step.finish();
    const e = v.expected;
    assert.deepEqual(d.core, e, v.name);
    assert.equal(d.code, e.code, v.name);
    assert.equal(d.status, e.status, v.name);
    assert.deepEqual(d.headers, e.headers, v.name);
    assert.equal(d.body, e.body, v.name);
    assert.equal(d.allowed, e.allowed, v.name);
    assert.equal(d.publicCode, e.public_code, v.name);
    assert.equal(d.missingScope, e.missing_scope, v.name);
    assert.deepEqual(kp.toStorage(d.principal), e.principal === null ? null : kp.toStorage(kp.fromStorage(e.principal)), v.name);
    assert.deepEqual(d.token, e.token === undefined ? null : kp.fromStorage(e.token), v.name);
    assert.equal(d.keyId, e.principal?.key_id ?? e.key_id ?? null, `${v.name} (keyId)`);
    if ('touch_last_used' in v) {
      assert.equal(d.touchLastUsed?.getTime() ?? null, v.touch_last_used === null ? null : Date.parse(v.touch_last_used), v.name);
    }

    if (v.rate_store_failure) continue; // the fast path has no store to fail (redis.test.mjs: RedisVerifier)

    // 2. The one-call fast path (native verify with synchronous callbacks),
    //    records handed over natively (PreparedRecord) this time.
    // usage_limits.json: each counter's state by key (`rate_states`).
    const stateOf = (key) => (v.rate_states ? (v.rate_states[key] ?? null) : (v.rate_limit_state ?? null));
    const store = {
      get: stateOf,
      compareAndSet: (key, expected) => {
        assert.deepEqual(expected, stateOf(key), `${v.name} (compare-and-set)`);
        return true;
      },
    };
    const touched = [];
    const verifier = new kp.Verifier(engine, {
      lookup: (hash) => {
        const r = supplied(records, v, hash);
        return r === null ? null : prepared[records.indexOf(r)];
      },
      rateLimits: store,
      touch: (keyId, at) => touched.push([keyId, at.getTime()]),
      now: () => new Date(v.now),
    });
    const fast = verifier.verifySync(request);
    assert.equal(fast.code, e.code, `${v.name} (verify)`);
    assert.equal(fast.status, e.status, `${v.name} (verify)`);
    assert.deepEqual(fast.headers, e.headers, `${v.name} (verify)`);
    assert.equal(fast.body, e.body, `${v.name} (verify)`);
    assert.deepEqual(kp.toStorage(fast.principal), kp.toStorage(d.principal), `${v.name} (verify)`);
    assert.deepEqual(fast.token, d.token, `${v.name} (verify)`);
    assert.equal(fast.keyId, d.keyId, `${v.name} (verify keyId)`);
    // The last-use hint reaches the touch callback: once, for the caller's key, at the hinted instant.
    const hint = d.touchLastUsed;
    assert.deepEqual(touched, hint === null ? [] : [[d.principal.keyId, hint.getTime()]], `${v.name} (touch)`);
  }
}

const LOADERS = {
  record: (kp, t) => kp.loadRecord(t),
  policy: (kp, t) => kp.loadPolicy(t),
  format: (kp, t) => kp.loadFormat(t),
  engine: (kp, t) => new kp.Engine(t),
  rate_limit_state: (kp, t) => kp.loadRateLimitState(t),
};

function runConfig(kp, file) {
  for (const v of file.vectors) {
    const load = LOADERS[v.what];
    assert.ok(load, v.what);
    // As JSON text (the vector's input) and, when it parses, as the object.
    const inputs = [v.input];
    try {
      inputs.push(JSON.parse(v.input));
    } catch {
      // invalid JSON: the text form only
    }
    for (const input of inputs) {
      if (v.expected.ok) load(kp, input);
      else expectError(kp, v.expected, () => load(kp, input), `${v.name} (${typeof input})`);
    }
  }
}

function runParse(kp, file) {
  const engine = new kp.Engine({ formats: file.formats });
  for (const v of file.vectors) {
    if (!v.expected.ok) {
      expectError(kp, v.expected, () => engine.parse(v.key), v.name);
      expectError(kp, v.expected, () => kp.parseKey(v.key, { formats: file.formats }), v.name);
      continue;
    }
    const p = engine.parse(v.key);
    assert.deepEqual(
      {
        ok: true,
        environment: p.environment,
        format_id: p.formatId,
        has_checksum: p.hasChecksum,
        hash: engine.hashKey(v.key),
        kind: p.kind,
        lookup_hashes: engine.lookupHashes(v.key),
        preview: p.preview,
        public_part: p.publicPart,
      },
      v.expected,
      v.name,
    );
    assert.deepEqual(kp.parseKey(v.key, { formats: file.formats }), p, v.name);
  }
}

function runMint(kp, file) {
  for (const v of file.vectors) {
    const call = () => kp.mint(v.format, v.options, { randomBytes: hex(v.random_hex), now: v.now });
    if (!v.expected.ok) {
      expectError(kp, v.expected, call, v.name);
      continue;
    }
    const minted = call();
    assert.equal(minted.key, v.expected.key, v.name);
    assert.deepEqual(JSON.parse(JSON.stringify(minted.record)), v.expected.record, v.name);
  }
}

function runRateLimit(kp, file) {
  for (const v of file.vectors) {
    assert.deepEqual(kp.gcra(v.state, v.now_us, v.quota, v.cost), v.expected, v.name);
  }
}

/** usage_charges.json: `charge()`, then `Verifier#charge` through a store holding the vector's state. */
async function runCharges(kp, file) {
  const engine = new kp.Engine(file.config);
  const records = file.records.map((r) => kp.recordFromJSON(r));
  for (const v of file.vectors) {
    const record = records.find((r) => r.id === v.record_id);
    const refund = v.operation === 'refund';
    const charged = (refund ? kp.refund : kp.charge)(record, v.units, v.state, { now: v.now });
    assert.deepEqual(kp.toStorage(charged), v.expected, v.name);
    const rateLimits = new kp.MemoryRateLimitStore();
    const counter = kp.usage(record, null, { now: v.now });
    if (counter !== null && v.state !== null) rateLimits.compareAndSet(counter.key, null, v.state, 60);
    const verifier = new kp.Verifier(engine, { lookup: () => null, rateLimits, now: () => new Date(v.now) });
    const through = refund ? verifier.refund(record, v.units) : verifier.charge(record, v.units);
    assert.deepEqual(await through, charged, `${v.name} (Verifier#${refund ? 'refund' : 'charge'})`);
    if (charged?.write) assert.deepEqual(rateLimits.get(charged.write.key), charged.write.new, `${v.name} (stored)`);
  }
}

function runScan(kp, file) {
  const engine = new kp.Engine({ formats: file.formats });
  for (const v of file.vectors) {
    const found = kp.scan(v.text, { formats: file.formats });
    assert.deepEqual(
      found.map((f) => ({
        checksum_verified: f.checksumVerified,
        column: f.column,
        end: f.byteEnd,
        format_id: f.formatId,
        line: f.line,
        preview: f.preview,
        start: f.byteStart,
      })),
      v.expected.findings,
      v.name,
    );
    if (v.expected.offsets) {
      assert.deepEqual(
        found.map((f) => ({ char_end: f.charEnd, char_start: f.charStart, utf16_end: f.end, utf16_start: f.start })),
        v.expected.offsets,
        v.name,
      );
    }
    // UTF-16 offsets index the JS string: the slice is the key itself.
    for (const f of found) {
      assert.equal(kp.parseKey(v.text.slice(f.start, f.end), { formats: file.formats }).preview, f.preview, v.name);
    }
    assert.equal(kp.redact(v.text, { formats: file.formats }), v.expected.redacted, v.name);
    assert.deepEqual(engine.scan(v.text), found, `${v.name} (engine)`);
    assert.equal(engine.redact(v.text), v.expected.redacted, `${v.name} (engine)`);
  }
}

function runLifecycle(kp, file) {
  for (const v of file.vectors) {
    const record = kp.recordFromJSON(v.record);
    const op = v.operation;
    const opts = { now: v.now };
    const calls = {
      rotate: () => kp.rotate(record, op.successor_id, { ...opts, graceHours: op.grace_hours }),
      revoke: () => kp.revoke(record, opts),
      disable: () => kp.disable(record, opts),
      enable: () => kp.enable(record, opts),
      update: () => kp.update(record, op.update, opts),
    };
    if (!v.expected.ok) {
      expectError(kp, v.expected, calls[op.op], v.name);
      continue;
    }
    const after = JSON.parse(JSON.stringify(calls[op.op]()));
    assert.deepEqual(after, v.expected.record, v.name);
    // Changed as a value (key order is the serializer's, not part of the schema).
    assert.equal(!isDeepStrictEqual(after, JSON.parse(JSON.stringify(record))), v.expected.changed, v.name);
  }
}

export const RUNNERS = {
  decisions: runDecisions,
  config: runConfig,
  parse: runParse,
  mint: runMint,
  rate_limit: runRateLimit,
  scan: runScan,
  lifecycle: runLifecycle,
  tokens: runTokens,
  charges: runCharges,
  record_cache: runRecordCache,
};

/** Runs one vector file (parsed JSON) against `kp`; resolves to the number of vectors. */
export async function runVectorFile(kp, file) {
  const run = RUNNERS[file.kind];
  assert.ok(run, `unknown vector kind ${file.kind}`);
  await run(kp, file);
  return file.vectors.length;
}

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../tests/vectors');

/** Registers one test per vector file of tests/vectors/ (read in place), run with the package `kp`. */
export function vectorTests(kp, label) {
  const files = readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort();
  const load = (name) => JSON.parse(readFileSync(path.join(VECTORS, name), 'utf8'));

  test(`${label}: the vector directory holds known kinds and at least 300 vectors`, () => {
    let total = 0;
    for (const f of files) {
      const file = load(f);
      assert.ok(RUNNERS[file.kind], `${f}: unknown kind ${file.kind}`);
      total += file.vectors.length;
    }
    assert.ok(total >= 300, `only ${total} vectors`);
  });

  for (const f of files) {
    test(`${label}: golden vectors ${f}`, async () => {
      const count = await runVectorFile(kp, load(f));
      assert.ok(count > 0);
    });
  }

  test(`${label}: every core code is covered by some vector`, () => {
    const seen = new Set();
    for (const f of files) for (const v of load(f).vectors) if (typeof v.expected?.code === 'string') seen.add(v.expected.code);
    assert.deepEqual(kp.errorCodes().map((c) => c.code).filter((c) => !seen.has(c)), []);
  });
}
