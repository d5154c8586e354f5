// ES modules throughout (execa 9 is ESM-only): ts-jest's ESM preset, run with
// NODE_OPTIONS=--experimental-vm-modules (see the `test` script). Type checking is
// `npm run typecheck`, so ts-jest only transpiles (isolatedModules in tsconfig).
/** @type {import('jest').Config} */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  // A safety net for hung processes, not a performance assertion: integration
  // tests run real docker builds and terraform, which take minutes on a cold machine.
  testTimeout: 15 * 60 * 1000,
};
