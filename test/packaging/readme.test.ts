// Every TypeScript block of the READMEs and of every page under docs/ compiles as a user's app
// would compile it (strict, `module: nodenext`, the built packages' declarations):
// test/packaging/readme is that app, so a renamed option or export breaks this test. A block that
// is deliberately partial opts out with the info string `ts fragment`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
const app = join(__dirname, 'readme');
const snippets = join(app, 'snippets');

/** Every Markdown file under `dir`, sorted. */
const markdownUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(dir, f))
    .sort();

/** The pages whose blocks users copy: the repository's README, each package's, and docs/. */
const readmes = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'packages'))
    .map((pkg) => join(root, 'packages', pkg, 'README.md'))
    .filter(existsSync),
  ...markdownUnder(join(root, 'docs')),
];

interface Block {
  readme: string;
  /** Line of the README where the code starts (after the fence). */
  line: number;
  info: string;
  code: string;
}

function blocks(readme: string): Block[] {
  const found: Block[] = [];
  const lines = readFileSync(readme, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S.*)?$/.exec(lines[i]!);
    if (open === null) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== '```') end++;
    found.push({ readme, line: start + 1, info: (open[1] ?? '').trim(), code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return found;
}

const all = readmes.flatMap(blocks);
const typescript = all.filter((b) => /^(ts|typescript)\b/.test(b.info));
const fragments = typescript.filter((b) => /\bfragment\b/.test(b.info));
const checked = typescript.filter((b) => !fragments.includes(b));

beforeAll(() => {
  for (const pkg of ['core', 'express', 'fastify', 'hono', 'koa', 'nestjs']) {
    if (!existsSync(join(root, 'packages', pkg, 'dist/esm/index.d.ts'))) {
      throw new Error(`packages/${pkg}/dist is missing: build first (\`pnpm build\`; \`pnpm test\` does it).`);
    }
  }
});

test('the READMEs and docs/ have TypeScript blocks, and the ones left out are the known fragments', () => {
  expect(readmes.filter((r) => r.includes(`${join(root, 'docs')}/`)).length).toBeGreaterThanOrEqual(20);
  expect(checked.length).toBeGreaterThanOrEqual(40);
  expect(fragments.map((b) => `${relative(root, b.readme)}:${b.line}: ${b.code.split('\n')[0]}`)).toEqual([]);
});

test('every TypeScript block compiles under strict + nodenext against the built packages', () => {
  rmSync(snippets, { recursive: true, force: true });
  mkdirSync(snippets);
  const files = new Map<string, Block>();
  for (const block of checked) {
    const file = `${relative(root, block.readme).replace(/[/.-]/g, '_')}_L${block.line}.ts`;
    files.set(file, block);
    // Each block is a module of its own: its names never clash with another block's.
    writeFileSync(join(snippets, file), `${block.code}\nexport {};\n`);
  }
  const tsc = require.resolve('typescript/bin/tsc');
  let output = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], { cwd: app, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    output = String((err as { stdout?: string }).stdout ?? err);
  }
  // Errors as README lines: `README.md:43: error TS2351: ...`.
  const errors = output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = /^snippets\/([^(]+)\((\d+),\d+\): (.*)$/.exec(l);
      const block = m === null ? undefined : files.get(m[1]!);
      return block === undefined ? l : `${relative(root, block.readme)}:${block.line + Number(m![2]) - 1}: ${m![3]}`;
    });
  expect(errors).toEqual([]);
}, 120_000);
