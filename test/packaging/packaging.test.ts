// The built packages work the way users import them: ESM and CommonJS, from JS and from TS.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const consumer = join(__dirname, 'consumer');
const root = join(__dirname, '..', '..');

beforeAll(() => {
  for (const pkg of ['core', 'express', 'fastify', 'hono', 'koa', 'prometheus', 'opentelemetry']) {
    for (const dist of ['dist/esm/index.js', 'dist/cjs/index.js']) {
      if (!existsSync(join(root, 'packages', pkg, dist))) {
        throw new Error(`packages/${pkg}/${dist} is missing: build first (\`pnpm build\`; \`pnpm test\` does it).`);
      }
    }
  }
});

const run = (file: string) => JSON.parse(execFileSync(process.execPath, [file], { cwd: consumer, encoding: 'utf8' }));

test.each(['esm.mjs', 'cjs.cjs'])('%s imports every package and uses it', (file) => {
  expect(run(file)).toEqual({
    format: file.startsWith('esm') ? 'esm' : 'cjs',
    allowed: [true, true, false],
    redisStore: 'function',
    error: true,
    express: 'function',
    fastify: true,
    hono: 'function',
    koa: 'function',
    prometheus: [
      ['allowed', 2],
      ['denied', 1],
    ],
  });
});

test('TypeScript consumers (Node16 resolution, .mts and .cts) type-check against the declarations', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  expect(() => execFileSync(process.execPath, [tsc, '-p', consumer], { encoding: 'utf8', stdio: 'pipe' })).not.toThrow();
});
