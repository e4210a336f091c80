// Jest runs the TypeScript tests against the packages' sources; tests/packaging checks the builds.
// No global check for Redis: a suite that needs a server says so at its top (requireRedis(),
// requireCluster() in test/support), and the suites that need none run without one.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }],
  },
  moduleNameMapper: {
    '^@tokenbucket/(core|express|fastify|koa)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 30000,
};
