// The jest config Stryker runs (stryker.config.mjs): the root config's core project, reduced to
// the test files that need no server, so a mutation run needs no Redis and each mutant costs
// milliseconds. Every file here also runs in `npm test` through the root config.
const root = require('../jest.config.cjs');

const core = root.projects.find((project) => project.displayName === 'core');

/**
 * Test files, from the repository root, that pin the behaviour of the modules Stryker mutates.
 * (test/core/defaults.test.ts is left out: its pins cross most modules with costly cases, such
 * as 1001 limiters, which would run again for every mutant they cover.)
 */
const serverFree = [
  'test/core/options.test.ts',
  'test/core/ip.test.ts',
  'test/core/http.test.ts',
  'test/core/breaker.test.ts',
  'test/core/memory-store.test.ts',
  'test/core/take-script-verdict.test.ts',
  'test/core/unknown-options.test.ts',
  'test/core/slot.test.ts',
  'test/core/decision.test.ts',
  'test/core/gcra.test.ts',
  'test/core/problems.test.ts',
  'test/core/keys.test.ts',
  'test/core/policy-bounds.test.ts',
];

/** @type {import('jest').Config} */
module.exports = {
  rootDir: '..',
  testEnvironment: core.testEnvironment,
  transform: core.transform,
  moduleNameMapper: core.moduleNameMapper,
  roots: ['<rootDir>/test'],
  testMatch: serverFree.map((file) => `<rootDir>/${file}`),
};
