// ts-jest in ESM mode: the sources are ES modules importing './x.js', which maps back to './x.ts'.
const base = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/.stack/', '<rootDir>/dist/'],
  watchPathIgnorePatterns: ['<rootDir>/.stack/'],
};
export default {
  testTimeout: 240000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
