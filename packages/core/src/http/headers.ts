// The rate-limit response headers of a decision (draft-ietf-httpapi-ratelimit-headers-11).
import { concurrencyPolicyMember } from '../concurrency.js';
import type { Decision, PolicyDecision } from '../decision.js';
import type { Policy } from '../policy.js';

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
 * - `RateLimit`: per policy `"<name>";r=<whole tokens left>;t=<seconds until the bucket is full>`;
 *   on a denial that sends Retry-After, `t` is at most Retry-After, so the policy that denied
 *   shows `t` = Retry-After
 * - `Retry-After`: on a denial that a wait can cure, whole seconds (>= 1, rounded up); 1 on a
 *   denial for lack of a concurrency slot
 * - a concurrency policy: `RateLimit-Policy` member `"<name>";q=<max>;qu="concurrent-requests"`,
 *   `RateLimit` member `"<name>";r=<slots left>;t=<0, or 1 when none is left>`
 * - legacy `X-RateLimit-*` on request.
 * Syntax of draft-ietf-httpapi-ratelimit-headers-11 (structured-field lists of strings with
 * parameters). A token bucket maps onto it as: q = capacity, w = capacity / refill rate, r =
 * remaining, t = time to full (after t seconds r = q again). The draft (section 6) asks that
 * Retry-After never point earlier than the end of `t` (the "effective window", within which the
 * client can use no more than `r`); a shorter window of the same `r` is as true, so on a denial
 * each `t` is capped at Retry-After rather than Retry-After stretched to the longest `t`.
 */
export function rateLimitHeaders(decision: Decision, options: HeaderOptions = {}): [string, string][] {
  return headersWithPolicy(decision, options, decision.policies.map(policyMember).join(', '));
}

/**
 * One policy's `RateLimit-Policy` member: a token bucket's `"<name>";q=<capacity>;w=<seconds>`, a
 * concurrency policy's `"<name>";q=<max>;qu="concurrent-requests"` (no window: slots come back as
 * requests end).
 */
function policyMember(p: PolicyDecision): string {
  return p.kind === 'concurrency' ? concurrencyPolicyMember(p.name, p.limit) : `"${p.name}";q=${p.limit};w=${p.windowSeconds}`;
}

/** The `RateLimit-Policy` value of a limiter's policies: the same for each of its decisions. */
export function rateLimitPolicy(policies: readonly Pick<Policy, 'name' | 'capacity' | 'windowSeconds'>[]): string {
  let value = '';
  for (const p of policies) value += `${value === '' ? '' : ', '}"${p.name}";q=${p.capacity};w=${p.windowSeconds}`;
  return value;
}

/**
 * rateLimitHeaders with the `RateLimit-Policy` value already known (the HTTP engine builds it per
 * limiter). `waits` false (a dry run, which never blocks): no Retry-After, so nothing caps `t`.
 */
export function headersWithPolicy(decision: Decision, options: HeaderOptions, policy: string, waits = true): [string, string][] {
  const retryAfter = waits ? retryAfterSeconds(decision) : undefined;
  let state = '';
  for (const p of decision.policies) state += `${state === '' ? '' : ', '}${stateMember(p, retryAfter)}`;
  return fields(policy, state, decision, retryAfter, options);
}

/**
 * One policy's `RateLimit` member, `"<name>";r=<remaining>;t=<seconds>`: `t` is the seconds until
 * the bucket is full, at most `retryAfter` when the response sends one (draft-11 section 6).
 */
function stateMember(p: PolicyDecision, retryAfter: number | undefined): string {
  const t = Math.ceil(p.resetMs / 1000);
  return `"${p.name}";r=${p.remaining};t=${retryAfter !== undefined && retryAfter < t ? retryAfter : t}`;
}

/**
 * The headers of a request that several limiters decided on: one `RateLimit-Policy` and one
 * `RateLimit` field listing every policy met (each once, in the order met), `Retry-After` from
 * `decision` (the one that denied, if any), and the legacy fields of the binding policy: the
 * denying decision's, else the policy with the fewest tokens left. `waits` as in headersWithPolicy.
 */
export function mergedHeaders(views: Iterable<PolicyDecision>, decision: Decision, options: HeaderOptions, waits = true): [string, string][] {
  const retryAfter = waits ? retryAfterSeconds(decision) : undefined;
  let policy = '';
  let state = '';
  let binding: PolicyDecision | undefined;
  for (const p of views) {
    const sep = policy === '' ? '' : ', ';
    policy += `${sep}${policyMember(p)}`;
    state += `${sep}${stateMember(p, retryAfter)}`;
    if (binding === undefined || p.remaining < binding.remaining || (p.remaining === binding.remaining && p.resetMs > binding.resetMs)) binding = p;
  }
  return fields(policy, state, decision.allowed && binding !== undefined ? binding : decision, retryAfter, options);
}

/**
 * Whole seconds to wait before retrying (>= 1, the ceiling of the true wait), or undefined when
 * the decision was allowed or no wait can help (cost above capacity).
 */
export function retryAfterSeconds(decision: Decision): number | undefined {
  if (decision.allowed || !Number.isFinite(decision.retryAfterMs)) return undefined;
  return Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
}

/**
 * The two fields, then the legacy ones of `binding` (the policy the legacy fields describe) when
 * asked for, then `Retry-After` (the decision's, when a wait can cure it).
 */
function fields(
  policy: string,
  state: string,
  binding: Pick<PolicyDecision, 'limit' | 'remaining' | 'resetMs'>,
  retryAfter: number | undefined,
  options: HeaderOptions,
): [string, string][] {
  const headers: [string, string][] = [
    ['RateLimit-Policy', policy],
    ['RateLimit', state],
  ];
  if (options.legacyHeaders) {
    headers.push(
      ['X-RateLimit-Limit', String(binding.limit)],
      ['X-RateLimit-Remaining', String(binding.remaining)],
      ['X-RateLimit-Reset', String(Math.ceil(binding.resetMs / 1000))],
    );
  }
  if (retryAfter !== undefined) headers.push(['Retry-After', String(retryAfter)]);
  return headers;
}
