// The README's "Testing your app" shows the test files beside this one as they are, so the code
// it shows is code that runs; so does the NestJS package's README.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const start = readme.indexOf('\n## Testing your app\n');
const section = start < 0 ? '' : readme.slice(start, readme.indexOf('\n## ', start + 1));

test.each(['express', 'fastify', 'koa'])('the README shows test/readme/%s.test.ts as it is', (name) => {
  expect(start).toBeGreaterThan(0);
  const file = readFileSync(join(__dirname, `${name}.test.ts`), 'utf8');
  expect(section).toContain(`\`\`\`ts\n${file}\`\`\``);
});

test('the README shows test/readme/login.test.ts as it is', () => {
  const at = readme.indexOf('\n## Protecting a login\n');
  expect(at).toBeGreaterThan(0);
  const login = readme.slice(at, readme.indexOf('\n## ', at + 1));
  expect(login).toContain(`\`\`\`ts\n${readFileSync(join(__dirname, 'login.test.ts'), 'utf8')}\`\`\``);
});

test('the README shows test/readme/concurrency.test.ts as it is', () => {
  const at = readme.indexOf('\n## Concurrency: requests in flight\n');
  expect(at).toBeGreaterThan(0);
  const section = readme.slice(at, readme.indexOf('\n## ', at + 1));
  expect(section).toContain(`\`\`\`ts\n${readFileSync(join(__dirname, 'concurrency.test.ts'), 'utf8')}\`\`\``);
});

test("packages/nestjs/README.md's Testing your app shows test/readme/nestjs.test.ts as it is", () => {
  const nest = readFileSync(join(__dirname, '..', '..', 'packages/nestjs/README.md'), 'utf8');
  const at = nest.indexOf('\n## Testing your app\n');
  expect(at).toBeGreaterThan(0);
  const file = readFileSync(join(__dirname, 'nestjs.test.ts'), 'utf8');
  expect(nest.slice(at, nest.indexOf('\n## ', at + 1))).toContain(`\`\`\`ts\n${file}\`\`\``);
});
