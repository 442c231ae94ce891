// Runs every golden vector file in tests/vectors/ in place (never copied),
// driving the verification step exactly as core/tests/golden_vectors.rs does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import kp from '../index.cjs';

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../tests/vectors');
const files = readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort();
const load = (name) => JSON.parse(readFileSync(path.join(VECTORS, name), 'utf8'));
const hex = (h) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));

function expectError(expected, fn) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof kp.KeyproofError, `not a KeyproofError: ${e}`);
    assert.equal(e.code, expected.code);
    const family = kp.errorCodes().find((c) => c.code === e.code).family;
    assert.equal(e.family, family);
    return true;
  });
}

function runDecisions(file) {
  const engine = new kp.Engine(file.config);
  const records = file.records.map((r) => kp.recordFromJSON(r));
  for (const v of file.vectors) {
    const req = v.request;
    const step = engine.begin(
      { method: req.method, path: req.path, headers: req.headers, clientIp: req.client_ip ?? null },
      { now: v.now },
    );
    for (;;) {
      const s = step.nextStep();
      if (s.kind === 'lookup_record') {
        const found = v.record_id != null ? records.find((r) => r.id === v.record_id) : records.find((r) => r.hash === s.value);
        step.record(found ?? null);
      } else if (s.kind === 'load_rate_state') {
        step.rateState(v.rate_limit_state);
      } else break;
    }
    const d = step.finish();
    const e = v.expected;
    assert.equal(d.code, e.code, v.name);
    assert.equal(d.status, e.status, v.name);
    assert.deepEqual(d.headers, e.headers, v.name);
    assert.equal(d.body, e.body, v.name);
    assert.equal(d.allowed, e.allowed, v.name);
    assert.equal(d.publicCode, e.public_code, v.name);
    assert.equal(d.missingScope, e.missing_scope, v.name);
    assert.deepEqual(d.core, e, v.name);
    assert.deepEqual(kp.toStorage(d.principal), e.principal === null ? null : kp.toStorage(kp.fromStorage(e.principal)), v.name);
  }
}

const LOADERS = {
  record: (t) => kp.loadRecord(t),
  policy: (t) => kp.loadPolicy(t),
  format: (t) => kp.loadFormat(t),
  engine: (t) => new kp.Engine(t),
  rate_limit_state: (t) => kp.loadRateLimitState(t),
};

function runConfig(file) {
  for (const v of file.vectors) {
    const load = LOADERS[v.what];
    assert.ok(load, v.what);
    if (v.expected.ok) load(v.input);
    else expectError(v.expected, () => load(v.input));
  }
}

function runParse(file) {
  const engine = new kp.Engine({ formats: file.formats });
  for (const v of file.vectors) {
    if (!v.expected.ok) {
      expectError(v.expected, () => engine.parse(v.key));
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
    // The free function agrees.
    assert.deepEqual(kp.parseKey(v.key, { formats: file.formats }), p, v.name);
  }
}

function runMint(file) {
  for (const v of file.vectors) {
    const call = () => kp.mint(v.format, v.options, { randomBytes: hex(v.random_hex), now: v.now });
    if (!v.expected.ok) {
      expectError(v.expected, call);
      continue;
    }
    const minted = call();
    assert.equal(minted.key, v.expected.key, v.name);
    assert.deepEqual(JSON.parse(JSON.stringify(minted.record)), v.expected.record, v.name);
  }
}

function runRateLimit(file) {
  for (const v of file.vectors) {
    assert.deepEqual(kp.gcra(v.state, v.now_us, v.quota, v.cost), v.expected, v.name);
  }
}

function runScan(file) {
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
      const key = v.text.slice(f.start, f.end);
      assert.equal(kp.parseKey(key, { formats: file.formats }).preview, f.preview, v.name);
    }
    assert.equal(kp.redact(v.text, { formats: file.formats }), v.expected.redacted, v.name);
  }
}

function runLifecycle(file) {
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
      expectError(v.expected, calls[op.op]);
      continue;
    }
    const after = JSON.parse(JSON.stringify(calls[op.op]()));
    assert.deepEqual(after, v.expected.record, v.name);
    assert.equal(JSON.stringify(after) !== JSON.stringify(JSON.parse(JSON.stringify(record))), v.expected.changed, v.name);
  }
}

const RUNNERS = {
  decisions: runDecisions,
  config: runConfig,
  parse: runParse,
  mint: runMint,
  rate_limit: runRateLimit,
  scan: runScan,
  lifecycle: runLifecycle,
};

test('the vector directory holds every kind and at least 300 vectors', () => {
  let total = 0;
  for (const f of files) {
    const file = load(f);
    assert.ok(RUNNERS[file.kind], `${f}: unknown kind ${file.kind}`);
    total += file.vectors.length;
  }
  assert.ok(total >= 300, `only ${total} vectors`);
});

for (const f of files) {
  test(`golden vectors: ${f}`, () => {
    const file = load(f);
    RUNNERS[file.kind](file);
  });
}

test('every core code is covered by some vector', () => {
  const seen = new Set();
  for (const f of files) for (const v of load(f).vectors) if (typeof v.expected?.code === 'string') seen.add(v.expected.code);
  const missing = kp.errorCodes().map((c) => c.code).filter((c) => !seen.has(c));
  assert.deepEqual(missing, []);
});
