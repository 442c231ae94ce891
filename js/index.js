// keyproof's shared JS layer: everything above a native engine (napi-rs addon
// or wasm-bindgen module, see NATIVE.md). Plain ESM with no runtime-specific
// API, so it runs in Node, Deno, Bun and edge workers alike. No verification
// rule lives here: the engine decides, this layer converts and does the I/O.

import {
  AuthenticationError,
  AuthorizationError,
  ConfigError,
  CredentialError,
  KeyFormatError,
  KeyproofError,
  RandomnessError,
  RateLimitError,
  errorTools,
} from './errors.js';
import { MintedKey, fromStorage, toStorage } from './records.js';
import { MemoryRateLimitStore } from './store.js';
import { middleware } from './middleware.js';
import { redisStores } from './redis.js';
import { recordCacheSync } from './redis-cache.js';
import { tokenTools } from './tokens.js';
import { flatHeaders, targetOf } from './request.js';
import { preparedRecords } from './prepared.js';
import { decisionClass } from './decision.js';
import { engineClasses } from './engine.js';
import { verifierClass } from './verifier.js';
import { freeFunctions } from './functions.js';

export { flatHeaders, targetOf };

/**
 * Creates the keyproof API over a native engine module.
 * @param {object} native the module (see NATIVE.md)
 * @param {{recordsAsText?: boolean}} [tuning] how values cross fastest into this
 *   engine: `recordsAsText` hands plain-object records over as JSON text (napi)
 */
export function createKeyproof(native, { recordsAsText = false } = {}) {
  const errors = errorTools(native);
  const call = errors.call;
  const { PreparedRecord, recordInput } = preparedRecords({ native, call, recordsAsText });
  const tokens = tokenTools({ native, call, recordInput, flatHeaders });
  const Decision = decisionClass({ errors, tokens });
  const { Engine, Verification } = engineClasses({ native, call, tokens, Decision, recordInput });
  const functions = freeFunctions({ native, call, PreparedRecord });
  const { usage, charge, refund } = functions;
  const maxTries = native.maxWriteTries();
  const Verifier = verifierClass({ errors, Engine, Decision, PreparedRecord, recordInput, usage, charge, refund, maxTries });

  const api = {
    Engine,
    Verifier,
    Verification,
    Decision,
    PreparedRecord,
    MintedKey,
    MemoryRateLimitStore,
    KeyproofError,
    KeyFormatError,
    CredentialError,
    AuthenticationError,
    AuthorizationError,
    RateLimitError,
    ConfigError,
    RandomnessError,
    version: native.version(),
    ...functions,
    toStorage,
    fromStorage,
    flatHeaders,
    ...tokens.api,
  };
  Object.assign(api, middleware(api));
  Object.assign(api, redisStores(api, { native, call }));
  Object.assign(api, recordCacheSync(api, native));
  return api;
}
