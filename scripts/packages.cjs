#!/usr/bin/env node
// The one list of the repository's packages: every directory under packages/ with a package.json,
// and the entry points its `exports` field publishes. jest.config.cjs (projects' module mapping,
// the coverage floor per package) and test/tooling (the import-cycle check) read it from here;
// tsconfig.json's `paths` and .changeset/config.json's fixed group are JSON, so this script
// writes them (`node scripts/packages.cjs --write`) and test/tooling/packages.test.ts fails when
// they differ from it: a new package cannot be half-registered.
const { existsSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { execFileSync } = require('node:child_process');
const { isDeepStrictEqual } = require('node:util');

const repoRoot = join(__dirname, '..');

/**
 * The TypeScript source an export's built file comes from: `./dist/esm/adapter.js` -> `src/adapter.ts`
 * (the build compiles src/ to dist/esm and dist/cjs file for file).
 */
function sourceOf(target) {
  const file = typeof target === 'string' ? target : (target?.import?.default ?? target?.require?.default ?? target?.default);
  const m = typeof file === 'string' ? /^\.\/dist\/(?:esm|cjs)\/(.+)\.(?:m|c)?js$/.exec(file) : null;
  return m ? `src/${m[1]}.ts` : undefined;
}

/**
 * Every package under packages/: its directory name, its npm name, and each entry point a user
 * imports (`@tokenbucket/core`, `@tokenbucket/core/adapter`, ...) with the source file, relative to
 * the repository root, that it is built from.
 */
function packages(root = repoRoot) {
  return readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'packages', entry.name, 'package.json')))
    .map((entry) => entry.name)
    .sort()
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
      const entries = Object.entries(pkg.exports ?? { '.': pkg.main })
        .filter(([subpath]) => subpath !== './package.json')
        .map(([subpath, target]) => {
          const source = sourceOf(target);
          if (source === undefined) throw new Error(`packages/${dir}/package.json: exports["${subpath}"] names no ./dist/{esm,cjs}/*.js file`);
          return { specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, source: `packages/${dir}/${source}` };
        });
      return { dir, name: pkg.name, private: pkg.private === true, entries };
    });
}

/** tsconfig.json's `paths`: each entry point to its source. */
function tsconfigPaths(root = repoRoot) {
  return Object.fromEntries(packages(root).flatMap((p) => p.entries.map((e) => [e.specifier, [e.source]])));
}

/** The changesets fixed group: every published package, released under one version. */
function fixedGroup(root = repoRoot) {
  return packages(root)
    .filter((p) => !p.private)
    .map((p) => p.name);
}

/** Jest's moduleNameMapper entries: each entry point, exactly, to its source under <rootDir>. */
function jestSources(root = repoRoot) {
  const quote = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return Object.fromEntries(packages(root).flatMap((p) => p.entries.map((e) => [`^${quote(e.specifier)}$`, `<rootDir>/${e.source}`])));
}

/** True when `a` holds the same names as `b`, in any order. */
function sameNames(a, b) {
  return Array.isArray(a) && isDeepStrictEqual([...a].sort(), [...b].sort());
}

/** The JSON files that list the packages, and each one as it should be for packages/*. */
function registrations(root) {
  return [
    ['tsconfig.json', (json) => ({ ...json, compilerOptions: { ...json.compilerOptions, paths: tsconfigPaths(root) } })],
    // The group's order is free: the same names in any order are the same group.
    ['.changeset/config.json', (json) => ({ ...json, fixed: sameNames(json.fixed?.[0], fixedGroup(root)) ? json.fixed : [fixedGroup(root)] })],
  ];
}

/**
 * What is half-registered under `root`: each JSON file whose package list differs from packages/*,
 * and each entry point whose source file is missing. Empty when all is well.
 */
function check(root = repoRoot) {
  const problems = [];
  for (const [file, update] of registrations(root)) {
    const before = JSON.parse(readFileSync(join(root, file), 'utf8'));
    if (!isDeepStrictEqual(before, update(before))) problems.push(`${file} does not list exactly the packages under packages/`);
  }
  for (const p of packages(root)) {
    for (const e of p.entries) if (!existsSync(join(root, e.source))) problems.push(`${e.specifier}: ${e.source} does not exist`);
  }
  return problems;
}

/** Rewrites the JSON files that list the packages; returns the files written. */
function write(root = repoRoot) {
  const written = [];
  for (const [file, update] of registrations(root)) {
    const before = JSON.parse(readFileSync(join(root, file), 'utf8'));
    const after = update(before);
    if (isDeepStrictEqual(before, after)) continue;
    writeFileSync(join(root, file), `${JSON.stringify(after, null, 2)}\n`);
    // Biome's layout for JSON (short arrays on one line), as `pnpm format` would leave it.
    execFileSync(process.execPath, [require.resolve('@biomejs/biome/bin/biome'), 'format', '--write', file], { cwd: root, stdio: 'ignore' });
    written.push(file);
  }
  return written;
}

module.exports = { packages, tsconfigPaths, fixedGroup, jestSources, check, write };

if (require.main === module) {
  if (process.argv.includes('--write')) {
    for (const file of write()) console.log(`packages: wrote ${file}`);
  } else {
    const problems = check();
    for (const problem of problems) console.error(`packages: ${problem}`);
    if (problems.length > 0) console.error('packages: node scripts/packages.cjs --write rewrites the JSON files from packages/*');
    else
      console.log(
        `packages: ${packages()
          .map((p) => p.name)
          .join(', ')}`,
      );
    process.exitCode = problems.length > 0 ? 1 : 0;
  }
}
