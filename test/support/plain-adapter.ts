// A framework-free adapter over plain request objects, for tests of core's HTTP engine.
import { createHttpLimiter, type AdapterOptions, type HttpAdapter, type HttpLimiter } from '@tokenbucket/core/adapter';

/** A request as the tests write it: headers and a client IP, plus whatever the options read. */
export interface PlainRequest {
  headers?: Record<string, string>;
  ip?: string;
  [field: string]: unknown;
}

/** A response that records what the limiter wrote. */
export interface PlainResponse {
  sent: boolean;
  status?: number;
  headers: Record<string, string>;
  contentType?: string;
  body?: string;
}

export const plainAdapter: HttpAdapter<PlainRequest, PlainResponse, (req: PlainRequest, res: PlainResponse, decision: unknown) => unknown> = {
  incoming: (req) => ({ headers: req.headers ?? {} }),
  ip: (req) => req.ip,
  headersSent: (res) => res.sent,
  setHeader: (res, name, value) => {
    res.headers[name] = value;
  },
  send: (res, status, contentType, body) => {
    Object.assign(res, { sent: true, status, contentType, body });
  },
  callOnLimited: (onLimited, req, res, decision) => onLimited(req, res, decision),
};

/** createHttpLimiter over plain request objects. */
export function plainLimiter(
  options: AdapterOptions<PlainRequest, (req: PlainRequest, res: PlainResponse, decision: unknown) => unknown>,
): HttpLimiter<PlainRequest, PlainResponse> {
  return createHttpLimiter(plainAdapter, options);
}

export const newResponse = (): PlainResponse => ({ sent: false, headers: {} });
