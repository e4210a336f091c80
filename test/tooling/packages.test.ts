// One list of packages (scripts/packages.cjs: the directories under packages/): jest's module
// mapping and coverage floor, tsconfig.json's paths, the changesets fixed group and the import-cycle
// check all follow it, so a package cannot be half-registered.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const list = require(join(root, 'scripts', 'packages.cjs')) as {
  packages(root?: string): { dir: string; name: string; private: boolean; entries: { specifier: string; source: string }[] }[];
  check(root?: string): string[];
  write(root?: string): string[];
};
const config = require(join(root, 'jest.config.cjs')) as {
  projects: { displayName: string; moduleNameMapper: Record<string, string> }[];
  coverageThreshold: Record<string, unknown>;
};
const dirs = list.packages().map((p) => p.dir);

test('the list is every directory under packages/ with a package.json, each with its entry points', () => {
  expect(dirs).toEqual(expect.arrayContaining(['core', 'express', 'fastify', 'koa']));
  for (const p of list.packages()) {
    expect(p.name).toBe(`@tokenbucket/${p.dir}`);
    expect(p.entries[0]).toEqual({ specifier: p.name, source: `packages/${p.dir}/src/index.ts` });
  }
});

test('tsconfig.json and .changeset/config.json list exactly these packages, and every entry point has its source', () => {
  expect(list.check()).toEqual([]);
});

test('every jest project maps every entry point to its source, and every package has the coverage floor', () => {
  for (const project of config.projects) {
    for (const entry of list.packages().flatMap((p) => p.entries)) {
      const mapped = Object.entries(project.moduleNameMapper).find(([pattern]) => new RegExp(pattern).test(entry.specifier));
      expect([project.displayName, entry.specifier, mapped?.[1]]).toEqual([project.displayName, entry.specifier, `<rootDir>/${entry.source}`]);
    }
  }
  expect(Object.keys(config.coverageThreshold).sort()).toEqual(dirs.map((d) => `./packages/${d}/src/`).sort());
});

describe('a package added under packages/ and registered nowhere else', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'tokenbucket-packages-'));
    mkdirSync(join(tmp, '.changeset'));
    for (const file of ['tsconfig.json', '.changeset/config.json']) cpSync(join(root, file), join(tmp, file));
    for (const dir of [...dirs, 'redis-streams']) mkdirSync(join(tmp, 'packages', dir, 'src'), { recursive: true });
    for (const dir of dirs) {
      cpSync(join(root, 'packages', dir, 'package.json'), join(tmp, 'packages', dir, 'package.json'));
      for (const e of list.packages().find((p) => p.dir === dir)!.entries) writeFileSync(join(tmp, e.source), '');
    }
    const pkg = { name: '@tokenbucket/redis-streams', exports: { '.': { import: { default: './dist/esm/index.js' } }, './package.json': './package.json' } };
    writeFileSync(join(tmp, 'packages', 'redis-streams', 'package.json'), JSON.stringify(pkg));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  test('is found half-registered: both JSON lists, and its missing source, are named', () => {
    expect(list.check(tmp)).toEqual([
      'tsconfig.json does not list exactly the packages under packages/',
      '.changeset/config.json does not list exactly the packages under packages/',
      '@tokenbucket/redis-streams: packages/redis-streams/src/index.ts does not exist',
    ]);
  });

  test('`node scripts/packages.cjs --write` registers it in both', () => {
    writeFileSync(join(tmp, 'packages', 'redis-streams', 'src', 'index.ts'), '');
    expect(list.write(tmp)).toEqual(['tsconfig.json', '.changeset/config.json']);
    expect(list.check(tmp)).toEqual([]);
    const tsconfig = JSON.parse(readFileSync(join(tmp, 'tsconfig.json'), 'utf8'));
    expect(tsconfig.compilerOptions.paths['@tokenbucket/redis-streams']).toEqual(['packages/redis-streams/src/index.ts']);
    const changesets = JSON.parse(readFileSync(join(tmp, '.changeset/config.json'), 'utf8'));
    expect(changesets.fixed[0]).toContain('@tokenbucket/redis-streams');
  });
});
