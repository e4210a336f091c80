// Jest runs the TypeScript tests against the packages' sources; tests/packaging checks the builds.
// No global check for Redis: a suite that needs a server says so at its top (requireRedis(),
// requireCluster() in test/support), and the suites that need none run without one.
const { readdirSync } = require('node:fs');

// Every package directory under packages/, so a new package gets the coverage floor by itself.
const packages = readdirSync(`${__dirname}/packages`, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // packages/ is a root too so that a source file no test loads still shows up in coverage, at 0%.
  roots: ['<rootDir>/test', '<rootDir>/packages'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
  },
  moduleNameMapper: {
    '^@tokenbucket/(core|express|fastify|koa|opentelemetry|prometheus)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 30000,

  // Coverage (on with `--coverage`, which scripts/test.sh passes on a full run) counts the
  // packages' sources as the tests load them through moduleNameMapper. Code that runs only in
  // child processes (test/concurrency's hammer, the packaging consumers) is not counted.
  collectCoverageFrom: ['packages/*/src/**/*.ts'],
  coverageDirectory: '<rootDir>/coverage',
  coverageReporters: ['text-summary', 'json-summary', 'lcov'],
  // The floor is per package, not global: a global figure would let a thin adapter go untested
  // under the weight of core's lines. scripts/coverage-summary.mjs prints the figures per package.
  coverageThreshold: Object.fromEntries(packages.map((name) => [`./packages/${name}/src/`, { lines: 95 }])),
};
