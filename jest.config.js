// ES modules throughout (execa 9 is ESM-only): ts-jest's ESM preset, run with
// NODE_OPTIONS=--experimental-vm-modules (see the `test*` scripts). Type checking is
// `npm run typecheck`, so ts-jest only transpiles (isolatedModules in tsconfig).
//
// Two projects: `unit` (no Docker, no servers; seconds per test) and `integration` (the real
// Docker engine, cargo, terraform, cdktf-cli and S3 server; minutes where a build runs).
// `npm run test:unit` and `npm run test:integration` run one each; `npm test` runs both.
const common = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
};
const INTEGRATION = ['**/*.integration.test.ts', '**/*.e2e.test.ts'];

/** @type {import('jest').Config} */
export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['\\.integration\\.test\\.ts$', '\\.e2e\\.test\\.ts$'],
      // A unit test that takes more than this is stuck, not slow.
      setupFilesAfterEnv: ['<rootDir>/__tests__/helpers/timeout-unit.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: INTEGRATION,
      // A safety net for hung processes, not a performance assertion: these run real docker
      // builds and terraform, which take minutes on a cold machine.
      setupFilesAfterEnv: ['<rootDir>/__tests__/helpers/timeout-integration.ts'],
    },
  ],
};
