// Assembles the npm package in bindings-wasm/pkg/ from the wasm-bindgen output
// (glue, types, the wasm-opt'd module), the shared JS layer (`js/`, bundled as
// one ES module, the same source the Node package bundles) and the entries in
// this directory. Called by build.sh: `node npm/assemble.mjs <gen dir> <out dir>`.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
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
copyFileSync(path.join(gen, 'keyproof.js'), path.join(out, 'keyproof.js'));
copyFileSync(path.join(gen, 'keyproof.d.ts'), path.join(out, 'keyproof.d.ts'));
copyFileSync(path.join(gen, 'keyproof_bg.opt.wasm'), path.join(out, 'keyproof_bg.wasm'));

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

for (const file of ['manual.js', 'manual.d.ts']) copyFileSync(path.join(here, file), path.join(out, file));

// Every runtime entry exports the API object (default) and its members (named),
// exactly the names the shared layer's `createKeyproof` returns.
const { fromModule } = await import(pathToFileURL(path.join(out, 'manual.js')).href);
const api = fromModule(readFileSync(path.join(out, 'keyproof_bg.wasm')));
const names = Object.keys(api).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
const exportsBlock = `\nexport default keyproof;\nexport const {\n${names.map((n) => `  ${n},`).join('\n')}\n} = keyproof;\n`;
for (const entry of ['workerd.js', 'node.js', 'deno.js', 'browser.js']) {
  writeFileSync(path.join(out, entry), readFileSync(path.join(here, entry), 'utf8') + exportsBlock);
}

// Types: the Node package's hand-written declarations of the shared API (one
// API, one set of types), with the native engine's types from wasm-bindgen.
const dts = readFileSync(path.join(root, 'bindings-node', 'index.d.ts'), 'utf8');
const nativeImport = "import type * as Native from './native';";
if (!dts.includes(nativeImport)) throw new Error(`bindings-node/index.d.ts no longer has ${nativeImport}`);
writeFileSync(
  path.join(out, 'index.d.ts'),
  dts
    .replace(/^\/\/ Types of the keyproof Node package[^\n]*\n(\/\/[^\n]*\n)*/, '// Types of @keyproof/wasm: the keyproof API (the same as the keyproof Node package), over the wasm engine.\n')
    .replace(nativeImport, "import type * as Native from './keyproof.js';"),
);

const pkg = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
if (pkg.version !== api.version) throw new Error(`npm/package.json says ${pkg.version}, the crate ${api.version}`);
writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
copyFileSync(path.join(crate, 'README.md'), path.join(out, 'README.md'));

const wasm = readFileSync(path.join(out, 'keyproof_bg.wasm'));
const raw = statSync(path.join(out, 'keyproof_bg.wasm')).size;
const gz = gzipSync(wasm, { level: 9 }).length;
writeFileSync(path.join(gen, 'size.json'), `${JSON.stringify({ raw, gzip: gz })}\n`);
console.log(`@keyproof/wasm ${pkg.version} in ${path.relative(root, out)}: keyproof_bg.wasm ${(raw / 1024).toFixed(1)} KiB raw, ${(gz / 1024).toFixed(1)} KiB gzip -9; ${names.length} exports`);
