// The request as the native engine takes it: method, raw request target,
// headers as a flat `[name, value …]` list, client IP. Conversion only, no rule.

/** Whether a header named `name` is kept: every header without `reads`, else the names in it (any case). */
function kept(reads, name) {
  return reads === undefined || reads.has(name) || reads.has(String(name).toLowerCase());
}

/**
 * Headers of any common shape as a flat `[name, value …]` list (duplicates kept).
 * With `reads` (the engine's `credentialHeaders`, lowercase), only those headers:
 * verification reads no other, so the rest never crosses into the engine.
 */
export function flatHeaders(headers, reads) {
  if (headers === undefined || headers === null) return [];
  const out = [];
  if (Array.isArray(headers)) {
    if (headers.length === 0) return headers;
    if (typeof headers[0] === 'string') {
      if (reads === undefined) return headers;
      for (let i = 0; i + 1 < headers.length; i += 2) if (kept(reads, headers[i])) out.push(headers[i], headers[i + 1]);
      return out;
    }
    for (const [name, value] of headers) if (kept(reads, name)) out.push(String(name), String(value));
    return out;
  }
  if (typeof headers.forEach === 'function' && typeof headers.get === 'function') {
    headers.forEach((value, name) => {
      if (kept(reads, name)) out.push(name, value);
    });
    return out;
  }
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || !kept(reads, name)) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, String(v));
    else out.push(name, String(value));
  }
  return out;
}

/** Header pairs grouped by name (a name may repeat), as Node's `setHeader` takes them. */
export function grouped(pairs) {
  const out = {};
  for (const [name, value] of pairs) {
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}

/** The raw request target (path and query, as sent) of an absolute URL string. */
export function targetOf(url) {
  const scheme = url.indexOf('://');
  if (scheme < 0) return url;
  const slash = url.indexOf('/', scheme + 3);
  if (slash < 0) return '/';
  const hash = url.indexOf('#', slash);
  return hash < 0 ? url.slice(slash) : url.slice(slash, hash);
}

/** `{method, path, headers, clientIp}` of a request object (`path`, or the target of `url`). */
export function requestParts(request, reads) {
  if (request === null || typeof request !== 'object') throw new TypeError('verify() takes a request object');
  const method = request.method ?? 'GET';
  const path = request.path ?? (typeof request.url === 'string' ? targetOf(request.url) : undefined);
  if (typeof path !== 'string') throw new TypeError('the request needs a path (the raw request target)');
  const clientIp = request.clientIp ?? null;
  const usageCost = request.usageCost ?? null;
  if (usageCost !== null && typeof usageCost !== 'number') throw new TypeError('usageCost must be a number of usage units');
  return { method, path, headers: flatHeaders(request.headers, reads), clientIp, usageCost };
}
