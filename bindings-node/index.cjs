'use strict';
// keyproof for Node (CommonJS entry; the ESM entry re-exports this one, so both
// share one set of classes). The native engine is the napi-rs addon built from
// this crate; everything above it is the shared layer from the repository's
// `js/` directory, bundled into dist/ at build time.
const { createKeyproof } = require('./dist/keyproof-shared.cjs');

function loadNative() {
  const name = `keyproof.${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}.node`;
  try {
    return require(`./${name}`);
  } catch (e) {
    const err = new Error(`keyproof: no prebuilt engine ${name} for this platform (${e && e.message})`);
    err.code = 'ERR_KEYPROOF_NATIVE';
    throw err;
  }
}

// Records from a lookup cross as JSON text: faster through napi than a per-property walk.
module.exports = createKeyproof(loadNative(), { recordsAsText: true });
