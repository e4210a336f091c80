// How the guard reads a request and writes a response on each Nest platform: core's adapter
// contract for Express's request and response, and for Fastify's request and reply.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpException, type ExecutionContext } from '@nestjs/common';
import type { Decision } from '@tokenbucket/core';
import { invalidOption, NO_ROUTE, onNodeResponseEnd, problemDetails, routeId, type HttpAdapter, type ProblemDetails } from '@tokenbucket/core/adapter';
import type { OnLimited, PlatformRequest } from './options.js';

/**
 * The answer to a request the guard does not let through: 429 (or 413) when a policy denies it,
 * 401 without a key under `missingKey: 'reject'`, 503 when the store fails under
 * `storeFailure: 'deny'`. The guard throws it with the rate-limit headers already set on the
 * response; the module's exception filter writes it as the other adapters do (the same status,
 * `Content-Type: application/problem+json` and body). Its `getResponse()` is the problem object,
 * for a filter of your own (`@Catch(RateLimitException)` on a controller) that answers otherwise.
 */
export class RateLimitException extends HttpException {
  constructor(
    /** The problem details (RFC 9457): `status`, `title`, `detail`, `policy`, `limit`, `retryAfter`. */
    readonly problem: ProblemDetails,
    /** `problem` as the JSON text sent. */
    readonly body: string = JSON.stringify(problem),
  ) {
    super(problem, problem.status);
  }
}

/** Express's request and response, as far as the guard reads them. */
interface ExpressRequest extends IncomingMessage {
  ip?: string;
  route?: { path?: unknown };
}

/** Fastify's request and reply, as far as the guard reads them. */
interface FastifyRequest {
  raw: IncomingMessage;
  ip?: string;
  method: string;
  routeOptions?: { url?: string };
}
interface FastifyReply {
  raw: ServerResponse;
  sent: boolean;
  header(name: string, value: string): unknown;
  code(status: number): FastifyReply;
  type(contentType: string): FastifyReply;
  send(body: string): unknown;
}

/** One platform: core's adapter, and the route pattern a request matched. */
export interface Platform {
  readonly adapter: HttpAdapter<PlatformRequest, unknown, OnLimited>;
  /** `GET /cats/:id`: the pattern Nest registered (global prefix and URI version included). */
  route(req: PlatformRequest): string;
  /** The answer to throw for a request the limiter did not let through, once. */
  answer(res: unknown): RateLimitException | undefined;
  /** Writes the answer on the response, as core's Express and Fastify adapters do. */
  write(res: unknown, answer: RateLimitException): void;
}

const PLATFORMS = ['express', 'fastify'];

/**
 * The platform `type` (`httpAdapter.getType()`), for one application (`app`: names are made
 * distinct within it). `contexts` gives `onLimited` the request's ExecutionContext.
 */
export function platform(type: unknown, app: object, contexts: WeakMap<object, ExecutionContext>): Platform {
  if (!PLATFORMS.includes(type as string)) invalidOption('platform', type, "'express' or 'fastify' (@nestjs/platform-express or @nestjs/platform-fastify)");
  const fastify = type === 'fastify';
  /** The exception each answered response is to throw, by response. */
  const answers = new WeakMap<object, RateLimitException>();
  const answer = (res: object, exception: RateLimitException): void => void answers.set(res, exception);
  const setHeader = fastify
    ? (reply: object, name: string, value: string) => void (reply as FastifyReply).header(name, value)
    : (res: object, name: string, value: string) => void (res as ServerResponse).setHeader(name, value);
  const adapter: HttpAdapter<PlatformRequest, object, OnLimited> = {
    incoming: fastify ? (req: FastifyRequest) => req.raw : (req: ExpressRequest) => req,
    request: fastify ? (req: FastifyRequest) => req.raw : (req: ExpressRequest) => req,
    ip: (req: ExpressRequest | FastifyRequest) => req.ip,
    app: () => app,
    headersSent: fastify ? (reply) => (reply as FastifyReply).sent : (res) => (res as ServerResponse).headersSent,
    setHeader,
    onResponseEnd: fastify
      ? (_req, reply, listener) => onNodeResponseEnd((reply as FastifyReply).raw, listener)
      : (_req, res, listener) => onNodeResponseEnd(res as ServerResponse, listener),
    // Not written here: the guard throws it, for Nest's exception layer (see RateLimitException).
    send: (res, _status, _contentType, body) => answer(res, new RateLimitException(JSON.parse(body) as ProblemDetails, body)),
    callOnLimited(onLimited, req, res, decision: Decision) {
      // A throw (or a rejection) is the answer; returning leaves the default one.
      return Promise.resolve(onLimited(decision, contexts.get(req as object) as ExecutionContext)).then(() =>
        answer(res, new RateLimitException(problemDetails(decision))),
      );
    },
  };
  return {
    adapter,
    route: fastify
      ? (req: FastifyRequest) => routeId(req.method, req.routeOptions?.url ?? NO_ROUTE)
      : (req: ExpressRequest) => routeId(req.method as string, typeof req.route?.path === 'string' ? req.route.path : NO_ROUTE),
    answer(res) {
      const found = answers.get(res as object);
      answers.delete(res as object);
      return found;
    },
    write: fastify
      ? (reply, { problem, body }) => {
          if (!(reply as FastifyReply).sent) void (reply as FastifyReply).code(problem.status).type(PROBLEM_CONTENT_TYPE).send(body);
        }
      : (res, { problem, body }) => {
          const response = res as ServerResponse;
          if (response.headersSent) return;
          // As core's Express adapter writes it: Express's res.send would add an ETag, Nest's reply a JSON Content-Type.
          response.statusCode = problem.status;
          response.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
          response.setHeader('Content-Length', Buffer.byteLength(body));
          response.end(body);
        },
  };
}

/** The Content-Type of the problem bodies, as core's adapters send them. */
const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
