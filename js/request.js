// The request as the native engine takes it: method, raw request target,
// headers as a flat `[name, value …]` list, client IP. Conversion only, no rule.

/** Headers of any common shape as a flat `[name, value …]` list (duplicates kept). */
export function flatHeaders(headers) {
  if (headers === undefined || headers === null) return [];
  if (Array.isArray(headers)) {
    if (headers.length === 0 || typeof headers[0] === 'string') return headers;
    const out = [];
    for (const [name, value] of headers) out.push(String(name), String(value));
    return out;
  }
  const out = [];
  if (typeof headers.forEach === 'function' && typeof headers.get === 'function') {
    headers.forEach((value, name) => out.push(name, value));
    return out;
  }
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
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
export function requestParts(request) {
  if (request === null || typeof request !== 'object') throw new TypeError('verify() takes a request object');
  const method = request.method ?? 'GET';
  const path = request.path ?? (typeof request.url === 'string' ? targetOf(request.url) : undefined);
  if (typeof path !== 'string') throw new TypeError('the request needs a path (the raw request target)');
  const clientIp = request.clientIp ?? null;
  return { method, path, headers: flatHeaders(request.headers), clientIp };
}
