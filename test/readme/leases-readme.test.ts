// The README's "Global quotas and hot keys" shows test/readme/global-quota.test.ts as it is, so
// the recipe it shows is code that runs; and RedisStore's option table lists `leases`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const sectionOf = (heading: string): string => {
  const at = readme.indexOf(`\n${heading}\n`);
  return at < 0 ? '' : readme.slice(at, readme.indexOf('\n## ', at + 1));
};

test('the README shows test/readme/global-quota.test.ts as it is', () => {
  const section = sectionOf('## Global quotas and hot keys: token leases');
  expect(section).not.toBe('');
  expect(section).toContain(`\`\`\`ts\n${readFileSync(join(__dirname, 'global-quota.test.ts'), 'utf8')}\`\`\``);
});

test("RedisStore's option table lists leases with its default", () => {
  expect(sectionOf('### RedisStore')).toMatch(/\n\| `leases` \| `false` \| /);
});
