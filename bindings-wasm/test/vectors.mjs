// The golden-vector runner, engine-agnostic: `runVectorFile(kp, file)` runs one
// file of tests/vectors/ against any keyproof API object (the shared layer over
// the wasm engine here), driving the verification step exactly as
// core/tests/golden_vectors.rs does, then the same request again through the
// one-call `Verifier.verify` fast path. Throws (node:assert) on any difference.
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';

export const hex = (h) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));

function expectError(kp, expected, fn, name) {
  assert.throws(
    fn,
    (e) => {
      assert.ok(e instanceof kp.KeyproofError, `${name}: not a KeyproofError: ${e}`);
      assert.ok(e instanceof Error, name);
      assert.equal(e.code, expected.code, name);
      const family = kp.errorCodes().find((c) => c.code === e.code).family;
      assert.equal(e.family, family, name);
      return true;
    },
    name,
  );
}

/** The record a vector's host supplies for a lookup of `hash`. */
function supplied(records, v, hash) {
  const found = v.record_id != null ? records.find((r) => r.id === v.record_id) : records.find((r) => r.hash === hash);
  return found ?? null;
}

function runDecisions(kp, file) {
  const engine = new kp.Engine(file.config);
  const records = file.records.map((r) => kp.recordFromJSON(r));
  const prepared = records.map((r) => kp.prepareRecord(r));
  for (const v of file.vectors) {
    const req = v.request;
    const request = { method: req.method, path: req.path, headers: req.headers, clientIp: req.client_ip ?? null };
    // 1. The I/O-free step, as the core's golden runner drives it.
    const step = engine.begin(request, { now: v.now });
    for (;;) {
      const s = step.nextStep();
      if (s.kind === 'lookup_record') step.record(supplied(records, v, s.value));
      else if (s.kind === 'load_rate_state') step.rateState(v.rate_limit_state);
      else break;
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

    // 2. The one-call fast path (native verify with synchronous callbacks),
    //    records handed over natively (PreparedRecord) this time.
    const store = {
      get: () => v.rate_limit_state ?? null,
      compareAndSet: () => true,
    };
    const verifier = new kp.Verifier(engine, {
      lookup: (hash) => {
        const r = supplied(records, v, hash);
        return r === null ? null : prepared[records.indexOf(r)];
      },
      rateLimits: store,
      now: () => new Date(v.now),
    });
    const fast = verifier.verifySync(request);
    assert.equal(fast.code, e.code, `${v.name} (verify)`);
    assert.equal(fast.status, e.status, `${v.name} (verify)`);
    assert.deepEqual(fast.headers, e.headers, `${v.name} (verify)`);
    assert.equal(fast.body, e.body, `${v.name} (verify)`);
    assert.deepEqual(kp.toStorage(fast.principal), kp.toStorage(d.principal), `${v.name} (verify)`);
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
};

/** Runs one vector file (parsed JSON) against `kp`. */
export function runVectorFile(kp, file) {
  const run = RUNNERS[file.kind];
  assert.ok(run, `unknown vector kind ${file.kind}`);
  run(kp, file);
  return file.vectors.length;
}
