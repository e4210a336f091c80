// Jest runs the TypeScript tests against the packages' sources; tests/packaging checks the builds.
// No global check for Redis: a suite that needs a server says so at its top (requireRedis(),
// requireCluster() in test/support), and the suites that need none run without one.
//
// The framework matrix: a project per framework version the adapters' peer ranges claim, each
// with the framework resolved to an aliased install of that version (root devDependencies such as
// "express4": "npm:express@4.22.3"). The whole HTTP contract (contract, bad-input and fault
// suites: test/http/<framework>.test.ts) runs once per framework major; the files whose outcome
// depends on the exact version (route lookup, bucket names, how the request reaches the adapter)
// run on every version. test/tooling/matrix.test.ts holds that rule; test/http/framework-versions
// checks that each project loads the versions it names.
const { cpus } = require('node:os');
const { devDependencies } = require('./package.json');
const { jestSources, packages } = require('./scripts/packages.cjs');

/** The version a devDependency pins, through an npm alias or not: `npm:express@4.22.3` -> 4.22.3. */
const pinned = (name) => devDependencies[name].replace(/^npm:.*@/, '');

const shared = {
  testEnvironment: 'node',
  // One diagnostics channel per name for a worker's life (a Node 20 bug otherwise loses events
  // between test files): see test/support/keep-channels.cjs.
  setupFiles: ['<rootDir>/test/support/keep-channels.cjs'],
  // Transpiled file by file (test/tsconfig.json sets isolatedModules; `pnpm typecheck` checks the
  // types), with a cache shared by every project: see test/support/ts-transform.cjs.
  transform: {
    '^.+\\.ts$': '<rootDir>/test/support/ts-transform.cjs',
  },
};
// Every entry point of every package under packages/ (scripts/packages.cjs), to its source.
const sources = {
  ...jestSources(),
  '^(\\.{1,2}/.*)\\.js$': '$1',
};

/** Maps a module and its subpaths (`koa`, `koa/package.json`) to an aliased install. */
const alias = (module, installed) => ({ [`^${module.replace('/', '\\/')}(/.*)?$`]: `${installed}$1` });

/**
 * A project running `files` (test/http/<name>.test.ts, and always framework-versions.test.ts)
 * with `modules` (module -> aliased install; none: the root install). `versions` is what the
 * project promises to load; test/http/framework-versions.test.ts checks it.
 */
function project(displayName, files, versions, modules = {}) {
  return {
    ...shared,
    displayName,
    roots: ['<rootDir>/test'],
    testMatch: [...files, 'framework-versions'].map((file) => `<rootDir>/test/http/${file}.test.ts`),
    moduleNameMapper: { ...sources, ...Object.assign({}, ...Object.entries(modules).map(([m, i]) => alias(m, i))) },
    globals: { FRAMEWORK_VERSIONS: versions },
  };
}

const express = ['express', 'express-routes', 'express-bucket-names'];
const fastify = ['fastify', 'fastify-plugin', 'fastify-hook'];

// Koa 3 and 2, each with the latest @koa/router, run everything; the files that depend on how
// @koa/router reports the matched layer (route lookup, bucket names) run on every router major
// with both Koa majors.
const koa = { 3: pinned('koa'), 2: pinned('koa2') };
const router = { 15: pinned('@koa/router'), 14: pinned('koa-router14'), 13: pinned('koa-router13'), 12: pinned('koa-router12') };
const koaProjects = [];
for (const k of [3, 2]) {
  for (const r of [15, 14, 13, 12]) {
    const modules = {};
    if (k !== 3) modules.koa = `koa${k}`;
    if (r !== 15) modules['@koa/router'] = `koa-router${r}`;
    const files = r === 15 ? ['koa', 'koa-routes', 'koa-bucket-names'] : ['koa-routes', 'koa-bucket-names'];
    koaProjects.push(project(`koa ${koa[k]} + @koa/router ${router[r]}`, files, { koa: koa[k], '@koa/router': router[r] }, modules));
  }
}

// Hono 4 at its latest on @hono/node-server 2 and 1 (most Node.js apps still serve Hono with 1;
// the server hands the adapter the Node request, so the whole contract runs on each major), and
// at the peer range's floor (4.6) the files that depend on Hono's own version: route lookup and
// bucket names, and the fetch handler off Node.
const honoProjects = [
  ['hono', '@hono/node-server', {}, ['hono', 'hono-bucket-names', 'hono-fetch']],
  ['hono', 'hono-node-server1', { '@hono/node-server': 'hono-node-server1' }, ['hono', 'hono-bucket-names', 'hono-fetch']],
  ['hono4-6', '@hono/node-server', { hono: 'hono4-6' }, ['hono-bucket-names', 'hono-fetch']],
].map(([hono, server, modules, files]) => {
  const versions = { hono: pinned(hono), '@hono/node-server': pinned(server) };
  return project(`hono ${versions.hono} (@hono/node-server ${versions['@hono/node-server']})`, files, versions, modules);
});

// NestJS: each major on each platform, the @nestjs packages mapped to that major's aliased install
// ("nestjs-core10": "npm:@nestjs/core@10.4.9"); each platform package brings its own Express or
// Fastify. The guard's own cases (nest-guard) run on every major and platform, the Express
// middleware recipe (nest) on every major's Express platform; the whole HTTP contract
// (nest-contract) on both platforms of the latest major and on one platform of each older major,
// so every major and both platforms run it.
// NestJS 12 ships ES modules only: its files are transformed to CommonJS (test/support/esm-to-cjs.cjs).
const nestContract = { 12: ['express', 'fastify'], 11: ['fastify'], 10: ['express'] };
const nestProjects = [];
for (const major of [12, 11, 10]) {
  const installed = (module) => (major === 11 ? module : `nestjs-${module.slice('@nestjs/'.length)}${major}`);
  for (const platform of ['express', 'fastify']) {
    const names = ['@nestjs/common', '@nestjs/core', `@nestjs/platform-${platform}`];
    const versions = Object.fromEntries(names.map((m) => [m, pinned(installed(m))]));
    const modules = major === 11 ? {} : Object.fromEntries(names.map((m) => [m, installed(m)]));
    const files = ['nest-guard'];
    if (platform === 'express') files.push('nest');
    if (nestContract[major].includes(platform)) files.push('nest-contract');
    const nest = project(`nestjs ${versions['@nestjs/core']} (${platform})`, files, versions, modules);
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
  // Most tests wait on sockets, timers and child processes rather than on the CPU: more workers
  // than cores keeps the cores busy (jest's default, cores - 1, ran one file at a time on 2 cores;
  // on 2 cores, from a fresh clone, 4 workers took about 200 s, 6 about 140 s with the shared
  // transform cache, and the cores were then busy nearly all the run). TB_JEST_WORKERS overrides it.
  maxWorkers: Number(process.env.TB_JEST_WORKERS) || Math.max(2, cpus().length * 3),
  reporters: ['default', '<rootDir>/test/support/projects-reporter.cjs'],
  // The slowest files first, by test/support/durations.json: see test/support/sequencer.cjs.
  testSequencer: '<rootDir>/test/support/sequencer.cjs',
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
    project(`express ${pinned('express')}`, express, { express: pinned('express') }),
    project(`express ${pinned('express4')}`, express, { express: pinned('express4') }, { express: 'express4' }),
    project(`fastify ${pinned('fastify')}`, fastify, { fastify: pinned('fastify') }),
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
  // The floor is per package (every package of scripts/packages.cjs), not global: a global figure
  // would let a thin adapter go untested under the weight of core's lines.
  // scripts/coverage-summary.mjs prints the figures per package.
  coverageThreshold: Object.fromEntries(packages().map((p) => [`./packages/${p.dir}/src/`, { lines: 95 }])),
};
