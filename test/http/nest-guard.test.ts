// @tokenbucket/nestjs as a Nest app uses it, on the platform and Nest major of the jest project:
// @RateLimit and @SkipRateLimit on controllers and handlers (the handler's wins), the module's
// defaults, forRootAsync, the guard app-wide (APP_GUARD) or per controller (@UseGuards), bucket
// names from the route pattern with the global prefix and the URI version, and bad options.
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  type ExecutionContext,
  Get,
  HttpException,
  type INestApplication,
  Module,
  UseGuards,
  VersioningType,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import { type Decision, RedisStore } from '@tokenbucket/core';
import { RateLimit, RateLimitException, RateLimitGuard, RateLimitModule, SkipRateLimit } from '@tokenbucket/nestjs';
import { randomPrefix, RedisPool, requireRedis } from '../support/redis';
import { type NestAppOptions, nestApp, PLATFORM } from './nest-app';

requireRedis();

const SLOW = 1 / 3600;
const pool = new RedisPool();
const prefix = randomPrefix(`nest-guard-${PLATFORM}`);
let store: RedisStore;
const apps: INestApplication[] = [];
beforeEach(() => {
  store = new RedisStore({ client: pool.client(), prefix });
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  const keys = await pool.keys(`${prefix}*`);
  if (keys.length > 0) await pool.client().del(...keys);
});
afterAll(() => pool.closeAll([prefix]));

/** The policy names that have a bucket in Redis (the part of the key before the caller id). */
const bucketNames = async (): Promise<string[]> => [...new Set((await pool.keys(`${prefix}*`)).map((k) => k.slice(prefix.length, k.lastIndexOf(':{'))))].sort();

/** Starts the app on 127.0.0.1 and returns a GET with an API key. */
async function start(options: NestAppOptions) {
  const app = await nestApp(options);
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer();
  return (path: string, headers: Record<string, string> = { 'x-api-key': 'k' }) => request(server).get(path).set(headers);
}

@Controller('cats')
@RateLimit({ capacity: 2, refillPerSecond: SLOW })
class CatsController {
  @Get(':id')
  one() {
    return { cat: true };
  }

  @Get()
  @RateLimit({ capacity: 5, refillPerSecond: SLOW })
  all() {
    return { cats: [] };
  }

  @Get('free/now')
  @SkipRateLimit()
  free() {
    return { free: true };
  }
}

@Controller('dogs')
@SkipRateLimit()
class DogsController {
  @Get()
  all() {
    return { dogs: [] };
  }

  @Get(':id')
  @RateLimit({ capacity: 1, refillPerSecond: SLOW })
  one() {
    return { dog: true };
  }
}

@Controller({ path: 'birds', version: '2' })
class BirdsController {
  @Get(':id')
  @RateLimit({ capacity: 3, refillPerSecond: SLOW })
  one() {
    return { bird: true };
  }
}

const statuses = async (get: (path: string) => request.Test, path: string, n: number): Promise<number[]> => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(path)).status);
  return out;
};

test('the handler wins over its controller; buckets are named by route pattern, global prefix and URI version included', async () => {
  const get = await start({
    imports: [RateLimitModule.forRoot({ store })],
    controllers: [CatsController, DogsController, BirdsController],
    providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
    configure: (app) => {
      app.setGlobalPrefix('api');
      app.enableVersioning({ type: VersioningType.URI });
    },
  });
  // The controller's @RateLimit, for /cats/1 and /cats/2 alike (a pattern, not a URL).
  const first = await get('/api/cats/1');
  expect([first.status, first.headers['ratelimit-policy']]).toEqual([200, '"GET /api/cats/:id";q=2;w=7200']);
  expect(await statuses(get, '/api/cats/2', 2)).toEqual([200, 429]);
  const denied = await get('/api/cats/3');
  expect(denied.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(denied.headers['retry-after']).toBe('3600');
  expect(denied.body).toEqual({
    type: 'about:blank',
    title: 'Too Many Requests',
    status: 429,
    detail: 'Rate limit "GET /api/cats/:id" exceeded. Retry in 3600 seconds.',
    policy: 'GET /api/cats/:id',
    limit: 2,
    retryAfter: 3600,
  });
  // The handler's @RateLimit over the controller's; its @SkipRateLimit over the controller's @RateLimit.
  expect((await get('/api/cats')).headers.ratelimit).toBe('"GET /api/cats";r=4;t=3600');
  const free = await get('/api/cats/free/now');
  expect([free.status, free.headers.ratelimit]).toEqual([200, undefined]);
  expect(await statuses(get, '/api/cats/free/now', 3)).toEqual([200, 200, 200]);
  // The controller's @SkipRateLimit, and a handler's @RateLimit over it.
  expect((await get('/api/dogs')).headers.ratelimit).toBeUndefined();
  expect(await statuses(get, '/api/dogs/1', 2)).toEqual([200, 429]);
  expect((await get('/api/v2/birds/1')).headers['ratelimit-policy']).toBe('"GET /api/v2/birds/:id";q=3;w=10800');
  expect(await bucketNames()).toEqual(['GET /api/cats', 'GET /api/cats/:id', 'GET /api/dogs/:id', 'GET /api/v2/birds/:id']);
});

@Controller('guarded')
@UseGuards(RateLimitGuard)
class GuardedController {
  @Get()
  plain() {
    return { ok: true };
  }

  @Get('tight')
  @RateLimit({ capacity: 1, refillPerSecond: SLOW })
  tight() {
    return { ok: true };
  }
}

@Controller('open')
class OpenController {
  @Get()
  @RateLimit({ capacity: 1, refillPerSecond: SLOW })
  open() {
    return { ok: true };
  }
}

test("per controller with @UseGuards: the module's policy limits its undecorated handlers; unguarded controllers are not limited", async () => {
  const get = await start({
    imports: [RateLimitModule.forRoot({ store, capacity: 3, refillPerSecond: SLOW, legacyHeaders: true })],
    controllers: [GuardedController, OpenController],
  });
  const plain = await get('/guarded');
  expect([plain.headers['ratelimit-policy'], plain.headers['x-ratelimit-limit']]).toEqual(['"GET /guarded";q=3;w=10800', '3']);
  expect(await statuses(get, '/guarded', 3)).toEqual([200, 200, 429]);
  // The module's other defaults (legacyHeaders) hold under a handler's own policy.
  const tight = await get('/guarded/tight');
  expect([tight.headers['x-ratelimit-limit'], (await get('/guarded/tight')).status]).toEqual(['1', 429]);
  expect(await statuses(get, '/open', 3)).toEqual([200, 200, 200]);
  expect(await bucketNames()).toEqual(['GET /guarded', 'GET /guarded/tight']);
});

const LIMITS = Symbol('limits');
@Module({ providers: [{ provide: LIMITS, useValue: { capacity: 1 } }], exports: [LIMITS] })
class ConfigModule {}

test('forRootAsync: the options from a factory, with the providers it injects', async () => {
  const get = await start({
    imports: [
      RateLimitModule.forRootAsync({
        imports: [ConfigModule],
        inject: [LIMITS],
        useFactory: async (limits: { capacity: number }) => ({ store, capacity: limits.capacity, refillPerSecond: SLOW }),
      }),
    ],
    controllers: [OpenController],
    providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
  });
  expect(await statuses(get, '/open', 2)).toEqual([200, 429]);
  expect(await bucketNames()).toEqual(['GET /open']);
});

test('onLimited: what it throws is the answer; when it returns, the default 429; it gets the ExecutionContext', async () => {
  const seen: string[] = [];
  @Controller('custom')
  class CustomController {
    @Get('throws')
    @RateLimit({
      capacity: 1,
      refillPerSecond: SLOW,
      onLimited: (decision: Decision) => {
        throw new HttpException({ slowDown: decision.policy }, 503);
      },
    })
    throws() {
      return { ok: true };
    }

    @Get('returns')
    @RateLimit({
      capacity: 1,
      refillPerSecond: SLOW,
      onLimited: async (decision: Decision, context: ExecutionContext) => {
        seen.push(`${context.getClass().name}.${context.getHandler().name} ${decision.policy}`);
      },
    })
    returns() {
      return { ok: true };
    }
  }
  const get = await start({
    imports: [RateLimitModule.forRoot({ store })],
    controllers: [CustomController],
    providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
  });
  await get('/custom/throws');
  const thrown = await get('/custom/throws');
  expect([thrown.status, thrown.body, thrown.headers['retry-after']]).toEqual([503, { slowDown: 'GET /custom/throws' }, '3600']);
  await get('/custom/returns');
  const returned = await get('/custom/returns');
  expect([returned.status, returned.headers['content-type'], returned.body.policy]).toEqual([
    429,
    expect.stringMatching(/^application\/problem\+json/),
    'GET /custom/returns',
  ]);
  expect(seen).toEqual(['CustomController.returns GET /custom/returns']);
});

test("an app's own catch-all filter (app.useGlobalFilters) sees the RateLimitException first; the headers are set", async () => {
  @Catch()
  class EverythingFilter implements ExceptionFilter {
    catch(exception: unknown, host: ArgumentsHost): void {
      const res = host.switchToHttp().getResponse();
      const status = exception instanceof HttpException ? exception.getStatus() : 500;
      const body = { error: exception instanceof RateLimitException ? exception.problem.title : 'other' };
      if (PLATFORM === 'fastify') void res.code(status).send(body);
      else res.status(status).json(body);
    }
  }
  const get = await start({
    imports: [RateLimitModule.forRoot({ store })],
    controllers: [OpenController],
    providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
    configure: (app) => app.useGlobalFilters(new EverythingFilter()),
  });
  await get('/open');
  const denied = await get('/open');
  expect([denied.status, denied.body, denied.headers.ratelimit, denied.headers['retry-after']]).toEqual([
    429,
    { error: 'Too Many Requests' },
    '"GET /open";r=0;t=3600',
    '3600',
  ]);
});

test('bad options fail the start (app.init), naming the option, the value and the handler', async () => {
  @Controller('bad')
  class BadController {
    @Get()
    @RateLimit({ capacity: 0, refillPerSecond: 1 })
    handle() {
      return { ok: true };
    }
  }
  const guard = { provide: APP_GUARD, useClass: RateLimitGuard };
  await expect(nestApp({ imports: [RateLimitModule.forRoot({ store })], controllers: [BadController], providers: [guard] })).rejects.toThrow(
    /`capacity` must be an integer >= 1.*got 0.*\(limits of BadController\.handle\)/,
  );
  await expect(nestApp({ imports: [RateLimitModule.forRoot({ store, capacty: 5 } as never)], controllers: [OpenController] })).rejects.toThrow(
    /capacty.*capacity/,
  );
  await expect(nestApp({ imports: [RateLimitModule.forRoot('fast' as never)], controllers: [OpenController] })).rejects.toThrow(
    /`RateLimitModule options` must be an options object; got "fast"/,
  );
  @Controller('odd')
  @RateLimit(5 as never)
  class OddController {
    @Get()
    handle() {
      return { ok: true };
    }
  }
  await expect(nestApp({ imports: [RateLimitModule.forRoot({ store })], controllers: [OddController] })).rejects.toThrow(
    /`@RateLimit options` must be an options object; got 5\. \(limits of OddController\.handle\) \(see docs\/reference\/errors\.md#tb_err_invalid_option\)$/,
  );
});

/** An authentication guard: `Authorization: Session <user>` sets `request.user`. */
class SessionGuard {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest();
    const user = /^Session (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (user !== undefined) req.user = { id: user };
    return true;
  }
}

@Controller('me')
@UseGuards(SessionGuard, RateLimitGuard)
@RateLimit({ capacity: 1, refillPerSecond: SLOW, key: (req) => req.user?.id, missingKey: 'reject' })
class MeController {
  @Get()
  me() {
    return { ok: true };
  }
}

@Module({ controllers: [MeController] })
class FeatureModule {}

test('in a feature module (the module is global), after an authentication guard: keyed on the user it set', async () => {
  const get = await start({ imports: [RateLimitModule.forRoot({ store }), FeatureModule] });
  const as = (user: string) => get('/me', { authorization: `Session ${user}` });
  expect([(await as('ann')).status, (await as('bob')).status, (await as('ann')).status]).toEqual([200, 200, 429]);
  expect((await get('/me', { 'x-api-key': 'ann' })).status).toBe(401);
});
