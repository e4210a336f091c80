// The contract every framework adapter fulfils, and what core does for all of them.
import type { Decision } from '../decision.js';
import { invalidOption } from '../errors.js';
import { HttpEngine, type HttpOutcome, type RequestReader } from './engine.js';
import { HTTP_OPTION_NAMES, type HttpLimiterOptions } from './options.js';
import { PROBLEM_CONTENT_TYPE } from './problems.js';

/**
 * What an adapter tells core about its framework: how to read a request and how to write a
 * response. Everything else (options, the decision, headers, bodies, `onLimited`) is core's.
 * `Req` is the framework's request and `Res` its response (Koa: the context for both).
 */
export interface HttpAdapter<Req, Res, OnLimited> extends RequestReader<Req> {
  // From RequestReader: `incoming`, `ip`, `app`, and `request`: the object that stands for one
  // HTTP request whichever limiter sees it. Every limiter a request passes (a mounted group and a
  // route, middleware and a guard, even of two adapters on one server) must get the same object,
  // so that they decide as one. Node adapters leave it out: the default is `incoming(req)`, Node's
  // `IncomingMessage`. Hono: the fetch `Request`.
  /**
   * Names of the options the adapter reads itself (Fastify: `hook`), beside core's and
   * `onLimited`: any other name is an error at creation.
   */
  readonly optionNames?: readonly string[];
  /** True once the response has started (something else answered): the limiter then writes nothing. */
  headersSent(res: Res): boolean;
  setHeader(res: Res, name: string, value: string): void;
  /** Ends the response with `status`, this `Content-Type` and `body`, at once (not awaited). */
  send(res: Res, status: number, contentType: string, body: string): void;
  /** Hands a denied request to the user's `onLimited`, in the framework's own signature. */
  callOnLimited(onLimited: OnLimited, req: Req, res: Res, decision: Decision): unknown;
  /**
   * Calls `listener` once when the response is done: with its status code when it was sent in
   * full, or with `undefined` when the connection closed first. The engine registers at most one
   * listener per request, and only when a limiter counts by the outcome (`skipFailedRequests`,
   * `skipSuccessfulRequests`, `skipResponse`). Node adapters pass their `ServerResponse` to
   * `onNodeResponseEnd`.
   */
  onResponseEnd?(req: Req, res: Res, listener: (status: number | undefined) => void): void;
}

/** What `onResponseEnd` needs of Node's `ServerResponse`. */
export interface NodeResponse {
  readonly statusCode: number;
  readonly writableFinished: boolean;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/**
 * `onResponseEnd` for a Node `ServerResponse`: its status code once it has been sent in full
 * ('finish'), or undefined when the connection closed before that ('close' without 'finish').
 */
export function onNodeResponseEnd(res: NodeResponse, listener: (status: number | undefined) => void): void {
  if (res.writableFinished) {
    listener(res.statusCode);
    return;
  }
  let done = false;
  res.once('finish', () => {
    if (done) return;
    done = true;
    listener(res.statusCode);
  });
  res.once('close', () => {
    if (done) return;
    done = true;
    listener(res.writableFinished ? res.statusCode : undefined);
  });
}

/** The options of an adapter's `rateLimit`: the engine's, plus the framework's answer to a denial. */
export interface AdapterOptions<Req, OnLimited> extends HttpLimiterOptions<Req> {
  /**
   * Answers a request denied by a policy, instead of the default 429 (or 413)
   * `application/problem+json` response. The rate-limit headers are already set.
   */
  onLimited?: OnLimited;
}

/** The names of AdapterOptions: every adapter takes these (and may read more of its own). */
export const ADAPTER_OPTION_NAMES: readonly string[] = Object.freeze([...HTTP_OPTION_NAMES, 'onLimited']);

/** What an adapter runs per request. */
export interface HttpLimiter<Req, Res> {
  /**
   * Decides for one request and writes the outcome: headers, then either nothing (resolves
   * `true`: go on to the handler) or the answer (resolves `false`: the request is done, by the
   * default problem response or `onLimited`). Writes nothing when the response has already
   * started. Answers at once, without a promise, when the decision needed no waiting (a denial
   * remembered in memory, a MemoryStore, no user functions) and `onLimited` was not called:
   * adapters continue synchronously then. Rejects with the fault of a user function (key, cost,
   * skip, policies, onLimited), never throws: hand it to the framework's error handling.
   */
  handle(req: Req, res: Res, route: string): boolean | Promise<boolean>;
  /** The decision alone, written nowhere: for frameworks that answer in their own way. */
  check(req: Req, route: string): Promise<HttpOutcome>;
}

/**
 * Validates the options (throwing a TokenBucketError that names the option and value, or the
 * unknown name) and builds the limiter an adapter runs per request. `route` is a route identity
 * from `routeId` or `mountId`: a pattern, never a concrete URL.
 */
export function createHttpLimiter<Req, Res, OnLimited>(
  adapter: HttpAdapter<Req, Res, OnLimited>,
  options: AdapterOptions<Req, OnLimited>,
): HttpLimiter<Req, Res> {
  const known = adapter.optionNames === undefined ? ADAPTER_OPTION_NAMES : [...ADAPTER_OPTION_NAMES, ...adapter.optionNames];
  const engine = new HttpEngine<Req>(options, adapter, known);
  const listens = adapter.onResponseEnd !== undefined && engine.needsResponseEnd;
  const onLimited = options.onLimited;
  if (onLimited !== undefined && typeof onLimited !== 'function') invalidOption('onLimited', onLimited, 'a function');
  /** Writes an outcome; a promise only while `onLimited` runs. */
  const write = (req: Req, res: Res, outcome: HttpOutcome): boolean | Promise<boolean> => {
    if (adapter.headersSent(res)) return false;
    const headers = outcome.headers;
    for (let i = 0; i < headers.length; i++) adapter.setHeader(res, headers[i]![0], headers[i]![1]);
    if (outcome.action === 'pass') return true;
    if (outcome.action === 'limited' && onLimited !== undefined) {
      return Promise.resolve(adapter.callOnLimited(onLimited, req, res, outcome.decision)).then(() => false);
    }
    adapter.send(res, outcome.status, PROBLEM_CONTENT_TYPE, outcome.bodyText);
    return false;
  };
  return {
    check: async (req, route) => engine.decide(req, route),
    handle(req, res, route) {
      try {
        // A listener of the response's end only for limiters that give back by the outcome or hold slots.
        const onEnd = listens ? (listener: (status: number | undefined) => void) => adapter.onResponseEnd!(req, res, listener) : undefined;
        const outcome = engine.decide(req, route, onEnd);
        return outcome instanceof Promise ? outcome.then((o) => write(req, res, o)) : write(req, res, outcome);
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}
