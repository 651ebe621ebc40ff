/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  // *.reliability.ts run short under `npm test`, full under `npm run test:reliability` (RELIABILITY_SCALE=full).
  testMatch: ['**/*.spec.ts', '**/*.e2e.ts', '**/*.reliability.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, diagnostics: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 30000,
  watchman: false,
};
