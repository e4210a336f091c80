// docs/guides/leases.md shows test/readme/global-quota.test.ts as it is, so the recipe it shows
// is code that runs; and the options reference lists RedisStore's `leases`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const docs = join(__dirname, '..', '..', 'docs');

test('docs/guides/leases.md shows test/readme/global-quota.test.ts as it is', () => {
  const page = readFileSync(join(docs, 'guides', 'leases.md'), 'utf8');
  expect(page).toContain(`\`\`\`ts\n${readFileSync(join(__dirname, 'global-quota.test.ts'), 'utf8')}\`\`\``);
});

test("the options reference's RedisStore table lists leases with its default", () => {
  const options = readFileSync(join(docs, 'reference', 'options.md'), 'utf8');
  const at = options.indexOf('\n## RedisStore\n');
  expect(at).toBeGreaterThan(0);
  expect(options.slice(at, options.indexOf('\n## ', at + 1))).toMatch(/\n\| `leases` \| `false` \| /);
});
