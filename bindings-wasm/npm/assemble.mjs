// Assembles the npm package in bindings-wasm/pkg/ from the wasm-bindgen output
// (glue, types, the wasm-opt'd module), the shared JS layer (`js/`, bundled as
// one ES module, the same source the Node package bundles) and the entries in
// this directory. Called by build.sh: `node npm/assemble.mjs <gen dir> <out dir>`.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const crate = path.dirname(here);
const root = path.dirname(crate);
const [gen, out] = process.argv.slice(2);
if (!gen || !out) throw new Error('usage: node assemble.mjs <wasm-bindgen dir> <out dir>');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// The engine: wasm-bindgen's ES-module glue (`--target web`), its types, and the optimised module.
copyFileSync(path.join(gen, 'keyproof_wasm.js'), path.join(out, 'keyproof_wasm.js'));
copyFileSync(path.join(gen, 'keyproof_wasm.d.ts'), path.join(out, 'keyproof_wasm.d.ts'));
copyFileSync(path.join(gen, 'keyproof.wasm'), path.join(out, 'keyproof.wasm'));

// The shared layer, bundled from js/ (one file, no runtime-specific import).
const esbuild = createRequire(import.meta.url)(path.join(crate, 'node_modules', 'esbuild'));
esbuild.buildSync({
  entryPoints: [path.join(root, 'js', 'index.js')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  outfile: path.join(out, 'shared.js'),
  banner: { js: '// keyproof shared JS layer (bundled from js/ of the keyproof repository).' },
  logLevel: 'warning',
});

for (const file of ['native.js', 'manual.js', 'manual.d.ts']) copyFileSync(path.join(here, file), path.join(out, file));

// Every runtime entry exports the API object (default) and its members (named),
// exactly the names the shared layer's `createKeyproof` returns.
const { fromModule } = await import(pathToFileURL(path.join(out, 'manual.js')).href);
const api = fromModule(readFileSync(path.join(out, 'keyproof.wasm')));
const names = Object.keys(api).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
const exportsBlock = `\nexport default keyproof;\nexport const {\n${names.map((n) => `  ${n},`).join('\n')}\n} = keyproof;\n`;
for (const entry of ['workerd.js', 'node.js', 'deno.js', 'browser.js']) {
  writeFileSync(path.join(out, entry), readFileSync(path.join(here, entry), 'utf8') + exportsBlock);
}

// Types: the shared layer's declarations of the API (js/keyproof.d.ts, the
// file the Node package ships too), re-exported by index.d.ts.
copyFileSync(path.join(root, 'js', 'keyproof.d.ts'), path.join(out, 'keyproof.d.ts'));
writeFileSync(
  path.join(out, 'index.d.ts'),
  "// Types of @keyproof/wasm: the keyproof API (js/keyproof.d.ts, the same as the Node package's).\n" +
    "export * from './keyproof.js';\nimport keyproof from './keyproof.js';\nexport default keyproof;\n",
);

const pkg = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
if (pkg.version !== api.version) throw new Error(`npm/package.json says ${pkg.version}, the crate ${api.version}`);
writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
copyFileSync(path.join(crate, 'README.md'), path.join(out, 'README.md'));

const wasm = readFileSync(path.join(out, 'keyproof.wasm'));
const raw = wasm.length;
const gz = gzipSync(wasm, { level: 9 }).length;
writeFileSync(path.join(gen, 'size.json'), `${JSON.stringify({ raw, gzip: gz })}\n`);
console.log(`@keyproof/wasm ${pkg.version} in ${path.relative(root, out)}: keyproof.wasm ${(raw / 1024).toFixed(1)} KiB raw, ${(gz / 1024).toFixed(1)} KiB gzip -9; ${names.length} exports`);
