// Runs examples/*/checks.json in place against a keyproof package (Node or WASM):
// each seed's worked configuration answers as its document promises — the same
// checks core/tests/examples.rs and the Python tests run. Test support only: not
// part of either package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');
const dirs = readdirSync(EXAMPLES).filter((d) => statSync(path.join(EXAMPLES, d)).isDirectory()).sort();
const b64 = (s) => Buffer.from(s).toString('base64');

function fill(value, keys) {
  for (const [label, { key, record }] of Object.entries(keys)) {
    const clientId = record.clientId ?? '';
    for (const [other, o] of Object.entries(keys)) {
      value = value.replaceAll(`{basic:${label}:${other}}`, b64(`${o.record.clientId ?? ''}:${key}`));
    }
    value = value.replaceAll(`{basic:${label}}`, b64(`${clientId}:${key}`));
    value = value.replaceAll(`{${label}.client_id}`, clientId);
    value = value.replaceAll(`{${label}}`, key);
  }
  return value;
}

/** Registers one test per example directory, run with the package `kp`. */
export function exampleTests(kp) {
  test('there is one example per seed', () => assert.equal(dirs.length, 5));
  for (const dir of dirs) {
    test(`example ${dir} answers as its seed promises`, async () => {
      const config = JSON.parse(readFileSync(path.join(EXAMPLES, dir, 'config.json'), 'utf8'));
      const checks = JSON.parse(readFileSync(path.join(EXAMPLES, dir, 'checks.json'), 'utf8'));
      const engine = new kp.Engine(config);
      const keys = {};
      for (const [label, spec] of Object.entries(checks.keys)) {
        const random = createHash('sha256').update(`keyproof/examples/${dir}/${label}`).digest();
        keys[label] = engine.mint({ format: spec.format, ...spec.options }, { randomBytes: random, now: checks.now });
      }
      const db = new Map(Object.values(keys).map(({ record }) => [record.hash, record]));
      const verifier = new kp.Verifier(engine, { lookup: (hash) => db.get(hash) ?? null });
      assert.ok(checks.checks.length > 0);
      for (const check of checks.checks) {
        const r = check.request;
        const headers = r.headers.map(([name, value]) => [name, fill(value, keys)]).flat();
        const decision = await verifier.verify({ method: r.method, path: r.path, headers, clientIp: r.client_ip ?? null, now: checks.now });
        assert.deepEqual([decision.code, decision.status], [check.expect.code, check.expect.status], `${dir}: ${check.name}`);
      }
    });
  }
}
