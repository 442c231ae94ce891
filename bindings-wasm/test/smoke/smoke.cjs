// CommonJS consumers: require() of the ES-module package (Node >= 20.19).
const keyproof = require('@keyproof/wasm');
const kp = keyproof.default ?? keyproof;
const engine = new kp.Engine({ formats: ['keyproof_live'], policy: { routes: [{ method: 'GET', path: '/' }] } });
const minted = engine.mint({ name: 'CJS key' });
const d = new kp.Verifier(engine, { lookup: () => minted.record }).verifySync({
  method: 'GET',
  path: '/',
  headers: { authorization: `Bearer ${minted.key}` },
});
if (d.status !== 200) throw new Error(`require(): ${d.status} ${d.code}`);
console.log(`node ${process.version} require(): @keyproof/wasm ${kp.version} ok`);
