// ts-jest in ESM mode: the sources are ES modules importing './x.js', which maps back to './x.ts'.
const base = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }],
  },
  testEnvironment: 'node',
  // Stack folders (.stack, .stack-faults, any STACK_DIR inside the repo) hold service data,
  // including PostgreSQL's *.snap files, which jest would take for obsolete snapshots.
  modulePathIgnorePatterns: ['<rootDir>/\\.stack[^/]*/', '<rootDir>/dist/'],
  watchPathIgnorePatterns: ['<rootDir>/\\.stack[^/]*/'],
};
export default {
  testTimeout: 240000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    // Fault injection against the real stack (npm run test:faults): stops and restarts stack
    // components, so it runs alone (--runInBand), after the e2e tests.
    {
      ...base,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
    },
    // Bounded soak against the running stack (SOAK_SECONDS, default 60): npm run test:soak.
    { ...base, displayName: 'soak', testMatch: ['<rootDir>/test/soak/**/*.test.ts'] },
  ],
};
