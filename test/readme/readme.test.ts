// The docs show the test files beside this one as they are, so the code they show is code that
// runs: "Testing your app", the login and concurrency recipes, and NestJS's testing section.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const docs = join(__dirname, '..', '..', 'docs', 'guides');
const page = (name: string): string => readFileSync(join(docs, name), 'utf8');
const file = (name: string): string => readFileSync(join(__dirname, name), 'utf8');
/** The text of a page from `heading` to the next heading of the same level (or the end). */
const section = (text: string, heading: string): string => {
  const at = text.indexOf(`\n${heading}\n`);
  if (at < 0) return '';
  const next = text.indexOf('\n## ', at + 1);
  return text.slice(at, next < 0 ? undefined : next);
};

test.each(['express', 'fastify', 'koa'])('docs/guides/testing.md shows test/readme/%s.test.ts as it is', (name) => {
  expect(page('testing.md')).toContain(`\`\`\`ts\n${file(`${name}.test.ts`)}\`\`\``);
});

test('docs/guides/login-protection.md shows test/readme/login.test.ts as it is', () => {
  const login = section(page('login-protection.md'), '## Failed logins only');
  expect(login).not.toBe('');
  expect(login).toContain(`\`\`\`ts\n${file('login.test.ts')}\`\`\``);
});

test('docs/guides/concurrency.md shows test/readme/concurrency.test.ts as it is', () => {
  expect(page('concurrency.md')).toContain(`\`\`\`ts\n${file('concurrency.test.ts')}\`\`\``);
});

test("docs/guides/nestjs.md's Testing your app shows test/readme/nestjs.test.ts as it is", () => {
  const testing = section(page('nestjs.md'), '## Testing your app');
  expect(testing).not.toBe('');
  expect(testing).toContain(`\`\`\`ts\n${file('nestjs.test.ts')}\`\`\``);
});
