// The Verifier: the loop around the engine's step. The engine decides; the
// verifier does the I/O (record lookup, rate-limit state and its
// compare-and-set write, saving an upgraded record, the last-used hint), with
// synchronous or asynchronous callbacks.

import { MemoryRateLimitStore } from './store.js';
import { isThenable, nowMs } from './args.js';
import { requestParts } from './request.js';

/**
 * The Verifier class over one engine's classes.
 * @param {{errors: {convert: Function}, Engine: Function, Verification: Function, Decision: Function, PreparedRecord: Function, recordInput: Function}} ctx
 */
export function verifierClass({ errors, Engine, Verification, Decision, PreparedRecord, recordInput }) {
  const MAX_CAS_TRIES = 32;

  /**
   * Verifies requests: the engine decides, the verifier does the I/O (record
   * lookup, rate-limit state) around the step.
   */
  class Verifier {
    /**
     * @param {Engine} engine
     * @param {{lookup: Function, save?: Function, touch?: Function, rateLimits?: object, now?: () => (Date | number)}} options
     *   `touch(keyId, at)` writes `at` as the key's last use when core asks (write it only if newer)
     */
    constructor(engine, { lookup, save, touch, rateLimits, now } = {}) {
      if (!(engine instanceof Engine)) throw new TypeError('new Verifier(engine, …) takes a keyproof Engine');
      if (typeof lookup !== 'function') throw new TypeError('new Verifier(engine, {lookup}) needs a lookup function');
      this.engine = engine;
      this.lookup = lookup;
      this.save = save;
      this.touch = touch;
      this.rateLimits = rateLimits ?? new MemoryRateLimitStore();
      this.now = now;
      // Per-call scratch for the synchronous callbacks (verify never re-enters itself).
      this._pending = undefined;
      this._thrown = undefined;
      this._hasThrown = false;
      this._lookupCb = (hash) => {
        let found;
        try {
          found = this.lookup(hash);
        } catch (e) {
          this._thrown = e;
          this._hasThrown = true;
          return false;
        }
        if (found instanceof PreparedRecord) return found.native;
        if (found === null || found === undefined) return null;
        if (isThenable(found)) {
          this._pending = found;
          return false;
        }
        try {
          return recordInput(found);
        } catch (e) {
          this._thrown = e;
          this._hasThrown = true;
          return false;
        }
      };
      this._stateCb = (key) => {
        let state;
        try {
          state = this.rateLimits.get(key);
        } catch (e) {
          this._thrown = e;
          this._hasThrown = true;
          return false;
        }
        if (isThenable(state)) {
          this._pending = state;
          return false;
        }
        return state ?? null;
      };
    }

    /**
     * Verifies a request `{method, path, headers, clientIp?, now?}` (`path`: the
     * raw request target as sent). Returns the Decision, or a Promise of it when
     * the lookup or the rate-limit store answered asynchronously.
     * @returns {Decision | Promise<Decision>}
     */
    verify(request) {
      const r = requestParts(request);
      const at = nowMs(request.now ?? (this.now ? this.now() : undefined));
      for (let tries = 0; ; tries++) {
        this._pending = undefined;
        this._hasThrown = false;
        let out;
        try {
          out = this.engine.native.verify(r.method, r.path, r.headers, r.clientIp, at, this._lookupCb, this._stateCb);
        } catch (e) {
          throw errors.convert(e);
        }
        if (this._hasThrown) {
          const e = this._thrown;
          this._thrown = undefined;
          throw e;
        }
        if (typeof out !== 'string') {
          const pending = this._pending;
          this._pending = undefined;
          return this._continue(out, pending);
        }
        const decision = new Decision(out);
        if (decision._flags !== '-' && decision._flags.includes('w')) {
          const w = decision._restObject().rate_write;
          const done = this.rateLimits.compareAndSet(w.key, w.expected, w.new, w.ttl_seconds);
          if (isThenable(done)) return this._afterWrite(done, decision, request, tries);
          if (!done) {
            if (tries < MAX_CAS_TRIES) continue;
            throw new Error('keyproof: the rate-limit store kept refusing the compare-and-set');
          }
        }
        return this._saved(decision);
      }
    }

    /** Like verify(), but refuses asynchronous lookups and stores. */
    verifySync(request) {
      const d = this.verify(request);
      if (isThenable(d)) {
        d.catch(() => {});
        throw new TypeError('the lookup or rate-limit store is asynchronous: use await verifier.verify()');
      }
      return d;
    }

    async _afterWrite(done, decision, request, tries) {
      if (await done) return this._saved(decision);
      if (tries >= MAX_CAS_TRIES) throw new Error('keyproof: the rate-limit store kept refusing the compare-and-set');
      return this.verify(request);
    }

    /** Saves an upgraded record, then writes the last use, as the decision asks. */
    _saved(decision) {
      if (this.save === undefined || !decision._flags.includes('u')) return this._touched(decision);
      const record = decision.upgradedRecord;
      if (record === null) return this._touched(decision);
      const saved = this.save(record);
      return isThenable(saved) ? Promise.resolve(saved).then(() => this._touched(decision)) : this._touched(decision);
    }

    _touched(decision) {
      if (this.touch === undefined || !decision._flags.includes('t')) return decision;
      const principal = decision.principal;
      if (principal === null) return decision;
      const touched = this.touch(principal.keyId, decision.touchLastUsed);
      return isThenable(touched) ? Promise.resolve(touched).then(() => decision) : decision;
    }

    async _continue(native_v, pending) {
      const v = new Verification(native_v);
      for (;;) {
        const step = v.nextStep();
        if (step.kind === 'lookup_record') {
          const found = pending !== undefined ? await pending : await this.lookup(step.value);
          pending = undefined;
          v.record(found);
        } else if (step.kind === 'load_rate_state') {
          const state = pending !== undefined ? await pending : await this.rateLimits.get(step.value);
          pending = undefined;
          v.rateState(state ?? null);
        } else {
          break;
        }
      }
      for (let tries = 0; ; tries++) {
        const w = v.rateWrite();
        if (w === null) break;
        if (await this.rateLimits.compareAndSet(w.key, w.expected, w.new, w.ttlSeconds)) break;
        if (tries >= MAX_CAS_TRIES) throw new Error('keyproof: the rate-limit store kept refusing the compare-and-set');
        v.rateState((await this.rateLimits.get(w.key)) ?? null);
      }
      const decision = v.finish();
      return this._saved(decision);
    }
  }

  return Verifier;
}
