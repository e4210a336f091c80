// The framework matrix of jest.config.cjs keeps its promise: every test file runs somewhere, each
// framework major runs its adapter's whole HTTP contract, and the files that depend on the exact
// version of a framework or router run on every version the projects install.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

interface Project {
  displayName: string;
  testMatch: string[];
  testPathIgnorePatterns?: string[];
  globals?: { FRAMEWORK_VERSIONS?: Record<string, string>; NEST_PLATFORM?: string };
}
// eslint-style require: the config is CommonJS, read as jest reads it.
const config = require(join(root, 'jest.config.cjs')) as { projects: Project[] };

/**
 * Per adapter: its test files (test/http/<file>.test.ts); which of them depend on the exact
 * version of each module the projects vary (they run on every version of it); and the modules
 * whose every major runs all of the adapter's files (and, where a module is not on every project,
 * such as a NestJS platform, the files that must run with it at least once).
 */
const MATRIX: Record<string, { files: string[]; everyVersion: Record<string, string[]>; everyMajor: string[]; somewhere?: Record<string, string[]> }> = {
  express: {
    files: ['express', 'express-routes', 'express-bucket-names'],
    everyVersion: { express: ['express', 'express-routes', 'express-bucket-names'] },
    everyMajor: ['express'],
  },
  fastify: {
    files: ['fastify', 'fastify-plugin', 'fastify-hook'],
    everyVersion: { fastify: ['fastify', 'fastify-plugin', 'fastify-hook'] },
    everyMajor: ['fastify'],
  },
  hono: {
    files: ['hono', 'hono-bucket-names', 'hono-fetch'],
    everyVersion: { hono: ['hono-bucket-names', 'hono-fetch'], '@hono/node-server': ['hono-bucket-names', 'hono-fetch'] },
    everyMajor: ['hono', '@hono/node-server'],
  },
  koa: {
    files: ['koa', 'koa-routes', 'koa-bucket-names'],
    everyVersion: { koa: ['koa-routes', 'koa-bucket-names'], '@koa/router': ['koa-routes', 'koa-bucket-names'] },
    everyMajor: ['koa'],
  },
  nestjs: {
    files: ['nest', 'nest-guard', 'nest-contract'],
    everyVersion: { '@nestjs/core': ['nest-guard'], '@nestjs/platform-express': ['nest-guard', 'nest'], '@nestjs/platform-fastify': ['nest-guard'] },
    everyMajor: ['@nestjs/core'],
    // Both platforms run the whole contract, on some major.
    somewhere: { '@nestjs/platform-express': ['nest-contract'], '@nestjs/platform-fastify': ['nest-contract'] },
  },
};

/** test/http/koa-routes.test.ts -> koa-routes; other paths unchanged (relative to the root). */
const short = (path: string) => path.replace(/^test\/http\/(.*)\.test\.ts$/, '$1');

function testFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}
const allFiles = [...testFiles('test'), ...testFiles('packages').filter((f) => !f.includes('/dist/'))];

/** The files a project runs: its exact testMatch paths, or (core) every test file but the ignored ones. */
function filesOf(project: Project): string[] {
  if (project.testMatch.every((m) => m.startsWith('<rootDir>/') && !m.includes('*'))) {
    return project.testMatch.map((m) => relative(root, m.replace('<rootDir>', root)));
  }
  const ignored = (project.testPathIgnorePatterns ?? []).map((p) => new RegExp(p));
  return allFiles.filter((f) => !ignored.some((re) => re.test(`${root}/${f}`)));
}

const projects = config.projects.map((p) => ({ name: p.displayName, files: filesOf(p).map(short), versions: p.globals?.FRAMEWORK_VERSIONS ?? {} }));
const frameworkProjects = projects.filter((p) => Object.keys(p.versions).length > 0);
const familyOf = (p: { files: string[] }) => Object.keys(MATRIX).find((family) => p.files.some((f) => MATRIX[family]!.files.includes(f)));
const major = (version: string) => version.split('.')[0]!;

test('every test file runs in exactly one project, or (test/http/<adapter>*) in the framework projects only', () => {
  const core = projects.find((p) => p.name === 'core')!;
  const inFramework = new Set(frameworkProjects.flatMap((p) => p.files));
  const nowhere = allFiles.map(short).filter((f) => !core.files.includes(f) && !inFramework.has(f));
  const twice = core.files.filter((f) => inFramework.has(f));
  expect({ nowhere, twice }).toEqual({ nowhere: [], twice: [] });
});

test('every file a framework project names exists', () => {
  const missing = frameworkProjects.flatMap((p) => p.files.filter((f) => !allFiles.map(short).includes(f)).map((f) => `${p.name}: ${f}`));
  expect(missing).toEqual([]);
});

test('every framework project checks the versions it loads (framework-versions), and belongs to one adapter', () => {
  const unchecked = frameworkProjects.filter((p) => !p.files.includes('framework-versions') || familyOf(p) === undefined).map((p) => p.name);
  expect(unchecked).toEqual([]);
});

test("each adapter's files run only in that adapter's projects, and every one of them runs", () => {
  for (const [family, { files }] of Object.entries(MATRIX)) {
    const own = frameworkProjects.filter((p) => familyOf(p) === family);
    const foreign = own.flatMap((p) => p.files.filter((f) => f !== 'framework-versions' && !files.includes(f)).map((f) => `${p.name}: ${f}`));
    expect({ family, foreign, neverRun: files.filter((f) => !own.some((p) => p.files.includes(f))) }).toEqual({ family, foreign: [], neverRun: [] });
  }
});

describe.each(Object.entries(MATRIX))('%s', (family, { files, everyVersion, everyMajor, somewhere = {} }) => {
  const own = () => frameworkProjects.filter((p) => familyOf(p) === family);

  test('the version-sensitive files run on every installed version of what they depend on', () => {
    const missing: string[] = [];
    for (const [module, sensitive] of Object.entries(everyVersion)) {
      const versions = new Set(own().flatMap((p) => (p.versions[module] ? [p.versions[module]] : [])));
      expect(versions.size).toBeGreaterThan(0);
      for (const version of versions) {
        for (const file of sensitive) {
          if (!own().some((p) => p.versions[module] === version && p.files.includes(file))) missing.push(`${file} on ${module} ${version}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  test("every major runs all of the adapter's files, the whole HTTP contract included", () => {
    const missing: string[] = [];
    for (const module of everyMajor) {
      const majors = new Set(own().flatMap((p) => (p.versions[module] ? [major(p.versions[module])] : [])));
      expect(majors.size).toBeGreaterThan(0);
      for (const m of majors) {
        for (const file of files) {
          if (!own().some((p) => p.versions[module] !== undefined && major(p.versions[module]) === m && p.files.includes(file)))
            missing.push(`${file} on ${module} ${m}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  test('the files that must run with a module at least once do', () => {
    const missing = Object.entries(somewhere).flatMap(([module, needed]) =>
      needed.filter((file) => !own().some((p) => p.versions[module] !== undefined && p.files.includes(file))).map((file) => `${file} with ${module}`),
    );
    expect(missing).toEqual([]);
  });
});

test('the matrix covers every version of a framework the root installs under an alias', () => {
  // Every aliased framework install ("koa-router12": "npm:@koa/router@12.0.2") is loaded by a project.
  const { devDependencies } = require(join(root, 'package.json')) as { devDependencies: Record<string, string> };
  const loaded = new Set(frameworkProjects.flatMap((p) => Object.entries(p.versions).map(([m, v]) => `${m}@${v}`)));
  const frameworks = new Set(frameworkProjects.flatMap((p) => Object.keys(p.versions)));
  const aliased = Object.values(devDependencies)
    .map((spec) => /^npm:(@?[^@]+)@(.+)$/.exec(spec))
    .filter((m): m is RegExpExecArray => m !== null && frameworks.has(m[1]!))
    .map((m) => `${m[1]}@${m[2]}`);
  expect(aliased.length).toBeGreaterThan(0);
  expect(aliased.filter((a) => !loaded.has(a))).toEqual([]);
});
