// Framework middleware: deny by default (a request reaches the handler only
// when the engine allowed it), denials answered with the decision's exact
// status, headers and body, the principal exposed to the handler.
// Web-standard APIs only (Request, Response, Headers): runs at the edge too.

import { isThenable } from './args.js';
import { grouped, targetOf } from './request.js';

/** Where a Web-standard answer's raw request target comes from: Node's own request when the adapter exposes it. */
function rawTarget(env) {
  const incoming = env && typeof env === 'object' ? env.incoming : undefined;
  if (incoming && typeof incoming.url === 'string') return incoming.url;
  return undefined;
}

const encoder = new TextEncoder();

export function middleware(kp) {
  const Verifier = kp.Verifier;

  function check(verifier) {
    if (!(verifier instanceof Verifier)) throw new TypeError('keyproof middleware takes a keyproof Verifier');
  }

  /**
   * Whether a handler's answer is a Response: of this realm, or another's or a
   * server's own (@hono/node-server answers with a lighter class that is no
   * `instanceof Response`, and its rate-limit headers were silently dropped).
   */
  function isResponse(value) {
    if (value instanceof Response) return true;
    return value !== null && typeof value === 'object' && typeof value.status === 'number' && typeof value.headers?.append === 'function';
  }

  /** A denial as a Web-standard Response. */
  function denialResponse(decision) {
    return new Response(decision.body, { status: decision.status, headers: decision.headers });
  }

  /**
   * Express 4 and 5: `app.use(keyproof.express(verifier))`; the principal is
   * `req.keyproof`, the decision `res.locals.keyproof`.
   */
  function express(verifier, { clientIp, usageCost } = {}) {
    check(verifier);
    return function keyproofExpress(req, res, next) {
      let decision;
      try {
        decision = verifier.verify({
          method: req.method,
          path: req.originalUrl ?? req.url,
          headers: req.rawHeaders ?? req.headers,
          clientIp: clientIp ? clientIp(req) : (req.ip ?? req.socket?.remoteAddress ?? null),
          usageCost: usageCost ? usageCost(req) : null,
        });
      } catch (e) {
        next(e);
        return;
      }
      const handle = (d) => {
        if (!d.allowed) {
          res.statusCode = d.status;
          for (const [name, value] of Object.entries(grouped(d.headers))) res.setHeader(name, value);
          res.end(d.body ?? undefined);
          return;
        }
        for (const [name, value] of Object.entries(grouped(d.headers))) res.setHeader(name, value);
        req.keyproof = d.principal;
        if (res.locals) res.locals.keyproof = d;
        next();
      };
      if (isThenable(decision)) decision.then(handle, next);
      else handle(decision);
    };
  }

  /**
   * Fastify 5 plugin: `fastify.register(keyproof.fastify, { verifier })`; the
   * principal is `request.keyproof`. Applies to the scope it is registered in
   * and its children (register it at the root to protect every route).
   */
  function fastify(instance, options, done) {
    const { verifier, clientIp, usageCost } = options ?? {};
    check(verifier);
    instance.decorateRequest('keyproof', null);
    instance.decorateRequest('keyproofDecision', null);
    instance.addHook('onRequest', (request, reply, next) => {
      let decision;
      try {
        decision = verifier.verify({
          method: request.raw.method,
          path: request.raw.url,
          headers: request.raw.rawHeaders ?? request.headers,
          clientIp: clientIp ? clientIp(request) : (request.ip ?? null),
          usageCost: usageCost ? usageCost(request) : null,
        });
      } catch (e) {
        next(e);
        return;
      }
      const handle = (d) => {
        const headers = grouped(d.headers);
        if (!d.allowed) {
          // Bytes, so Fastify sends the body and its Content-Type exactly as decided.
          reply.code(d.status).headers(headers).send(d.body === null ? undefined : encoder.encode(d.body));
          return;
        }
        reply.headers(headers);
        request.keyproof = d.principal;
        request.keyproofDecision = d;
        next();
      };
      if (isThenable(decision)) decision.then(handle, next);
      else handle(decision);
    });
    done();
  }
  // Like fastify-plugin: the hook applies to the parent scope, not a new encapsulated one.
  fastify[Symbol.for('skip-override')] = true;
  fastify[Symbol.for('fastify.display-name')] = 'keyproof';
  fastify[Symbol.for('plugin-meta')] = { fastify: '5.x', name: 'keyproof' };

  /**
   * Hono 4: `app.use('/v1/*', keyproof.hono(verifier))`; the principal is
   * `c.get('keyproof')`, the decision `c.get('keyproofDecision')`.
   */
  function hono(verifier, { clientIp, usageCost } = {}) {
    check(verifier);
    return async function keyproofHono(c, next) {
      const raw = c.req.raw;
      const incoming = c.env && typeof c.env === 'object' ? c.env.incoming : undefined;
      const d = await verifier.verify({
        method: raw.method,
        path: rawTarget(c.env) ?? targetOf(raw.url),
        headers: incoming?.rawHeaders ?? raw.headers,
        clientIp: clientIp ? clientIp(c) : (incoming?.socket?.remoteAddress ?? null),
        usageCost: usageCost ? usageCost(c) : null,
      });
      if (!d.allowed) return denialResponse(d);
      c.set('keyproof', d.principal);
      c.set('keyproofDecision', d);
      for (const [name, value] of d.headers) c.header(name, value, { append: true });
      await next();
      return undefined;
    };
  }

  const principals = new WeakMap();

  /**
   * Web standard: wraps a `(request, ...rest) => Response` handler (Next.js
   * route handlers, Bun.serve, Deno.serve, Workers). Inside the handler,
   * `keyproof.principalOf(request)` is the caller.
   */
  function fetchWrapper(verifier, handler, { clientIp, usageCost } = {}) {
    check(verifier);
    if (typeof handler !== 'function') throw new TypeError('keyproof.fetch(verifier, handler) needs a handler');
    return async function keyproofFetch(request, ...rest) {
      const d = await verifier.verify({
        method: request.method,
        path: targetOf(request.url),
        headers: request.headers,
        clientIp: clientIp ? clientIp(request, ...rest) : null,
        usageCost: usageCost ? usageCost(request, ...rest) : null,
      });
      if (!d.allowed) return denialResponse(d);
      principals.set(request, d);
      const response = await handler(request, ...rest);
      if (d.headers.length === 0 || !isResponse(response)) return response;
      try {
        for (const [name, value] of d.headers) response.headers.append(name, value);
        return response;
      } catch {
        // Immutable headers (e.g. a fetched response): answer with a copy.
        const copy = new Response(response.body, response);
        for (const [name, value] of d.headers) copy.headers.append(name, value);
        return copy;
      }
    };
  }

  return {
    express,
    fastify,
    hono,
    fetch: fetchWrapper,
    /** The principal of a request the fetch wrapper allowed, or `null`. */
    principalOf: (request) => principals.get(request)?.principal ?? null,
    /** The decision of a request the fetch wrapper allowed, or `null`. */
    decisionOf: (request) => principals.get(request) ?? null,
    targetOf,
  };
}
