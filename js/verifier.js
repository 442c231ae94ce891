// The Verifier: the I/O around core's host loop (keyproof::Completion). Core
// decides and says what to do next (look a record up, load the rate-limit
// state, compare-and-set it — again after a lost race —, save an upgraded
// record, write the last use); the verifier does it, with synchronous or
// asynchronous callbacks. One native call runs the loop while the callbacks
// answer synchronously; an asynchronous answer continues it here, awaited.

import { MemoryRateLimitStore } from './store.js';
import { isThenable, nowMs } from './args.js';
import { recordFromStorage } from './records.js';
import { requestParts } from './request.js';

/** What `act` answers the native loop (js/NATIVE.md). */
const DONE = 1;
const LOST = 0;
const STOP = -1;
const CONTENDED = 'keyproof: the rate-limit store kept refusing the compare-and-set';
const stop = () => false;
/** The constructor of every `async function`. */
const AsyncFunction = (async () => {}).constructor;
const stopAct = () => STOP;

/**
 * The Verifier class over one engine's classes.
 * @param {{errors: {convert: Function, call: Function}, Engine: Function, Decision: Function, PreparedRecord: Function, recordInput: Function}} ctx
 */
export function verifierClass({ errors, Engine, Decision, PreparedRecord, recordInput, usage, charge, refund, maxTries }) {
  /**
   * Verifies requests: the engine decides, the verifier does the I/O (record
   * lookup, rate-limit state) around the step.
   */
  class Verifier {
    /**
     * @param {Engine} engine
     * @param {{lookup: Function, save?: Function, touch?: Function, count?: Function, onDecision?: Function, rateLimits?: object, now?: () => (Date | number)}} options
     *   `touch(keyId, at)` writes `at` as the key's last use when core asks (write it only if newer);
     *   `count(keyId)` adds one to the key's request count (each allowed request, last);
     *   `onDecision(decision, {method, path, clientIp})` sees every final decision (an audit
     *   log: middlewares answer denials themselves; `decision.keyId` names an identified key)
     */
    constructor(engine, { lookup, save, touch, count, onDecision, rateLimits, now } = {}) {
      if (!(engine instanceof Engine)) throw new TypeError('new Verifier(engine, …) takes a keyproof Engine');
      if (typeof lookup !== 'function') throw new TypeError('new Verifier(engine, {lookup}) needs a lookup function');
      this.engine = engine;
      this.lookup = lookup;
      this.save = save;
      this.touch = touch;
      this.count = count;
      this.onDecision = onDecision;
      this.rateLimits = rateLimits ?? new MemoryRateLimitStore();
      this.now = now;
      /** Lookups awaited now, by hash: concurrent requests for one key share one. */
      this._inflight = new Map();
      // Per-call scratch for the synchronous callbacks (verify never re-enters itself).
      this._pending = undefined;
      this._thrown = undefined;
      this._hasThrown = false;
      this._lookupCb = (hash) => {
        let found;
        try {
          found = this._sharedLookup(hash);
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
      this._actCb = (action) => {
        let out;
        try {
          out = this._act(action);
        } catch (e) {
          this._thrown = e;
          this._hasThrown = true;
          return STOP;
        }
        if (isThenable(out)) {
          this._pending = out;
          return STOP;
        }
        return action.kind !== 'compare_and_set' || out ? DONE : LOST;
      };
    }

    /**
     * `lookup(hash)`; while its promise is pending, later requests for the same hash
     * get that promise instead of a lookup of their own (a hot key whose cached
     * record expired costs one query, not one per request in flight).
     */
    _sharedLookup(hash) {
      const pending = this._inflight.get(hash);
      if (pending !== undefined) return pending;
      const found = this.lookup(hash);
      if (!isThenable(found)) return found;
      const shared = Promise.resolve(found).finally(() => this._inflight.delete(hash));
      this._inflight.set(hash, shared);
      return shared;
    }

    /**
     * Hands a final decision to `onDecision` with the request's method, path and
     * client address; the decision, or a Promise of it when the hook returned one.
     * The hook's errors propagate.
     */
    _observed(decision, r) {
      if (this.onDecision === undefined) return decision;
      const seen = this.onDecision(decision, { method: r.method, path: r.path, clientIp: r.clientIp });
      return isThenable(seen) ? Promise.resolve(seen).then(() => decision) : decision;
    }

    /** `hostWrites` for the native loop: saves (1), touches (2), counts (4) (js/NATIVE.md). */
    _writes() {
      return (this.save === undefined ? 0 : 1) | (this.touch === undefined ? 0 : 2) | (this.count === undefined ? 0 : 4);
    }

    /** Does a compare-and-set, save, touch or count action; its answer (maybe a promise). */
    _act(action) {
      if (action.kind === 'compare_and_set') {
        const w = action.write;
        return this.rateLimits.compareAndSet(w.key, w.expected, w.new, w.ttl_seconds);
      }
      if (action.kind === 'save_record') return this.save === undefined ? undefined : this.save(recordFromStorage(action.record));
      if (action.kind === 'touch_last_used') return this.touch === undefined ? undefined : this.touch(action.value, new Date(action.at));
      if (action.kind === 'count_request') return this.count === undefined ? undefined : this.count(action.value);
      return undefined;
    }

    /**
     * Verifies a request `{method, path, headers, clientIp?, now?, usageCost?}`
     * (`path`: the raw request target as sent; `usageCost`: what the request spends
     * of a usage-limited key's allowance, default its route's cost, 0 a check
     * that spends nothing). Returns the Decision, or a Promise of it when
     * the lookup or the rate-limit store answered asynchronously.
     * @returns {Decision | Promise<Decision>}
     */
    verify(request) {
      const r = requestParts(request, this.engine._reads);
      const at = nowMs(request.now ?? (this.now ? this.now() : undefined));
      this._pending = undefined;
      this._hasThrown = false;
      let out;
      try {
        const writes = this._writes();
        const n = this.engine.native;
        out = n.verify(r.method, r.path, r.headers, r.clientIp, at, this._lookupCb, this._stateCb, this._actCb, writes, r.usageCost);
      } catch (e) {
        throw errors.convert(e);
      }
      if (this._hasThrown) {
        const e = this._thrown;
        this._thrown = undefined;
        throw e;
      }
      if (typeof out === 'string') return this._observed(new Decision(out), r);
      const pending = this._pending;
      this._pending = undefined;
      if (pending === undefined) throw new Error(CONTENDED); // stopped without waiting on anything
      return this._continue(out, pending).then((d) => this._observed(d, r));
    }

    /**
     * What `record` has left of its usage limit (`remaining`, `limit`, `resetSeconds`),
     * read from this verifier's rate-limit store (a Promise when the store answers
     * asynchronously); `null` without a usage limit.
     */
    usage(record, { now } = {}) {
      const at = nowMs(now ?? (this.now ? this.now() : undefined));
      const counter = usage(record, null, { now: at });
      if (counter === null) return null;
      const state = this.rateLimits.get(counter.key);
      if (isThenable(state)) return Promise.resolve(state).then((s) => usage(record, s ?? null, { now: at }));
      return usage(record, state ?? null, { now: at });
    }

    /**
     * Charges `units` to `record`'s usage limit after the fact (a request's cost known once
     * answered: tokens generated, rows exported) in this verifier's store, by compare-and-set:
     * what was left is spent, the rest is `unpaid`; `usage` is what is left. `null` without a
     * limit; a Promise when the store answers asynchronously.
     */
    charge(record, units, { now } = {}) {
      return this._settle(record, units, now, charge);
    }

    /**
     * Gives back `units` of what `record` spent this period (an estimate settled lower, a
     * failed job), at most that (the rest is `unpaid`), by compare-and-set in the store.
     */
    refund(record, units, { now } = {}) {
      return this._settle(record, units, now, refund);
    }

    /** Reads the usage counter, settles (`charge` or `refund`), compare-and-sets; again after a lost race. */
    _settle(record, units, now, settle) {
      const at = nowMs(now ?? (this.now ? this.now() : undefined));
      const counter = usage(record, null, { now: at });
      if (counter === null) return null;
      const then = (value, next) => (isThenable(value) ? Promise.resolve(value).then(next) : next(value));
      const attempt = (state, tries) => {
        const c = settle(record, units, state ?? null, { now: at });
        const w = c.write;
        if (w === null) return c;
        return then(this.rateLimits.compareAndSet(w.key, w.expected, w.new, w.ttlSeconds), (won) => {
          if (won) return c;
          if (tries + 1 >= maxTries) throw new Error(CONTENDED);
          return then(this.rateLimits.get(counter.key), (fresh) => attempt(fresh, tries + 1));
        });
      };
      return then(this.rateLimits.get(counter.key), (state) => attempt(state, 0));
    }

    /**
     * Like verify(), but refuses asynchronous lookups and stores. An `async`
     * onDecision is refused before anything runs: the hook would otherwise have
     * started (its side effects with it) by the time its promise is seen.
     */
    verifySync(request) {
      if (this.onDecision instanceof AsyncFunction) {
        throw new TypeError('onDecision is asynchronous: use await verifier.verify()');
      }
      const d = this.verify(request);
      if (isThenable(d)) {
        d.catch(() => {});
        throw new TypeError('the lookup, rate-limit store or onDecision is asynchronous: use await verifier.verify()');
      }
      return d;
    }

    /** The rest of the loop, awaiting each answer: `pending` answers the action the native loop stopped on. */
    async _continue(c, pending) {
      for (;;) {
        const action = errors.call(() => c.nextAction());
        const kind = action.kind;
        if (kind === 'done') return this._decided(c);
        if (kind === 'store_contended') throw new Error(CONTENDED);
        let answer;
        if (pending !== undefined) answer = await pending;
        else if (kind === 'lookup_record') answer = await this._sharedLookup(action.value);
        else if (kind === 'load_rate_state') answer = await this.rateLimits.get(action.value);
        else answer = await this._act(action);
        pending = undefined;
        this._answer(c, kind, answer);
      }
    }

    /**
     * The loop started with no I/O done: `[out, r]`, a Decision or the native
     * Completion at its first action, and the request's parts (for `_observed`).
     */
    _begin(request) {
      const r = requestParts(request, this.engine._reads);
      const at = nowMs(request.now ?? (this.now ? this.now() : undefined));
      const writes = this._writes();
      const out = errors.call(() => this.engine.native.verify(r.method, r.path, r.headers, r.clientIp, at, stop, stop, stopAct, writes, r.usageCost));
      return [typeof out === 'string' ? new Decision(out) : out, r];
    }

    /** Gives the native Completion the answer to its action of `kind`. */
    _answer(c, kind, answer) {
      errors.call(() => {
        if (kind === 'lookup_record') c.record(recordInput(answer));
        else if (kind === 'load_rate_state') c.rateState(answer ?? null);
        else if (kind === 'compare_and_set') c.written(Boolean(answer));
        else if (kind === 'save_record') c.saved();
        else if (kind === 'touch_last_used') c.touched();
        else if (kind === 'count_request') c.counted();
      });
    }

    /** The decision the native Completion reached. */
    _decided(c) {
      return new Decision(errors.call(() => c.decided()));
    }
  }

  return Verifier;
}
