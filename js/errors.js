// Error classes: KeyproofError and one subclass per core error family. The
// code → family table comes from the native engine (core's catalogue).

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Base class of every keyproof error: `.code` is the stable core code. */
export class KeyproofError extends Error {
  /**
   * @param {string} message never a secret (core messages show previews only)
   * @param {{code: string, family: string, description?: string, status?: number, data?: object, cause?: unknown}} info
   */
  constructor(message, info) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = new.target.name;
    /** @type {string} */
    this.code = info.code;
    /** @type {string} */
    this.family = info.family;
    /** @type {string | undefined} */
    this.description = info.description;
    if (info.status !== undefined) this.status = info.status;
    /** @type {Record<string, unknown>} */
    this.data = info.data ?? {};
  }
}

export class KeyFormatError extends KeyproofError {}
export class CredentialError extends KeyproofError {}
export class AuthenticationError extends KeyproofError {}
export class AuthorizationError extends KeyproofError {}
export class RateLimitError extends KeyproofError {}
export class ConfigError extends KeyproofError {}
export class RandomnessError extends KeyproofError {}

/** Class per family. */
export const FAMILY_CLASSES = {
  key_format: KeyFormatError,
  credential: CredentialError,
  authentication: AuthenticationError,
  authorization: AuthorizationError,
  rate_limit: RateLimitError,
  config: ConfigError,
  randomness: RandomnessError,
};

/**
 * Builds the converter from native errors to keyproof errors.
 * @param {{errorCodes(): {code: string, family: string, description: string}[]}} native
 */
export function errorTools(native) {
  /** @type {Map<string, {code: string, family: string, description: string}>} */
  const catalogue = new Map(native.errorCodes().map((e) => [e.code, e]));

  /** A keyproof error for a core code. */
  function make(code, message, extra = {}) {
    const entry = catalogue.get(code);
    const family = entry ? entry.family : 'config';
    const Class = FAMILY_CLASSES[family] ?? KeyproofError;
    return new Class(message, { code, family, description: entry?.description, ...extra });
  }

  /** Converts what a native call threw. */
  function convert(e) {
    if (e instanceof KeyproofError) return e;
    const code = e && typeof e === 'object' ? e.code : undefined;
    if (typeof code === 'string' && catalogue.has(code)) return make(code, String(e.message));
    if (e instanceof Error && typeof code === 'string') {
      const t = new TypeError(e.message);
      t.code = code;
      return t;
    }
    return e;
  }

  /** Runs a native call, converting its errors. */
  function call(fn) {
    try {
      return fn();
    } catch (e) {
      throw convert(e);
    }
  }

  return { catalogue, make, convert, call };
}

// Errors carry nothing secret, but keep `inspect` output to the useful fields.
KeyproofError.prototype[INSPECT] = function inspectError(depth, options, inspect) {
  const shown = { code: this.code, family: this.family, ...(this.status ? { status: this.status } : {}) };
  const fields = inspect ? inspect(shown, options) : JSON.stringify(shown);
  return `${this.stack ?? `${this.name}: ${this.message}`} ${fields}`;
};
