import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { CLI, runCli } from '../helpers/cli.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';

/**
 * Bad input gets one clear screen naming what to fix, a non-zero exit, and changes nothing:
 * the previous zip and record stay byte for byte as they were.
 */
describeWithDocker('sweep-runtime: bad input is refused clearly and changes nothing', () => {
  let project: TestProject;
  let zipHash: string;
  let recordText: string;
  const env = { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE };
  const untouched = () => {
    expect(hash(fs.readFileSync(`${project.dist}/sweep-lambda.zip`))).toBe(zipHash);
    expect(fs.readFileSync(`${project.dist}/sweep-lambda.json`, 'utf8')).toBe(recordText);
  };
  /** A change, so a build would really run if the error did not stop it. */
  const touchSource = () => fs.appendFileSync(project.file('crates/sweep-lambda/src/main.rs'), '// changed\n');

  beforeAll(async () => {
    project = makeTestProject();
    const first = await runCli(['build'], { cwd: project.root, env });
    expect(first.exitCode).toBe(0);
    zipHash = hash(fs.readFileSync(`${project.dist}/sweep-lambda.zip`));
    recordText = fs.readFileSync(`${project.dist}/sweep-lambda.json`, 'utf8');
    touchSource();
  });
  afterAll(() => project.remove());

  it('unknown pull policy', async () => {
    const run = await runCli(['build'], { cwd: project.root, env: { ...env, SWEEP_DOCKER_PULL_POLICY: 'sometimes' } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      [
        'error (config): invalid environment:',
        '  SWEEP_DOCKER_PULL_POLICY: got "sometimes"; expected one of always, if-missing, never',
        '  fix: fix or unset the variables above',
      ].join('\n'),
    );
    untouched();
  });

  it('bad force value', async () => {
    const run = await runCli(['build'], { cwd: project.root, env: { ...env, FORCE_REBUILD: 'yes' } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('FORCE_REBUILD: got "yes"; expected 1 or true to force a rebuild; 0, false or empty for none');
    untouched();
  });

  it('a workspace folder without Cargo.toml', async () => {
    const empty = fs.mkdtempSync(path.join(project.root, 'empty-'));
    const run = await runCli(['build', '--workspace', empty], { cwd: project.root, env });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      [
        `error (workspace): no Cargo.toml in the workspace folder ${empty}`,
        '  fix: point `workspace` (cdktf.json context sweep.artifact.workspace) at the folder that holds the Cargo.toml of your workspace',
      ].join('\n'),
    );
    untouched();
  });

  it('a package that does not exist', async () => {
    const run = await runCli(['build', '--package', 'sweep-lambdaa'], { cwd: project.root, env });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(
      `the workspace ${project.workspace} has no package named "sweep-lambdaa" (its packages: sweep-core, sweep-lambda)`,
    );
    untouched();
  });

  it('a binary that does not exist', async () => {
    const run = await runCli(['build', '--package', 'sweep-lambda', '--bin', 'boot'], { cwd: project.root, env });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('package "sweep-lambda" has no binary named "boot" (its binaries: bootstrap)');
    untouched();
  });

  it('no Docker engine answering', async () => {
    const stub = writeStubDocker(
      project.root,
      'no-engine',
      'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1',
    );
    const run = await runCli(['build'], { cwd: project.root, env: { ...env, SWEEP_DOCKER: stub } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`error (docker): no Docker engine answers "${stub} version"`);
    expect(run.stderr).toContain('fix: start the Docker engine');
    expect(run.stderr).toContain('Cannot connect to the Docker daemon');
    untouched();
  });

  it('a toolchain image that is not present under SWEEP_DOCKER_PULL_POLICY=never', async () => {
    const run = await runCli(['build'], {
      cwd: project.root,
      env: { SWEEP_TOOLCHAIN_IMAGE: 'sweep-test/absent-toolchain:1', SWEEP_DOCKER_PULL_POLICY: 'never' },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      [
        'error (builder-image): the toolchain image sweep-test/absent-toolchain:1 is not present locally, and SWEEP_DOCKER_PULL_POLICY=never forbids pulling it',
        '  fix: run `docker pull sweep-test/absent-toolchain:1` (or `npm run toolchain:local` where no registry is reachable), or use SWEEP_DOCKER_PULL_POLICY=if-missing',
      ].join('\n'),
    );
    untouched();
  });

  it('SWEEP_DOCKER_PULL_POLICY=always refreshes the toolchain image with docker build --pull, and says so when the registry cannot be reached', async () => {
    // No registry is reachable from this machine or CI: `always` must try (and fail) to pull.
    const run = await runCli(['build'], { cwd: project.root, env: { ...env, SWEEP_DOCKER_PULL_POLICY: 'always' } });
    expect(run.stdout).toContain(`[sweep-lambda] builder-image: building sweep-builder:`);
    expect(run.stdout).toContain(`from ${TOOLCHAIN_IMAGE} (pulling the toolchain image)`);
    if (run.exitCode === 0) return; // a machine that can reach the registry: the pull worked
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`^error \\(builder-image\\): could not pull the toolchain image ${TOOLCHAIN_IMAGE.replace(/[.:]/g, '\\$&')}$`, 'm'),
    );
    expect(run.stderr).toContain('without a registry run `npm run toolchain:local` and use SWEEP_DOCKER_PULL_POLICY=if-missing');
    untouched();
  });

  it('SWEEP_DOCKER_PULL_POLICY=if-missing pulls a toolchain image that is not present', async () => {
    const run = await runCli(['build'], { cwd: project.root, env: { SWEEP_TOOLCHAIN_IMAGE: 'sweep-test/absent-toolchain:1' } });
    expect(run.stdout).toContain('from sweep-test/absent-toolchain:1 (pulling the toolchain image)');
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('error (builder-image): could not pull the toolchain image sweep-test/absent-toolchain:1');
    untouched();
  });

  it('a build that produced no binary', async () => {
    // Real cargo cannot be made to succeed without a binary on demand: a stub docker that
    // answers every command successfully and builds nothing.
    const stub = writeStubDocker(
      project.root,
      'builds-nothing',
      'case "$1" in version) echo 20.10;; image) echo sha256:0000;; esac; exit 0',
    );
    // Without this, the binary of the earlier real build would still be in the target folder.
    fs.rmSync(`${project.cache}/cargo-target`, { recursive: true, force: true });
    const run = await runCli(['build'], { cwd: project.root, env: { ...env, SWEEP_DOCKER: stub } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(
      /^error \(compile\): cargo finished but produced no binary at .*\/\.cache\/cargo-target\/x86_64-unknown-linux-gnu\/release\/bootstrap$/m,
    );
    untouched();
  });

  it("a compile error shows the last lines of cargo's output", async () => {
    const main = project.file('crates/sweep-lambda/src/main.rs');
    const source = fs.readFileSync(main, 'utf8');
    fs.writeFileSync(main, `${source}\nfn broken() { let x: u8 = "text"; }\n`);
    try {
      const run = await runCli(['build'], { cwd: project.root, env });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toMatch(/^error \(compile\): cargo build failed in the builder container \(exit code 101\)$/m);
      expect(run.stderr).toContain('  | error[E0308]: mismatched types');
      expect(run.stderr).toContain('  | error: could not compile `sweep-lambda`');
      untouched();
    } finally {
      fs.writeFileSync(main, source);
    }
  });
});

describe('sweep-runtime: usage errors', () => {
  it('an unknown command exits 2 and lists the commands', async () => {
    const run = await runCli(['deploy'], { cwd: process.cwd() });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toBe('sweep-runtime: unknown command "deploy" (commands: status, build, fingerprint, clean, invoke)');
  });

  it('output piped into a reader that stops early (| head -1) ends quietly', async () => {
    // status writes line by line, fingerprinting between its first and second line: by then
    // head has read one line and closed the pipe.
    const project = makeTestProject();
    try {
      const run = await execa('bash', ['-c', `"${process.execPath}" "${CLI}" status | head -n 1; echo "exit=\${PIPESTATUS[0]}" >&2`], {
        cwd: project.root,
        reject: false,
      });
      expect(run.stdout).toBe('[sweep-lambda] cache-miss: no metadata (first build)');
      expect(run.stderr).toBe('exit=0');
    } finally {
      project.remove();
    }
  });

  it('an unknown flag exits 2 with the usage', async () => {
    const run = await runCli(['build', '--forse-rebuild'], { cwd: process.cwd() });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^sweep-runtime: Unknown option '--forse-rebuild'/);
    expect(run.stderr).toContain('Usage: sweep-runtime <command> [options]');
  });
});

function hash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function writeStubDocker(dir: string, name: string, body: string): string {
  const file = path.join(dir, `docker-stub-${name}.sh`);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}
