import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { runCli } from '../helpers/cli.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, type TestProject, writeSweepConfig } from '../helpers/project.js';

/**
 * One function's problem is that function's problem: a function whose package does not exist,
 * and one whose `dep/feature` cargo cannot resolve, are each named with their error, while the
 * other functions of the app (and of the same batch) are checked, built and committed.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/workspaces/', import.meta.url));

describeWithDocker('engine: a bad function is named, the others are built', () => {
  const env = { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE };
  let project: TestProject;
  beforeAll(() => {
    project = makeTestProject({ workspace: path.join(FIXTURES, 'multi-function') });
    const fn = (name: string, extra: Record<string, unknown> = {}) => ({ artifact: { package: name, binary: name, ...extra } });
    writeSweepConfig(project.root, {
      artifact: { workspace: 'rust', toolchainImage: TOOLCHAIN_IMAGE },
      functions: {
        api: fn('api'),
        worker: fn('worker', { features: ['shared/no-such-feature'] }),
        scheduler: fn('scheduler'),
        reporter: fn('reporter'),
        ghost: { artifact: { package: 'no-such-package', binary: 'bootstrap' } },
      },
    });
  });
  afterAll(() => project.remove());

  it('GIVEN a function without its package and one with a bad dep/feature WHEN built THEN both are named with their errors and the three others are committed', async () => {
    const run = await runCli(['build'], { cwd: project.root, env });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(
      /^error \(workspace\): 2 artifacts failed: worker \(workspace\), ghost \(workspace\); the others are committed$/m,
    );
    expect(run.stderr).toContain(
      '[worker] error (workspace): cargo could not resolve the dependencies and features of worker (cargo tree, exit code 101)',
    );
    expect(run.stderr).toMatch(/\[ghost\] error \(workspace\): the workspace .* has no package named "no-such-package"/);
    expect(
      fs
        .readdirSync(project.dist)
        .filter((file) => file.endsWith('.zip'))
        .sort(),
    ).toEqual(['api.zip', 'reporter.zip', 'scheduler.zip']);
  });

  it('GIVEN the same WHEN status runs THEN the function that cannot be checked is named with its error, the others are reported, and it exits 1', async () => {
    const run = await runCli(['status'], { cwd: project.root, env });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/\[ghost\] error \(workspace\): the workspace .* has no package named "no-such-package"/);
    for (const name of ['api', 'scheduler', 'reporter']) expect(run.stdout).toMatch(new RegExp(`\\[${name}\\] cache-hit`));
    expect(run.stdout).toMatch(/\[worker\] cache-miss: no metadata/);
  });
});
