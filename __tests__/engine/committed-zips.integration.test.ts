import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { unzipSync } from 'fflate';
import { outputContains, runCli, startCli } from '../helpers/cli.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { sha256Hex } from '../helpers/hash.js';
import { makeTestProject, type TestProject, writeSweepConfig } from '../helpers/project.js';

/**
 * A committed zip is always the build of its fingerprint, with real overlapping processes:
 * - two processes building different functions whose binaries share a name (`bootstrap`, the
 *   usual Lambda layout) each commit their own program (they share one cargo target folder,
 *   where both binaries are written to the same path);
 * - a source saved while cargo compiles is never committed under the fingerprint of the sources
 *   before the save.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/workspaces/', import.meta.url));

describeWithDocker('engine: what is committed is the build of its fingerprint', () => {
  const env = { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE };
  let project: TestProject;
  afterEach(() => project?.remove());

  it('GIVEN two functions whose binaries are both named bootstrap WHEN two processes build them at the same time, after clean and forced THEN each zip runs its own program, every round', async () => {
    project = makeTestProject({ workspace: path.join(FIXTURES, 'two-binaries') });
    writeSweepConfig(project.root, {
      artifact: { workspace: 'rust', toolchainImage: TOOLCHAIN_IMAGE },
      functions: { charlie: { artifact: { package: 'alpha' } }, delta: { artifact: { package: 'beta' } } },
    });
    const rounds = [{ clean: true }, { clean: false }, { clean: true }, { clean: false }];
    for (const [round, { clean }] of rounds.entries()) {
      if (clean) expect((await runCli(['clean'], { cwd: project.root, env })).exitCode).toBe(0);
      const forced = clean ? env : { ...env, FORCE_REBUILD: '1' };
      const [charlie, delta] = await Promise.all([
        runCli(['build', '--function', 'charlie'], { cwd: project.root, env: forced }),
        runCli(['build', '--function', 'delta'], { cwd: project.root, env: forced }),
      ]);
      expect([round, charlie.exitCode, delta.exitCode]).toEqual([round, 0, 0]);
      expect([round, await runZip(path.join(project.dist, 'charlie.zip'))]).toEqual([round, 'alpha']);
      expect([round, await runZip(path.join(project.dist, 'delta.zip'))]).toEqual([round, 'beta']);
    }
    // And the next check agrees: both are hits for what they hold.
    const status = await runCli(['status'], { cwd: project.root, env });
    expect(status.stdout).toMatch(/\[charlie\] cache-hit/);
    expect(status.stdout).toMatch(/\[delta\] cache-hit/);
  });

  it('GIVEN a build whose source is saved while cargo compiles it WHEN the build ends THEN the zip is not committed under the old fingerprint: it is compiled again and committed under the new one', async () => {
    project = makeTestProject();
    const main = project.file('crates/sweep-lambda/src/main.rs');
    // A cold target folder, so cargo compiles the dependencies first and the save lands mid-compile.
    const build = startCli(['build'], { cwd: project.root, env });
    await outputContains(build, 'Compiling sweep-lambda ');
    fs.appendFileSync(main, '// saved during the compile\n');
    const run = await build;
    expect(run.exitCode).toBe(0);
    expect(String(run.all)).toContain(
      '[sweep-lambda] sources changed during the compile (crates/sweep-lambda/src/main.rs): not committed, compiling again (round 2)',
    );
    // The metadata describes the sources on disk now, and a check agrees.
    const metadata = JSON.parse(fs.readFileSync(path.join(project.dist, 'sweep-lambda.json'), 'utf8'));
    expect(metadata.inputs['crates/sweep-lambda/src/main.rs']).toBe(sha256Hex(fs.readFileSync(main)));
    const fingerprint = await runCli(['fingerprint'], { cwd: project.root, env });
    expect(metadata.fingerprint).toBe(fingerprint.stdout.trim());
    const status = await runCli(['status'], { cwd: project.root, env });
    expect(status.stdout).toMatch(/\[sweep-lambda\] cache-hit/);
  });
});

/** Runs the zip's bootstrap (the fixture's programs print their package's name) and returns what it printed. */
async function runZip(zipPath: string): Promise<string> {
  const binary = unzipSync(fs.readFileSync(zipPath)).bootstrap;
  if (!binary) throw new Error(`${zipPath} has no bootstrap`);
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-run-zip-'));
  try {
    const file = path.join(folder, 'bootstrap');
    fs.writeFileSync(file, binary, { mode: 0o755 });
    return (await execa(file)).stdout.trim();
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}
