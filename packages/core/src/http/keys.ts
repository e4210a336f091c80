// The caller's API key from request headers, read the way that keeps a repeated header visible.

/** Request headers as Node parses them: lower-case names; an array for a repeated header. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The part of Node's `IncomingMessage` that `keyHeaders` reads. */
export interface NodeRequestHeaders {
  readonly headers: RequestHeaders;
  readonly headersDistinct?: RequestHeaders;
  readonly rawHeaders?: readonly string[];
}

/**
 * The headers an adapter passes in `RequestInfo.headers`: `X-API-Key` and `Authorization`, each
 * line of a repeated one kept apart, read from the Node request's `rawHeaders` (or
 * `headersDistinct`). `headers` would hide a repeat: Node joins repeated `X-API-Key` lines with
 * ", " and keeps only the first `Authorization`. Only these two are read, so nothing is built for
 * the request's other headers.
 */
export function keyHeaders(req: NodeRequestHeaders): RequestHeaders {
  const raw = req.rawHeaders;
  if (raw === undefined) return req.headersDistinct ?? req.headers;
  let apiKey: string[] | undefined;
  let authorization: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 9 && name.toLowerCase() === 'x-api-key') {
      apiKey ??= [];
      apiKey.push(raw[i + 1]!);
    } else if (name.length === 13 && name.toLowerCase() === 'authorization') {
      authorization ??= [];
      authorization.push(raw[i + 1]!);
    }
  }
  return { 'x-api-key': apiKey, authorization };
}

const BEARER = /^Bearer[ \t]+([^\s,]+)[ \t]*$/i;
const AMBIGUOUS = Symbol('ambiguous');

/**
 * The caller's API key from request headers: the `X-API-Key` header, else the token of
 * `Authorization: Bearer <token>`. Surrounding whitespace is ignored; an empty value counts as
 * absent. Returns undefined when neither gives a key, and when the header that would give it is
 * repeated (an array of several values): two keys in one request are ambiguous, and picking one
 * would let a client choose which bucket pays.
 */
export function apiKeyFromHeaders(headers: RequestHeaders): string | undefined {
  const apiKey = singleValue(headers['x-api-key']);
  if (apiKey === AMBIGUOUS) return undefined;
  const trimmed = apiKey?.trim();
  if (trimmed) return trimmed;
  const auth = singleValue(headers.authorization);
  return auth === undefined || auth === AMBIGUOUS ? undefined : BEARER.exec(auth.trim())?.[1];
}

/**
 * `apiKeyFromHeaders(keyHeaders(req))` without building anything: the request path's reading of
 * the key, one pass over `rawHeaders` that keeps the first value and the count of each of the two
 * headers (a repeat is ambiguous, as there).
 */
export function apiKeyOf(req: NodeRequestHeaders): string | undefined {
  const raw = req.rawHeaders;
  if (raw === undefined) return apiKeyFromHeaders(req.headersDistinct ?? req.headers);
  let apiKey: string | undefined;
  let apiKeys = 0;
  let authorization: string | undefined;
  let authorizations = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 9 && (name === 'x-api-key' || name.toLowerCase() === 'x-api-key')) {
      if (apiKeys++ === 0) apiKey = raw[i + 1];
    } else if (name.length === 13 && (name === 'authorization' || name.toLowerCase() === 'authorization')) {
      if (authorizations++ === 0) authorization = raw[i + 1];
    }
  }
  if (apiKeys > 1) return undefined;
  const trimmed = apiKey?.trim();
  if (trimmed) return trimmed;
  if (authorizations !== 1) return undefined;
  return BEARER.exec(authorization!.trim())?.[1];
}

function singleValue(value: string | readonly string[] | undefined): string | undefined | typeof AMBIGUOUS {
  if (typeof value === 'string' || value === undefined) return value;
  return value.length > 1 ? AMBIGUOUS : value[0];
}
