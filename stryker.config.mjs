// Mutation testing (`pnpm mutate`, see CONTRIBUTING): Stryker changes core's pure modules one
// small bug at a time and runs the tests that cover each change; a mutant that no test notices
// "survives". The run fails when a module set scores below thresholds.break.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'pnpm',
  // Named, not discovered: with pnpm the plugins are not beside @stryker-mutator/core.
  plugins: ['@stryker-mutator/jest-runner', '@stryker-mutator/typescript-checker'],
  testRunner: 'jest',
  // The server-free test files only (mutation/jest.config.cjs): no Redis needed, and each mutant
  // runs only the tests that cover it (coverageAnalysis perTest).
  jest: { projectType: 'custom', configFile: 'mutation/jest.config.cjs', enableFindRelatedTests: false },
  coverageAnalysis: 'perTest',
  // A static mutant (a module-level constant, evaluated once at load: a regular expression, a
  // table, a frozen body) can only be tested by running every test again; they are a quarter of
  // the mutants and two thirds of the time. `pnpm mutate` leaves them out; `pnpm mutate --
  // --ignoreStatic false` tests them too (see mutation/README.md).
  ignoreStatic: true,
  // Mutants that do not type-check are discarded before any test runs.
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // Core's pure modules: arithmetic and text, no I/O. `pnpm mutate -- --mutate <file>` narrows it.
  mutate: [
    'packages/core/src/policy.ts',
    'packages/core/src/decision.ts',
    'packages/core/src/store/redis/gcra.ts',
    'packages/core/src/store/memory.ts',
    'packages/core/src/http/headers.ts',
    'packages/core/src/http/problems.ts',
    'packages/core/src/http/keys.ts',
    'packages/core/src/http/ip.ts',
    'packages/core/src/store/redis/slot.ts',
  ],
  // The machines this runs on are shared (2 cores): 2 is one TypeScript checker and one test runner.
  concurrency: 2,
  // A mutant that loops forever is killed after the test run's usual time plus this.
  timeoutMS: 5000,
  thresholds: { high: 95, low: 85, break: 85 },
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: '.tmp/mutation/mutation.json' },
  htmlReporter: { fileName: '.tmp/mutation/mutation.html' },
  // Results are kept between runs: a run tests again only the mutants whose code or tests changed.
  incremental: true,
  incrementalFile: '.tmp/mutation/incremental.json',
  tempDirName: '.tmp/stryker',
  cleanTempDir: 'always',
};
