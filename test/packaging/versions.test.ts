// Every version a README or a docs page names for a dependency is checked against the
// package.json it describes, so a peer range or an engine that changes without its docs (or docs
// that drift from it) fails here. Two conventions:
// - Each package README has a `## Requirements` table, one row per engine and peer dependency,
//   `| \`name\` | \`range\` | engine, peer or optional peer |`: it must be package.json's exactly.
// - Prose names versions after the package's name ("ioredis 5 and 6", "Express 4.21+",
//   "@koa/router 12 to 15", "Node.js 20+"): a list or span of majors must be the majors the peer
//   range allows, a minimum must be the range's lower bound, and a single version must be inside
//   the range. Names no package.json declares (Redis the server, Bun, Deno) are not checked.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

interface Manifest {
  name: string;
  engines?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const packages = readdirSync(join(root, 'packages')).sort();
const manifests = new Map<string, Manifest>(
  packages.map((dir) => [dir, JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest]),
);

/** The Requirements rows package.json implies, in the table's format. */
function requirementRows(manifest: Manifest): string[] {
  const rows = [`| \`node\` | \`${manifest.engines?.node}\` | engine |`];
  for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
    const kind = manifest.peerDependenciesMeta?.[name]?.optional === true ? 'optional peer' : 'peer';
    rows.push(`| \`${name}\` | \`${range.replaceAll('|', '\\|')}\` | ${kind} |`);
  }
  return rows;
}

/** The rows of the table under `## Requirements`, past its header. */
function tableRows(readme: string): string[] {
  const at = readme.indexOf('\n## Requirements\n');
  if (at < 0) return [];
  const next = readme.indexOf('\n## ', at + 1);
  return readme
    .slice(at, next < 0 ? undefined : next)
    .split('\n')
    .filter((l) => l.startsWith('| `'));
}

test.each(packages)("packages/%s/README.md's Requirements table is its package.json's engines and peers", (dir) => {
  const readme = readFileSync(join(root, 'packages', dir, 'README.md'), 'utf8');
  expect(tableRows(readme)).toEqual(requirementRows(manifests.get(dir)!));
});

// --- Versions in prose ---

/** How the docs spell a dependency, and its npm name ('node' is the engine). */
const SPELLINGS: [RegExp, string][] = [
  [/Node\.js|Node(?= \d)/, 'node'],
  [/Express/, 'express'],
  [/Fastify/, 'fastify'],
  [/Koa(?!\/)/, 'koa'],
  [/@koa\/router/, '@koa/router'],
  [/Hono/, 'hono'],
  [/NestJS/, '@nestjs/core'],
  [/ioredis/, 'ioredis'],
  [/node-redis|`redis`/, 'redis'],
  [/prom-client/, 'prom-client'],
  [/@opentelemetry\/api/, '@opentelemetry/api'],
];
/** The npm name of a claim: the spelling it starts with (a lookahead such as Node's needs what follows). */
const spelledAs = (claim: string): string => SPELLINGS.find(([re]) => new RegExp(`^(?:${re.source})`).test(claim))![1];
const VERSION = String.raw`\^?\d+(?:\.\d+)*\+?`;
const CLAIM = new RegExp(
  String.raw`(${SPELLINGS.map(([re]) => re.source).join('|')})\`?\s+(${VERSION}(?:(?:,\s*|,?\s+and\s+|,?\s+or\s+|\s+to\s+)${VERSION}(?![\d.]))*)(\s+(?:or|and) later)?`,
  'g',
);

interface Claim {
  file: string;
  line: number;
  text: string;
  dependency: string;
  versions: string[];
  /** "12 to 15": every major between. */
  span: boolean;
  /** "4.21+", "20 or later": a lower bound. */
  minimum: boolean;
}

/** The README, every package README and every docs page, outside code blocks. */
function docs(): string[] {
  const pages = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(root, 'docs', f));
  return [join(root, 'README.md'), ...packages.map((dir) => join(root, 'packages', dir, 'README.md')), ...pages].sort();
}

function claims(file: string): Claim[] {
  // Code blocks blanked (line numbers kept); a claim may run over a line break.
  let inCode = false;
  const text = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => {
      if (l.startsWith('```')) inCode = !inCode;
      return inCode || l.startsWith('```') ? '' : l;
    })
    .join('\n');
  return [...text.matchAll(CLAIM)].map((m) => ({
    file: relative(root, file),
    line: text.slice(0, m.index).split('\n').length,
    text: m[0].replace(/\s+/g, ' '),
    dependency: spelledAs(m[0]),
    versions: m[2]!.split(/,\s*|,?\s+and\s+|,?\s+or\s+|\s+to\s+/),
    span: /\sto\s/.test(m[2]!),
    minimum: m[3] !== undefined || m[2]!.endsWith('+'),
  }));
}

/** The majors a range allows (`^4.21.0 || ^5.0.0`: 4, 5) and its lower bound (`4.21`). */
function parseRange(range: string): { majors: number[]; lower: number[]; open: boolean } {
  const parts = range.split('||').map((p) => p.trim());
  const bounds = parts.map((p) => {
    const m = /^(\^|>=)?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(p);
    if (m === null) throw new Error(`a range this test cannot read: ${range}`);
    return { open: m[1] === '>=', version: [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)] };
  });
  return { majors: bounds.map((b) => b.version[0]!), lower: bounds[0]!.version, open: bounds.some((b) => b.open) };
}

/** The ranges package.json files give `dependency`: the page's own package first, when it declares it. */
function rangesFor(dependency: string, file: string): string[] {
  const own = /^packages\/([^/]+)\//.exec(file)?.[1];
  const of = (m: Manifest): string | undefined => (dependency === 'node' ? m.engines?.node : m.peerDependencies?.[dependency]);
  const mine = own === undefined ? undefined : of(manifests.get(own)!);
  if (mine !== undefined) return [mine];
  return [...new Set([...manifests.values()].map(of).filter((r): r is string => r !== undefined))];
}

/** Why `claim` disagrees with `range`, or undefined when it agrees. */
function disagreement(claim: Claim, range: string): string | undefined {
  const { majors, lower, open } = parseRange(range);
  const versions = claim.versions.map((v) =>
    v
      .replace(/^\^|\+$/g, '')
      .split('.')
      .map(Number),
  );
  const claimed = versions.map((v) => v[0]!);
  if (open) {
    // An engine such as `>=20`: every version named is at least the bound, and a minimum is its major.
    if (claimed.some((v) => v < lower[0]!)) return `below ${range}`;
    if (claim.minimum && claimed[0] !== lower[0]) return `the minimum is ${lower[0]} (${range})`;
    return undefined;
  }
  if (claim.minimum) {
    const v = versions[0]!;
    const same = v.every((n, i) => n === lower[i]);
    return same && claimed[0] === majors[0] ? undefined : `the lower bound is ${lower.slice(0, v.length).join('.')} (${range})`;
  }
  const expanded = claim.span ? Array.from({ length: claimed[1]! - claimed[0]! + 1 }, (_, i) => claimed[0]! + i) : claimed;
  const set = [...new Set(expanded)].sort((a, b) => a - b);
  if (set.length > 1 || claim.versions[0]!.startsWith('^')) {
    return JSON.stringify(set) === JSON.stringify([...new Set(majors)].sort((a, b) => a - b))
      ? undefined
      : `the majors are ${[...new Set(majors)].join(', ')} (${range})`;
  }
  return majors.includes(set[0]!) ? undefined : `${set[0]} is outside ${range}`;
}

const all = docs().flatMap(claims);

test('the docs name versions of the dependencies (so the check below has something to check)', () => {
  const named = new Set(all.map((c) => c.dependency));
  for (const dependency of ['node', 'express', 'fastify', 'koa', '@koa/router', 'hono', '@nestjs/core', 'ioredis', 'redis']) {
    expect([dependency, named.has(dependency)]).toEqual([dependency, true]);
  }
  expect(all.length).toBeGreaterThanOrEqual(30);
});

test('every version named in prose agrees with the package.json it describes', () => {
  const wrong: string[] = [];
  for (const claim of all) {
    const ranges = rangesFor(claim.dependency, claim.file);
    if (ranges.length === 0) continue;
    const why = ranges.map((r) => disagreement(claim, r));
    if (why.every((w) => w !== undefined)) wrong.push(`${claim.file}:${claim.line}: "${claim.text}": ${why.join('; ')}`);
  }
  expect(wrong).toEqual([]);
});

test('the check catches the drift it was written for', () => {
  const claim = (text: string, file = 'docs/x.md'): string | undefined => {
    const m = [...text.matchAll(CLAIM)][0];
    if (m === undefined) return 'not a claim';
    const dependency = spelledAs(m[0]);
    const c: Claim = {
      file,
      line: 1,
      text,
      dependency,
      versions: m[2]!.split(/,\s*|,?\s+and\s+|,?\s+or\s+|\s+to\s+/),
      span: /\sto\s/.test(m[2]!),
      minimum: m[3] !== undefined || m[2]!.endsWith('+'),
    };
    const why = rangesFor(c.dependency, c.file).map((r) => disagreement(c, r));
    return why.every((w) => w !== undefined) ? why.join('; ') : undefined;
  };
  // Core's README once said "ioredis ^5" for a peer range of 5 and 6.
  expect(claim('Peer dependency: `ioredis` ^5, optional.', 'packages/core/README.md')).toMatch(/majors are 5, 6/);
  expect(claim('ioredis 5 and 6')).toBeUndefined();
  expect(claim('node-redis (`redis` 4, 5 and 6)')).toBeUndefined();
  expect(claim('node-redis 4 and 5')).toMatch(/majors/);
  expect(claim('@koa/router 12 to 14')).toMatch(/majors/);
  expect(claim('@koa/router 12 to 15')).toBeUndefined();
  expect(claim('Express 4.21+ and 5')).toBeUndefined();
  expect(claim('Express 4.18+')).toMatch(/lower bound/);
  expect(claim('Node.js 18 or later')).toMatch(/below >=20/);
  expect(claim('Node.js 22 or later')).toMatch(/minimum is 20/);
  expect(claim('Node.js 20+')).toBeUndefined();
  expect(claim('Fastify 4')).toMatch(/outside/);
});

test("an adapter's README names node-redis beside ioredis (a RedisStore takes either)", () => {
  for (const dir of ['express', 'fastify', 'koa', 'hono', 'nestjs']) {
    const readme = readFileSync(join(root, 'packages', dir, 'README.md'), 'utf8');
    expect([dir, /node-redis/.test(readme), /`ioredis` is needed/.test(readme)]).toEqual([dir, true, false]);
  }
});

// --- The versions the tests install, as docs/README.md lists them ---

test("docs/README.md's Compatibility table is what the root package.json installs, and covers every major a peer range names", () => {
  const page = readFileSync(join(root, 'docs', 'README.md'), 'utf8');
  const at = page.indexOf('\n## Compatibility\n');
  expect(at).toBeGreaterThan(0);
  const rows = page
    .slice(at, page.indexOf('\n## ', at + 1) < 0 ? undefined : page.indexOf('\n## ', at + 1))
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => {
      const [name, versions] = l.split(' | ') as [string, string];
      return { name: name.slice(3, -1), versions: [...versions.matchAll(/`([^`]+)`/g)].map((m) => m[1]!) };
    });
  expect(rows.length).toBeGreaterThanOrEqual(10);
  // What the root package.json installs, per npm name (an alias `npm:name@version` counts as name).
  const installed = new Map<string, string[]>();
  const root_ = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  for (const [key, spec] of Object.entries(root_.devDependencies)) {
    const alias = /^npm:(.+)@([^@]+)$/.exec(spec);
    const [name, version] = alias === null ? [key, spec] : [alias[1]!, alias[2]!];
    installed.set(name, [...(installed.get(name) ?? []), version]);
  }
  const sorted = (vs: string[]): string[] => [...vs].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  for (const row of rows) expect([row.name, row.versions]).toEqual([row.name, sorted(installed.get(row.name) ?? [])]);
  // Every peer (but the Nest helpers reflect-metadata and rxjs) is in the table, with every major its range names.
  const listed = new Map(rows.map((r) => [r.name, r.versions]));
  for (const manifest of manifests.values()) {
    for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
      if (name === 'reflect-metadata' || name === 'rxjs' || name.startsWith('@opentelemetry/') || name === 'prom-client') continue;
      const majors = [...new Set(parseRange(range).majors)].sort((a, b) => a - b);
      const tested = [...new Set((listed.get(name) ?? []).map((v) => Number(v.split('.')[0])))].sort((a, b) => a - b);
      expect([manifest.name, name, tested]).toEqual([manifest.name, name, majors]);
    }
  }
});
