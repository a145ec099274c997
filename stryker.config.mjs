// Mutation testing (`npm run mutate`, not in CI: it takes tens of minutes).
// Scope: the comparison, the join and the sidecar's hop-by-hop header rules,
// where a wrong sign or a dropped list entry changes verdicts silently.
// The tap runner runs each test file in its own node process and, thanks to
// per-test coverage, only the files that reach a mutant. Only tests that load
// these modules in-process can kill their mutants (a child process started by a
// test does not see the active mutant), hence the in-process unit test files.
// test/sidecar/proxy.test.ts also covers headers.ts but costs seconds per mutant;
// headers.test.ts checks the same rules directly.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ['src/collector/compare/**/*.ts', 'src/collector/join/**/*.ts', 'src/sidecar/headers.ts'],
  testRunner: 'tap',
  tap: {
    // Fastest first: a mutant stops at the first file that kills it.
    testFiles: [
      'test/sidecar/headers.test.ts',
      'test/collector/compare-limits.test.ts',
      'test/collector/prediction-sample.test.ts',
      'test/collector/compare-pair.test.ts',
      'test/collector/compare.test.ts',
      'test/collector/join-window.test.ts',
      'test/collector/join-unit.test.ts',
    ],
    nodeArgs: ['--import', 'tsx', '--test-reporter=tap', '-r', '{{hookFile}}', '{{testFile}}'],
  },
  checkers: ['typescript'],
  disableTypeChecks: 'src/**/*.ts',
  tsconfigFile: 'tsconfig.json',
  coverageAnalysis: 'perTest',
  concurrency: 1,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  timeoutMS: 20000,
  reporters: ['clear-text', 'progress-append-only', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  ignorePatterns: ['build', 'bench/sdk-baseline', 'reports', '.shadowmesh'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
