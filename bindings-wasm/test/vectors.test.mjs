// Every golden vector file in tests/vectors/ runs in place (never copied)
// against the WASM build, with identical results (see vectors.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import kp from '../pkg/node.js';
import { RUNNERS, runVectorFile } from './vectors.mjs';

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../tests/vectors');
const files = readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort();
const load = (name) => JSON.parse(readFileSync(path.join(VECTORS, name), 'utf8'));

test('the vector directory holds known kinds and at least 300 vectors', () => {
  let total = 0;
  for (const f of files) {
    const file = load(f);
    assert.ok(RUNNERS[file.kind], `${f}: unknown kind ${file.kind}`);
    total += file.vectors.length;
  }
  assert.ok(total >= 300, `only ${total} vectors`);
});

for (const f of files) {
  test(`golden vectors (wasm): ${f}`, () => {
    const count = runVectorFile(kp, load(f));
    assert.ok(count > 0);
  });
}

test('every core code is covered by some vector', () => {
  const seen = new Set();
  for (const f of files) for (const v of load(f).vectors) if (typeof v.expected?.code === 'string') seen.add(v.expected.code);
  assert.deepEqual(kp.errorCodes().map((c) => c.code).filter((c) => !seen.has(c)), []);
});
