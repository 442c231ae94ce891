// Executes every ```js block of README.md exactly as written (as a module inside
// the package, so `import 'keyproof'` resolves to it) and checks each
// `// prints:` line against what the block printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(path.join(PKG, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

test('the README has the mint/verify, record cache, Express, Hono and access-token quickstarts', () => {
  assert.equal(blocks.length, 5);
});

blocks.forEach((code, i) => {
  test(`README example ${i + 1} runs as written`, () => {
    const dir = path.join(PKG, '.readme-test');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `example${i + 1}.mjs`);
    writeFileSync(file, code);
    try {
      const out = execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
      const expected = [...code.matchAll(/\/\/ prints: (.*)/g)].map((m) => m[1]);
      assert.ok(expected.length > 0);
      assert.deepEqual(out.trim().split('\n'), expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
