// What every HTTP adapter shares: the caller key from request headers, the rate-limit headers,
// and the problem+json body of a denied request. No framework types here.
import type { Decision } from './decision.js';

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
    if (name.length === 9 && name.toLowerCase() === 'x-api-key') (apiKey ??= []).push(raw[i + 1]!);
    else if (name.length === 13 && name.toLowerCase() === 'authorization') (authorization ??= []).push(raw[i + 1]!);
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

function singleValue(value: string | readonly string[] | undefined): string | undefined | typeof AMBIGUOUS {
  if (typeof value === 'string' || value === undefined) return value;
  return value.length > 1 ? AMBIGUOUS : value[0];
}

/** Options for rateLimitHeaders. */
export interface HeaderOptions {
  /**
   * Also send `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds
   * until the binding bucket is full), for clients that predate the IETF fields.
   * @default false
   */
  legacyHeaders?: boolean;
}

/**
 * The response headers for a decision, as [name, value] pairs:
 * - `RateLimit-Policy`: per policy `"<name>";q=<capacity>;w=<seconds for an empty bucket to fill>`
 * - `RateLimit`: per policy `"<name>";r=<whole tokens left>;t=<seconds until the bucket is full>`
 * - `Retry-After`: on a denial that a wait can cure, whole seconds (>= 1, rounded up)
 * - legacy `X-RateLimit-*` on request.
 * Syntax of draft-ietf-httpapi-ratelimit-headers-10 (structured-field lists of strings with
 * parameters). A token bucket maps onto it as: q = capacity, w = capacity / refill rate, r =
 * remaining, t = time to full (after t seconds r = q again).
 */
export function rateLimitHeaders(decision: Decision, options: HeaderOptions = {}): [string, string][] {
  return headersWithPolicy(decision, options, rateLimitPolicy(decision));
}

/** The `RateLimit-Policy` value of a decision: the same for every decision of one limiter. */
export function rateLimitPolicy(decision: Decision): string {
  let policy = '';
  for (const p of decision.policies) policy += `${policy === '' ? '' : ', '}"${p.name}";q=${p.limit};w=${p.windowSeconds}`;
  return policy;
}

/** rateLimitHeaders with the `RateLimit-Policy` value already known (the HTTP engine keeps it per limiter). */
export function headersWithPolicy(decision: Decision, options: HeaderOptions, policy: string): [string, string][] {
  let state = '';
  for (const p of decision.policies) {
    state += `${state === '' ? '' : ', '}"${p.name}";r=${p.remaining};t=${Math.ceil(p.resetMs / 1000)}`;
  }
  const headers: [string, string][] = [
    ['RateLimit-Policy', policy],
    ['RateLimit', state],
  ];
  if (options.legacyHeaders) {
    headers.push(
      ['X-RateLimit-Limit', String(decision.limit)],
      ['X-RateLimit-Remaining', String(decision.remaining)],
      ['X-RateLimit-Reset', String(Math.ceil(decision.resetMs / 1000))],
    );
  }
  const retryAfter = retryAfterSeconds(decision);
  if (retryAfter !== undefined) headers.push(['Retry-After', String(retryAfter)]);
  return headers;
}

/**
 * Whole seconds to wait before retrying (>= 1, the ceiling of the true wait), or undefined when
 * the decision was allowed or no wait can help (cost above capacity).
 */
export function retryAfterSeconds(decision: Decision): number | undefined {
  if (decision.allowed || !Number.isFinite(decision.retryAfterMs)) return undefined;
  return Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
}

/** An RFC 9457 problem details object. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** Name of the policy that denied the request. */
  policy?: string;
  /** That policy's capacity. */
  limit?: number;
  /** Whole seconds to wait; absent when no wait can help. */
  retryAfter?: number;
}

/**
 * The `application/problem+json` body of a denied request. Status 429 when a wait will help;
 * 413 when the request costs more than the policy's capacity, which no wait can fix.
 */
export function problemDetails(decision: Decision): ProblemDetails {
  const retryAfter = retryAfterSeconds(decision);
  if (retryAfter === undefined) {
    return {
      type: 'about:blank',
      title: 'Content Too Large',
      status: 413,
      detail: `This request costs more than rate limit "${decision.policy}" allows at once (${decision.limit}); it cannot succeed, however long you wait.`,
      policy: decision.policy,
      limit: decision.limit,
    };
  }
  return {
    type: 'about:blank',
    title: 'Too Many Requests',
    status: 429,
    detail: `Rate limit "${decision.policy}" exceeded. Retry in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
    policy: decision.policy,
    limit: decision.limit,
    retryAfter,
  };
}

/** The 401 body when a route needs an API key and the request has none. */
export function missingKeyProblem(): ProblemDetails {
  return {
    type: 'about:blank',
    title: 'Unauthorized',
    status: 401,
    detail: 'This endpoint needs an API key: send it in the X-API-Key header or as Authorization: Bearer <key>.',
  };
}

/** The 503 body when the store failed and `onStoreError` is 'deny'. */
export function storeUnavailableProblem(retryAfter: number): ProblemDetails {
  return {
    type: 'about:blank',
    title: 'Service Unavailable',
    status: 503,
    detail: `The rate limiter cannot reach its store. Retry in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
    retryAfter,
  };
}
