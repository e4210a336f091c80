// Jest runs the TypeScript tests against the packages' sources; tests/packaging checks the builds.
// No global check for Redis: a suite that needs a server says so at its top (requireRedis(),
// requireCluster() in test/support), and the suites that need none run without one.
//
// One project per framework version the adapters' peer ranges claim: each runs that adapter's
// test files (test/http/<framework>*.test.ts) with the framework resolved to an aliased install
// of that version (root devDependencies such as "express4": "npm:express@4.22.3").
const { readdirSync } = require('node:fs');
const { devDependencies } = require('./package.json');

// Every package directory under packages/, so a new package gets the coverage floor by itself.
const packages = readdirSync(`${__dirname}/packages`, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** The version a devDependency pins, through an npm alias or not: `npm:express@4.22.3` -> 4.22.3. */
const pinned = (name) => devDependencies[name].replace(/^npm:.*@/, '');

const shared = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
  },
};
const sources = {
  '^@tokenbucket/(core|express|fastify|hono|koa|nestjs|opentelemetry|prometheus)$': '<rootDir>/packages/$1/src/index.ts',
  '^@tokenbucket/core/(adapter|metrics|store)$': '<rootDir>/packages/core/src/$1.ts',
  '^(\\.{1,2}/.*)\\.js$': '$1',
};

/** Maps a module and its subpaths (`koa`, `koa/package.json`) to an aliased install. */
const alias = (module, installed) => ({ [`^${module.replace('/', '\\/')}(/.*)?$`]: `${installed}$1` });

/**
 * A project running the test files of test/http named `<prefix>*.test.ts` with `modules`
 * (module -> aliased install; none: the root install). `versions` is what the project promises
 * to load; test/http/framework-versions.test.ts checks it.
 */
function project(displayName, prefix, versions, modules = {}) {
  return {
    ...shared,
    displayName,
    roots: ['<rootDir>/test'],
    testMatch: [`<rootDir>/test/http/**/${prefix}*.test.ts`, '<rootDir>/test/http/framework-versions.test.ts'],
    moduleNameMapper: { ...sources, ...Object.assign({}, ...Object.entries(modules).map(([m, i]) => alias(m, i))) },
    globals: { FRAMEWORK_VERSIONS: versions },
  };
}

const koa = { 3: pinned('koa'), 2: pinned('koa2') };
const router = { 15: pinned('@koa/router'), 14: pinned('koa-router14'), 13: pinned('koa-router13'), 12: pinned('koa-router12') };
const koaProjects = [];
for (const k of [3, 2]) {
  for (const r of [15, 14, 13, 12]) {
    const modules = {};
    if (k !== 3) modules.koa = `koa${k}`;
    if (r !== 15) modules['@koa/router'] = `koa-router${r}`;
    koaProjects.push(project(`koa ${koa[k]} + @koa/router ${router[r]}`, 'koa', { koa: koa[k], '@koa/router': router[r] }, modules));
  }
}

// Hono 4 at the peer range's floor and at its latest, on @hono/node-server 2 (and 1, which most
// Node.js apps still serve Hono with).
const honoProjects = [
  ['hono', '@hono/node-server', {}],
  ['hono4-6', '@hono/node-server', { hono: 'hono4-6' }],
  ['hono', 'hono-node-server1', { '@hono/node-server': 'hono-node-server1' }],
].map(([hono, server, modules]) => {
  const versions = { hono: pinned(hono), '@hono/node-server': pinned(server) };
  return project(`hono ${versions.hono} (@hono/node-server ${versions['@hono/node-server']})`, 'hono', versions, modules);
});
// NestJS: each major on each platform, the @nestjs packages mapped to that major's aliased install
// ("nestjs-core10": "npm:@nestjs/core@10.4.9"); each platform package brings its own Express or
// Fastify. test/http/nest.test.ts (the Express middleware recipe) runs on the Express platform.
// NestJS 12 ships ES modules only: its files are transformed to CommonJS (test/support/esm-to-cjs.cjs).
const nestProjects = [];
for (const major of [12, 11, 10]) {
  const installed = (module) => (major === 11 ? module : `nestjs-${module.slice('@nestjs/'.length)}${major}`);
  for (const platform of ['express', 'fastify']) {
    const names = ['@nestjs/common', '@nestjs/core', `@nestjs/platform-${platform}`];
    const versions = Object.fromEntries(names.map((m) => [m, pinned(installed(m))]));
    const modules = major === 11 ? {} : Object.fromEntries(names.map((m) => [m, installed(m)]));
    const nest = project(`nestjs ${versions['@nestjs/core']} (${platform})`, 'nest', versions, modules);
    if (platform !== 'express') nest.testPathIgnorePatterns = ['/node_modules/', '/test/http/nest\\.test\\.ts$'];
    nest.globals.NEST_PLATFORM = platform;
    if (major === 12) {
      // ESM-only: its files (and nothing else of node_modules) go through a transform to CommonJS.
      nest.transform = { ...shared.transform, '^.+\\.js$': '<rootDir>/test/support/esm-to-cjs.cjs' };
      nest.transformIgnorePatterns = ['^(?!.*/\\.pnpm/@nestjs\\+[a-z-]+@12\\.).*/node_modules/'];
    }
    nestProjects.push(nest);
  }
}

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/support/projects-reporter.cjs'],
  projects: [
    {
      ...shared,
      displayName: 'core',
      // packages/ is a root too so that a source file no test loads still shows up in coverage, at 0%.
      roots: ['<rootDir>/test', '<rootDir>/packages'],
      testMatch: ['**/*.test.ts'],
      // The files the framework projects below run: every other test file runs here, once.
      testPathIgnorePatterns: ['/node_modules/', '/test/http/(.*/)?(express|fastify|hono|koa|nest|framework-versions)[^/]*\\.test\\.ts$'],
      moduleNameMapper: sources,
    },
    project(`express ${pinned('express')}`, 'express', { express: pinned('express') }),
    project(`express ${pinned('express4')}`, 'express', { express: pinned('express4') }, { express: 'express4' }),
    project(`fastify ${pinned('fastify')}`, 'fastify', { fastify: pinned('fastify') }),
    ...honoProjects,
    ...koaProjects,
    ...nestProjects,
  ],

  // Coverage (on with `--coverage`, which scripts/test.sh passes on a full run) counts the
  // packages' sources as the tests load them through moduleNameMapper, in every project. Code
  // that runs only in child processes (test/concurrency's hammer, the packaging consumers) is not
  // counted.
  collectCoverageFrom: ['packages/*/src/**/*.ts'],
  coverageDirectory: '<rootDir>/coverage',
  coverageReporters: ['text-summary', 'json-summary', 'lcov'],
  // The floor is per package, not global: a global figure would let a thin adapter go untested
  // under the weight of core's lines. scripts/coverage-summary.mjs prints the figures per package.
  coverageThreshold: Object.fromEntries(packages.map((name) => [`./packages/${name}/src/`, { lines: 95 }])),
};
