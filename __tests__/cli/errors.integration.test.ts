import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { builtProject } from '../helpers/built-project.js';
import { CLI, runCli } from '../helpers/cli.js';
import { DOCKER, describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { sha256Hex as hash } from '../helpers/hash.js';
import { makeTestProject, REPO_ROOT, type TestProject } from '../helpers/project.js';

/**
 * Bad input gets one clear screen naming what to fix, a non-zero exit, and changes nothing:
 * the previous zip and metadata stay byte for byte as they were.
 */
describeWithDocker('sweep-runtime: bad input is refused clearly and changes nothing', () => {
  // One real build in beforeAll; each test gets its own copy with a source changed, so a build
  // would really run if the error did not stop it.
  const prepared = builtProject();
  beforeAll(() => prepared.build());
  afterAll(() => prepared.remove());
  let project: TestProject;
  let zipHash: string;
  let metadataText: string;
  beforeEach(() => {
    project = prepared.copy();
    zipHash = hash(fs.readFileSync(`${project.dist}/sweep-lambda.zip`));
    metadataText = fs.readFileSync(`${project.dist}/sweep-lambda.json`, 'utf8');
    fs.appendFileSync(project.file('crates/sweep-lambda/src/main.rs'), '// changed\n');
  });
  afterEach(() => project.remove());
  const env = { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE };
  const untouched = () => {
    expect(hash(fs.readFileSync(`${project.dist}/sweep-lambda.zip`))).toBe(zipHash);
    expect(fs.readFileSync(`${project.dist}/sweep-lambda.json`, 'utf8')).toBe(metadataText);
  };

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
        '  fix: point `workspace` (cdktf.json context sweep.artifact.workspace, or --workspace) at the folder that holds the Cargo.toml of your workspace',
      ].join('\n'),
    );
    untouched();
  });

  it('a package that does not exist', async () => {
    const run = await runCli(['build', '--package', 'sweep-lambdaa'], { cwd: project.root, env });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(
      `the workspace ${project.workspace} has no package named "sweep-lambdaa" (its packages: sweep-batch, sweep-core, sweep-lambda, sweep-lambda-runtime, sweep-lambda-testkit)`,
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
    expect(run.stderr).toContain(`error (docker): sweep-lambda: no Docker engine answers "${stub} version"`);
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
        'error (builder-image): sweep-lambda: the toolchain image sweep-test/absent-toolchain:1 is not present locally, and the pull policy "never" (from SWEEP_DOCKER_PULL_POLICY=never) forbids pulling it',
        '  fix: run `docker pull sweep-test/absent-toolchain:1` (or `npm run toolchain:local` where no registry is reachable), or use the pull policy if-missing',
      ].join('\n'),
    );
    untouched();
  });

  it('SWEEP_DOCKER_PULL_POLICY=always pulls the toolchain image as its own step even when it is present, and says so when the pull fails', async () => {
    // A toolchain image present locally under a name no registry serves (port 1 of this machine
    // refuses connections everywhere): if-missing would not pull it, always must try, and fails.
    const present = 'localhost:1/sweep-test/always-toolchain:1';
    await execa(DOCKER, ['tag', TOOLCHAIN_IMAGE, present]);
    try {
      const run = await runCli(['build'], {
        cwd: project.root,
        env: { ...env, SWEEP_TOOLCHAIN_IMAGE: present, SWEEP_DOCKER_PULL_POLICY: 'always' },
      });
      expect(run.stdout).toContain(`builder-image: pulling ${present} (pull policy always, from SWEEP_DOCKER_PULL_POLICY=always)`);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain(
        `error (builder-image): sweep-lambda: could not pull the toolchain image ${present} (pull policy always, from SWEEP_DOCKER_PULL_POLICY=always)`,
      );
      expect(run.stderr).toContain('without a registry run `npm run toolchain:local`');
      untouched();
    } finally {
      await execa(DOCKER, ['rmi', present], { reject: false });
    }
  });

  it('the default pull policy (if-missing) pulls a toolchain image that is not present, naming where the policy came from', async () => {
    const run = await runCli(['build'], { cwd: project.root, env: { SWEEP_TOOLCHAIN_IMAGE: 'sweep-test/absent-toolchain:1' } });
    expect(run.stdout).toContain('builder-image: pulling sweep-test/absent-toolchain:1 (pull policy if-missing, from the default)');
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('error (builder-image): sweep-lambda: could not pull the toolchain image sweep-test/absent-toolchain:1');
    untouched();
  });

  it('SWEEP_TOOLCHAIN_IMAGE that is not an image reference is a config error, before Docker', async () => {
    const run = await runCli(['build'], { cwd: project.root, env: { SWEEP_TOOLCHAIN_IMAGE: 'Rust 1.78' } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('SWEEP_TOOLCHAIN_IMAGE: got "Rust 1.78"; expected a Docker image reference such as "rust:1-bullseye"');
    untouched();
  });

  it('a SWEEP_DOCKER that is not executable is named as such, not as a stopped engine', async () => {
    const notExecutable = path.join(project.root, 'docker-not-executable');
    fs.writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const run = await runCli(['build'], { cwd: project.root, env: { ...env, SWEEP_DOCKER: notExecutable } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`error (docker): sweep-lambda: the docker command "${notExecutable}" cannot be run (permission denied`);
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
      /^error \(compile\): sweep-lambda: cargo finished but produced no binary at .*\/\.cache\/cargo-target\/x86_64-unknown-linux-gnu\/release\/bootstrap$/m,
    );
    untouched();
  });

  it('a compile error is shown once, as cargo printed it, and the error says so', async () => {
    const main = project.file('crates/sweep-lambda/src/main.rs');
    const source = fs.readFileSync(main, 'utf8');
    fs.writeFileSync(main, `${source}\nfn broken() { let x: u8 = "text"; }\n`);
    try {
      const run = await runCli(['build'], { cwd: project.root, env });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toBe(
        [
          'error (compile): sweep-lambda: cargo could not build sweep-lambda (exit code 101); its messages are above',
          '  fix: fix the errors cargo printed above; the previous zip and metadata are unchanged',
        ].join('\n'),
      );
      expect(run.all.match(/error\[E0308\]: mismatched types/g)).toHaveLength(1);
      expect(run.all.match(/error: could not compile `sweep-lambda`/g)).toHaveLength(1);
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
    expect(run.stderr).toBe('sweep-runtime: unknown command "deploy" (commands: status, build, fingerprint, clean, invoke, push, keygen)');
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])('%s is an unknown command (exit 2), not a crash', async (name) => {
    const run = await runCli([name], { cwd: process.cwd() });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toBe(`sweep-runtime: unknown command "${name}" (commands: status, build, fingerprint, clean, invoke, push, keygen)`);
  });

  it('a --project folder that does not exist is named', async () => {
    const run = await runCli(['status', '--project', '/nonexistent/project'], { cwd: process.cwd() });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      'error (config): the project folder /nonexistent/project does not exist or is not a folder\n  fix: pass --project the folder that holds cdktf.json',
    );
  });

  it('a cdktf.json that is null is named, not ignored', async () => {
    const project = makeTestProject();
    try {
      fs.writeFileSync(path.join(project.root, 'cdktf.json'), 'null');
      const run = await runCli(['status'], { cwd: project.root });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain(
        `error (config): cannot use ${path.join(project.root, 'cdktf.json')}: it must be a JSON object, not null`,
      );
    } finally {
      project.remove();
    }
  });

  it('--package with several functions in cdktf.json asks which function', async () => {
    const run = await runCli(['status', '--package', 'sweep-lambda'], { cwd: REPO_ROOT });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("--package and --bin name one function's binary, and cdktf.json has 2 (sweep-lambda, sweep-batch)");
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

function writeStubDocker(dir: string, name: string, body: string): string {
  const file = path.join(dir, `docker-stub-${name}.sh`);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}
