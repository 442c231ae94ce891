// The token endpoint mounted in Node servers: an Express handler and a Fastify
// plugin around `TokenEndpoint#exchange`. Both hand core the request body
// exactly as sent (core refuses a repeated parameter, a wrong content type …),
// so neither lets a framework body parser read it first. I/O only, no rule.

import { grouped } from './request.js';

/** Token requests are a few hundred bytes; a body past this is not read. */
export const MAX_TOKEN_BODY_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/** An error Express and Fastify answer with `status`. */
function httpError(status, message) {
  return Object.assign(new Error(message), { status, statusCode: status });
}

/** The raw body of a Node request stream, as UTF-8 text. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_TOKEN_BODY_BYTES) {
        req.destroy();
        reject(httpError(413, `a token request body is at most ${MAX_TOKEN_BODY_BYTES} bytes`));
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Express 4 and 5: `app.post('/oauth/token', endpoint.express())`. Mount it
 * before any body parser for that path (or give it `express.text({type: '*\/*'})`'s
 * string): a body already parsed into an object is refused with a 500 that says so.
 */
export function tokenExpress(endpoint, { clientIp } = {}) {
  return async function keyproofTokenEndpoint(req, res, next) {
    try {
      let body = req.body;
      if (Buffer.isBuffer(body)) body = body.toString('utf8');
      else if (body === undefined || (typeof body === 'object' && body !== null && !req.readableEnded && Object.keys(body).length === 0)) {
        body = await readBody(req);
      } else if (typeof body !== 'string') {
        throw new TypeError('the token endpoint needs the raw request body: mount it before express.json() / express.urlencoded()');
      }
      const r = await endpoint.exchange({
        method: req.method,
        headers: req.rawHeaders ?? req.headers,
        body,
        clientIp: clientIp ? clientIp(req) : (req.ip ?? req.socket?.remoteAddress ?? null),
      });
      res.statusCode = r.status;
      for (const [name, value] of Object.entries(grouped(r.headers))) res.setHeader(name, value);
      res.end(r.body);
    } catch (e) {
      next(e);
    }
  };
}

/**
 * Fastify 5: `fastify.register(endpoint.fastify, { path: '/oauth/token' })`.
 * The route lives in its own scope, whose only body parser keeps every body as text.
 */
export function tokenFastify(endpoint) {
  function keyproofTokenEndpoint(instance, options, done) {
    const { path = '/oauth/token', clientIp } = options ?? {};
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_TOKEN_BODY_BYTES }, (_request, body, parsed) => parsed(null, body));
    instance.post(path, async (request, reply) => {
      const r = await endpoint.exchange({
        method: request.raw.method,
        headers: request.raw.rawHeaders ?? request.headers,
        body: typeof request.body === 'string' ? request.body : '',
        clientIp: clientIp ? clientIp(request) : (request.ip ?? null),
      });
      // Bytes, so Fastify sends the body and its Content-Type exactly as core rendered them.
      return reply.code(r.status).headers(grouped(r.headers)).send(encoder.encode(r.body));
    });
    done();
  }
  keyproofTokenEndpoint[Symbol.for('fastify.display-name')] = 'keyproof-token-endpoint';
  return keyproofTokenEndpoint;
}
