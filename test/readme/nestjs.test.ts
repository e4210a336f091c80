// search.test.ts: a NestJS route limited to 2 requests a minute, tested with jest and supertest.
import 'reflect-metadata';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import request from 'supertest';
import { MemoryStore } from '@tokenbucket/core';
import { RateLimit, RateLimitGuard, RateLimitModule } from '@tokenbucket/nestjs';

const store = new MemoryStore(); // in-process buckets: no Redis in the tests

@Controller('search')
class SearchController {
  @Get()
  @RateLimit({ capacity: 2, refillPerSecond: 1 / 60 })
  search() {
    return { results: [] };
  }
}

@Module({
  imports: [RateLimitModule.forRoot({ store })],
  controllers: [SearchController],
  providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
})
class AppModule {}

describe('GET /search (NestJS)', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  test('two requests, then 429 with Retry-After', async () => {
    const server = app.getHttpServer();
    await request(server).get('/search').set('X-API-Key', 'test-key').expect(200);
    await request(server).get('/search').set('X-API-Key', 'test-key').expect(200);
    const res = await request(server).get('/search').set('X-API-Key', 'test-key').expect(429);
    expect(res.headers['retry-after']).toBe('60');
    expect(res.body).toMatchObject({ status: 429, title: 'Too Many Requests' });
    await request(server).get('/search').set('X-API-Key', 'another-key').expect(200);
  });
});
