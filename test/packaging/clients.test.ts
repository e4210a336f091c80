// The packed @tokenbucket/core type-checks in TypeScript apps (strict, module nodenext, ESM and
// CommonJS) that have only the Redis client they use, or none: MemoryStore with no Redis client
// installed at all, node-redis 5 with no ioredis, and ioredis 6 (test/types/clients.types.ts checks
// that RedisStore takes every supported client, in the repository's own type-check). Each app is put together outside the
// repository from the tarball `pnpm pack` makes (test/packaging/pack.ts) and its one client library, so nothing else
// installed here is found. The app without a client is checked as strictly as TypeScript can
// (every declaration file); the others with skipLibCheck, which checks the app's own code, and so
// that RedisStore takes each client, without paying for checking the client library's own
// declarations. skipLibCheck would also hide a declaration of ours that imports a module the app
// lacks: hence the check of what the packed declarations import.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packTarballs } from './pack';

const root = join(__dirname, '..', '..');
const tsc = require.resolve('typescript/bin/tsc');
let work: string;
let tarball: string;

beforeAll(() => {
  const core = join(root, 'packages', 'core');
  for (const dist of ['dist/esm/index.d.ts', 'dist/cjs/index.d.ts']) {
    if (!existsSync(join(core, dist))) throw new Error(`packages/core/${dist} is missing: build first (\`pnpm build\`; \`pnpm test\` does it).`);
  }
  work = mkdtempSync(join(tmpdir(), 'tokenbucket-clients-'));
  tarball = packTarballs().core!;
}, 60_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/**
 * A new app: the sources of test/packaging/clients/<app>, the packed core in its node_modules,
 * and `libraries` (name in the app -> the repository's install of it) linked beside it.
 */
function assemble(app: 'memory' | 'node-redis' | 'ioredis', libraries: Record<string, string>): string {
  const dir = mkdtempSync(join(work, `${app}-`));
  cpSync(join(__dirname, 'clients', app), dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `${app}-app`, private: true }));
  const core = join(dir, 'node_modules', '@tokenbucket', 'core');
  mkdirSync(core, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', core, '--strip-components=1']);
  for (const [name, installed] of Object.entries({ ...libraries, '@types/node': '@types/node' })) {
    const link = join(dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(join(root, 'node_modules', installed)), link, 'dir');
  }
  return dir;
}

/** tsc's complaints about the app, or '' when it compiles. */
function typecheck(dir: string, skipLibCheck: boolean): string {
  try {
    execFileSync(process.execPath, [tsc, '-p', dir, ...(skipLibCheck ? ['--skipLibCheck'] : [])], { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(err);
  }
}

/** Where Node, run in `dir` as the app would be (no NODE_PATH, which pnpm sets), finds `name`, or its error. */
function resolveIn(dir: string, name: string): string {
  const env = { ...process.env };
  delete env.NODE_PATH;
  const r = spawnSync(process.execPath, ['-e', `console.log(require.resolve(${JSON.stringify(name)}))`], { cwd: dir, env, encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

/** Every declaration file of a directory, recursively. */
function declarations(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

const version = (dir: string, name: string): string =>
  (JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

test('the packed declarations import nothing but each other and Node built-ins', () => {
  const dir = assemble('node-redis', {});
  const files = declarations(join(dir, 'node_modules', '@tokenbucket', 'core', 'dist'));
  expect(files.length).toBeGreaterThan(20);
  const imported = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) imported.add(m[1]!);
    for (const m of text.matchAll(/<reference\s+types\s*=\s*['"]([^'"]+)['"]/g)) imported.add(`types:${m[1]}`);
  }
  const builtin = (spec: string) => spec.startsWith('node:') || builtinModules.includes(spec) || spec === 'types:node';
  expect([...imported].filter((spec) => !spec.startsWith('.') && !builtin(spec))).toEqual([]);
  expect(imported.size).toBeGreaterThan(10);
});

test.each(['ioredis', 'node-redis'])("docs/guides/redis.md's %s example is that app's readme.mts, type-checked below", (app) => {
  const page = readFileSync(join(root, 'docs', 'guides', 'redis.md'), 'utf8');
  expect(page).toContain(`\`\`\`ts\n${readFileSync(join(__dirname, 'clients', app, 'readme.mts'), 'utf8')}\`\`\``);
});

describe('an app with no Redis client installed', () => {
  let dir: string;
  beforeAll(() => {
    dir = assemble('memory', {});
  });

  test('neither ioredis nor redis is to be found', () => {
    expect(resolveIn(dir, 'ioredis')).toMatch(/Cannot find module 'ioredis'/);
    expect(resolveIn(dir, 'redis')).toMatch(/Cannot find module 'redis'/);
  });

  test('MemoryStore type-checks (strict, nodenext, .mts and .cts, every declaration file)', () => {
    expect(typecheck(dir, false)).toBe('');
  });
});

describe.each([['redis5', '5.']])('an app with node-redis (%s) and no ioredis', (installed, major) => {
  let dir: string;
  beforeAll(() => {
    dir = assemble('node-redis', { redis: installed });
  });

  test('ioredis is nowhere to be found, and redis is the version under test', () => {
    expect(resolveIn(dir, 'ioredis')).toMatch(/Cannot find module 'ioredis'/);
    expect(version(dir, 'redis').startsWith(major)).toBe(true);
  });

  test('MemoryStore, RedisStore on createClient and createCluster, and the docs example type-check (strict, nodenext, .mts and .cts, skipLibCheck)', () => {
    expect(typecheck(dir, true)).toBe('');
  });
});

test('the node-redis app cannot see ioredis: a file that imports it does not compile there', () => {
  const dir = assemble('node-redis', { redis: 'redis5' });
  writeFileSync(join(dir, 'ioredis.mts'), "import type { Redis } from 'ioredis';\nexport type Client = Redis;\n");
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: './tsconfig.base.json', compilerOptions: { types: [] }, files: ['ioredis.mts'] }));
  cpSync(join(__dirname, 'clients', 'node-redis', 'tsconfig.json'), join(dir, 'tsconfig.base.json'));
  expect(typecheck(dir, true)).toMatch(/TS2307: Cannot find module 'ioredis'/);
});

describe.each([['ioredis6', '6.']])('an app with ioredis (%s)', (installed, major) => {
  let dir: string;
  beforeAll(() => {
    dir = assemble('ioredis', { ioredis: installed });
  });

  test('ioredis is the version under test', () => {
    expect(version(dir, 'ioredis').startsWith(major)).toBe(true);
  });

  test('RedisStore on a Redis and a Cluster, and the docs example, type-check (strict, nodenext, .mts and .cts, skipLibCheck)', () => {
    expect(typecheck(dir, true)).toBe('');
  });
});
