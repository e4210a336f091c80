// @tokenbucket/core/adapter: what an adapter for a web framework needs. Core owns the options, the
// decision, the headers and the bodies; an adapter says how its framework reads a request and
// writes a response (HttpAdapter), and checks the options it reads itself.

export { ADAPTER_OPTION_NAMES, createHttpLimiter, onNodeResponseEnd } from './http/adapter.js';
export type { AdapterOptions, HttpAdapter, HttpLimiter, NodeResponse } from './http/adapter.js';
export type { HttpOutcome } from './http/engine.js';
export { checkOptionNames, optionNames } from './option-names.js';
export { addErrorContext, emitTokenBucketWarning, invalidOption } from './errors.js';
export type { TokenBucketWarningCode } from './errors.js';
export { mountId, NO_ROUTE, routeId } from './http/route.js';
export { apiKeyFromHeaders, keyHeaders } from './http/keys.js';
export type { NodeRequestHeaders, RequestHeaders } from './http/keys.js';
export { problemDetails } from './http/problems.js';
export type { ProblemDetails } from './http/problems.js';
export { rateLimitHeaders } from './http/headers.js';
export type { HeaderOptions } from './http/headers.js';
