// The limiter of each handler, made when the application starts (bad options fail it there), and
// the guard's request path.
import { Inject, Injectable, type ExecutionContext, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, Reflector } from '@nestjs/core';
import { TokenBucketError } from '@tokenbucket/core';
import { ADAPTER_OPTION_NAMES, addErrorContext, checkOptionNames, createHttpLimiter, invalidOption, type HttpLimiter } from '@tokenbucket/core/adapter';
import { RATE_LIMIT, SKIP_RATE_LIMIT } from './decorators.js';
import type { PlatformRequest, RateLimitModuleOptions, RateLimitOptions } from './options.js';
import { platform, type Platform, type RateLimitException } from './platforms.js';

/** Injection token of the module's options (`forRoot`'s object, or what `forRootAsync`'s factory returns). */
export const RATE_LIMIT_OPTIONS = Symbol.for('@tokenbucket/nestjs:options');

/** A controller class or a handler function: what the decorators' metadata is on. */
// biome-ignore lint/complexity/noBannedTypes: Nest's metadata targets are any class or function
type Target = Function;

/** A handler's limiters, in the order requests pass them, and whether one has an `onLimited` (which needs the ExecutionContext). */
interface Entry {
  readonly limiters: readonly HttpLimiter<PlatformRequest, unknown>[];
  readonly onLimited: boolean;
}

/** The fields of a policy: options that set any of them replace all of the defaults'. */
const POLICY_FIELDS = ['name', 'capacity', 'refillPerSecond', 'policies'] as const;

const hasPolicy = (options: RateLimitOptions): boolean => POLICY_FIELDS.some((field) => options[field] !== undefined);

/** A decorator's options over the module's defaults; a decorator that sets any policy field replaces all of them. */
function merge(defaults: RateLimitModuleOptions, own: RateLimitOptions): RateLimitOptions {
  if (typeof own !== 'object' || own === null) invalidOption('@RateLimit options', own, 'an options object');
  const merged: Record<string, unknown> = { ...defaults };
  if (hasPolicy(own)) for (const field of POLICY_FIELDS) delete merged[field];
  return Object.assign(merged, own) as RateLimitOptions;
}

/** The methods of a controller's prototype and of the classes it extends. */
function methodsOf(prototype: object): [string, Target][] {
  const out: [string, Target][] = [];
  const seen = new Set<string>();
  for (let p = prototype; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      const value = Object.getOwnPropertyDescriptor(p, name)?.value;
      if (name === 'constructor' || seen.has(name) || typeof value !== 'function') continue;
      seen.add(name);
      out.push([name, value as Target]);
    }
  }
  return out;
}

/** The limits of one application: module options, the platform, and each handler's limiter. */
@Injectable()
export class RateLimitRegistry implements OnModuleInit {
  private platform: Platform | undefined;
  private readonly byClass = new Map<Target, Map<Target, Entry | null>>();
  /** Each request's ExecutionContext while its limiter decides, for `onLimited`. */
  private readonly contexts = new WeakMap<object, ExecutionContext>();

  constructor(
    @Inject(RATE_LIMIT_OPTIONS) private readonly options: RateLimitModuleOptions,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
  ) {}

  /** Checks the options and makes every controller handler's limiter: bad options fail `app.init()`. */
  onModuleInit(): void {
    if (typeof this.options !== 'object' || this.options === null) invalidOption('RateLimitModule options', this.options, 'an options object');
    checkOptionNames(this.options, ADAPTER_OPTION_NAMES);
    this.platform = platform(this.host.httpAdapter?.getType(), this, this.contexts);
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as Target | null | undefined;
      if (typeof controller !== 'function') continue;
      for (const [, handler] of methodsOf(controller.prototype as object)) this.entry(controller, handler);
    }
  }

  /**
   * Decides for the request of `context`: true to go on; false when the response was already
   * answered; throws the answer (a `RateLimitException`, or what `onLimited` throws) otherwise.
   */
  check(context: ExecutionContext): boolean | Promise<boolean> {
    const entry = this.entry(context.getClass(), context.getHandler());
    if (entry === null) return true;
    const p = this.platform as Platform;
    const http = context.switchToHttp();
    const req = http.getRequest<PlatformRequest>();
    const res = http.getResponse<unknown>();
    if (entry.onLimited) this.contexts.set(req, context);
    return this.pass(entry.limiters, 0, req, res, p.route(req));
  }

  /** Runs the limiters from `i` on, each once the one before let the request through. */
  private pass(limiters: Entry['limiters'], i: number, req: PlatformRequest, res: unknown, route: string): boolean | Promise<boolean> {
    for (; i < limiters.length; i++) {
      const go = limiters[i]!.handle(req, res, route);
      if (go === false) return this.refuse(res);
      if (go !== true) {
        const next = i + 1;
        return go.then((pass) => (pass ? this.pass(limiters, next, req, res, route) : this.refuse(res)));
      }
    }
    return true;
  }

  /** Writes a RateLimitException on the platform's response (RateLimitExceptionFilter). */
  write(res: unknown, exception: RateLimitException): void {
    (this.platform as Platform).write(res, exception);
  }

  private refuse(res: unknown): false {
    const answer = (this.platform as Platform).answer(res);
    if (answer !== undefined) throw answer;
    return false; // something else answered the response before the guard ran
  }

  /** A handler's limiter (null: not limited), made once per controller and handler. */
  private entry(controller: Target, handler: Target): Entry | null {
    let handlers = this.byClass.get(controller);
    if (handlers === undefined) {
      handlers = new Map();
      this.byClass.set(controller, handlers);
    }
    let entry = handlers.get(handler);
    if (entry === undefined) {
      entry = this.create(controller, handler);
      handlers.set(handler, entry);
    }
    return entry;
  }

  private create(controller: Target, handler: Target): Entry | null {
    try {
      const list = this.resolve(controller, handler);
      if (list === undefined) return null;
      const adapter = (this.platform as Platform).adapter;
      return { limiters: list.map((options) => createHttpLimiter(adapter, options)), onLimited: list.some((o) => o.onLimited !== undefined) };
    } catch (err) {
      if (err instanceof TokenBucketError) addErrorContext(err, `(limits of ${controller.name}.${handler.name})`);
      throw err;
    }
  }

  /** The options of a handler's limiters: its own decorators', else its controller's, else the module's if they have a policy. */
  private resolve(controller: Target, handler: Target): RateLimitOptions[] | undefined {
    for (const target of [handler, controller]) {
      if (this.reflector.get<boolean | undefined>(SKIP_RATE_LIMIT, target) === true) return undefined;
      const own = this.reflector.get<RateLimitOptions[] | undefined>(RATE_LIMIT, target);
      if (own !== undefined) return own.map((options) => merge(this.options, options));
    }
    return hasPolicy(this.options) ? [this.options] : undefined;
  }
}
