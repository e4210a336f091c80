// The docs hold together: every link between pages (and to a heading) resolves, every documented
// `@default` option of packages/*/src has a row on docs/reference/options.md, every metric name
// a page writes is one the Prometheus package registers, and the README stays a first screen.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

import { documentedDefaults as listDefaults } from '../support/defaults';

const root = join(__dirname, '..', '..');
const GITHUB = 'https://github.com/tokenbucket/tokenbucket/blob/main/';

const pages = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'packages')).map((dir) => join(root, 'packages', dir, 'README.md')),
  ...readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(root, 'docs', f)),
].sort();

/** A page's text with its code blocks blanked, line for line. */
function prose(file: string): string {
  let inCode = false;
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => {
      if (l.startsWith('```')) inCode = !inCode;
      return inCode || l.startsWith('```') ? '' : l;
    })
    .join('\n');
}

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens. */
function anchors(file: string): Set<string> {
  const out = new Set<string>();
  for (const m of prose(file).matchAll(/^#+ (.*)$/gm)) {
    out.add(
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}_\- ]/gu, '')
        .replaceAll(' ', '-'),
    );
  }
  return out;
}

test('every link between the pages resolves, to a file and to a heading', () => {
  const broken: string[] = [];
  for (const page of pages) {
    for (const m of prose(page).matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^(https?|mailto):/.test(target) && !target.startsWith(GITHUB)) continue;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = target.startsWith(GITHUB) ? join(root, path.slice(GITHUB.length)) : path === '' ? page : normalize(join(dirname(page), path));
      if (!existsSync(file)) broken.push(`${relative(root, page)}: ${target}: no such file`);
      else if (anchor !== undefined && file.endsWith('.md') && !anchors(file).has(anchor)) {
        broken.push(`${relative(root, page)}: ${target}: no such heading`);
      }
    }
  }
  expect(broken).toEqual([]);
});

test('a package README links into the docs by absolute URL (relative links break on npm)', () => {
  const relativeLinks = pages
    .filter((p) => p.includes(`${join(root, 'packages')}/`))
    .flatMap((p) => [...prose(p).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => `${relative(root, p)}: ${m[1]}`))
    .filter((l) => !/: (https?:|#)/.test(l));
  expect(relativeLinks).toEqual([]);
});

/** Every option a `@default` in packages/*\/src is on. */
const documentedDefaults = (): string[] => [...new Set(listDefaults().map((d) => d.option))].sort();

test('every documented default has a row on docs/reference/options.md', () => {
  const options = readFileSync(join(root, 'docs', 'reference', 'options.md'), 'utf8');
  // The first cell of each table row: `name`, `a`, `b`, `x.name`, `name` (Fastify)...
  const rows = new Set(
    options
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .flatMap((l) => [...l.split(' | ')[0]!.matchAll(/`(?:\w+\.)?(\w+)`/g)].map((m) => m[1]!)),
  );
  const defaults = documentedDefaults();
  expect(defaults.length).toBeGreaterThan(30);
  expect(defaults.filter((name) => !rows.has(name))).toEqual([]);
});

test('every tokenbucket_* metric a page names is one @tokenbucket/prometheus registers', () => {
  const source = readFileSync(join(root, 'packages', 'prometheus', 'src', 'index.ts'), 'utf8');
  const registered = new Set([...source.matchAll(/\$\{prefix\}(\w+)/g)].map((m) => `tokenbucket_${m[1]}`));
  expect(registered.size).toBeGreaterThanOrEqual(4);
  // The OpenTelemetry README names what OpenTelemetry's own Prometheus exporter makes of its
  // instruments (no unit suffix): not this package's names.
  const named = pages
    .filter((p) => !p.endsWith(join('opentelemetry', 'README.md')))
    .flatMap((p) =>
      [...readFileSync(p, 'utf8').matchAll(/\btokenbucket_([a-z_]+)/g)].map((m) => ({
        page: relative(root, p),
        metric: `tokenbucket_${m[1]!.replace(/_(bucket|sum|count)$/, '')}`,
      })),
    );
  expect(named.length).toBeGreaterThan(10);
  expect(named.filter((n) => !registered.has(n.metric) && n.metric !== 'tokenbucket_')).toEqual([]);
});

test('the README is a front door: at most 250 lines, install and an example in its first 40', () => {
  const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
  expect(lines.length).toBeLessThanOrEqual(250);
  const first = lines.slice(0, 40).join('\n');
  for (const pkg of ['express', 'fastify', 'koa', 'hono', 'nestjs']) expect(first).toContain(`npm install @tokenbucket/${pkg} @tokenbucket/core`);
  expect(first).toContain('```ts\n');
  expect(first).toMatch(/npm run demo/);
  expect(first).toMatch(/npm test/);
});
