import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { builtProject } from '../helpers/built-project.js';
import { CLI, runCli } from '../helpers/cli.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';

/** status, fingerprint and clean, as an operator runs them; each test on its own copy of one built project. */
describeWithDocker('sweep-runtime status, fingerprint and clean', () => {
  const env = { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE };
  const prepared = builtProject();
  beforeAll(() => prepared.build());
  afterAll(() => prepared.remove());
  let project: TestProject;
  beforeEach(() => {
    project = prepared.copy();
  });
  afterEach(() => project.remove());

  it('status before any build: cache-miss, exit 0, no Docker needed', async () => {
    const fresh = makeTestProject();
    try {
      const run = await runCli(['status'], { cwd: fresh.root, env: { ...env, SWEEP_DOCKER: '/nonexistent/docker' } });
      expect(run.exitCode).toBe(0);
      expect(run.stdout.split('\n')[0]).toBe('[sweep-lambda] cache-miss: no metadata (first build)');
      expect(fs.existsSync(fresh.dist)).toBe(false);
    } finally {
      fresh.remove();
    }
  });

  it('fingerprint prints only the fingerprint, the same for the same sources in another folder', async () => {
    const elsewhere = makeTestProject({ prefix: 'sweep-test-other-place-' });
    try {
      const here = await runCli(['fingerprint'], { cwd: project.root, env });
      const there = await runCli(['fingerprint'], { cwd: elsewhere.root, env });
      expect(here.exitCode).toBe(0);
      expect(here.stdout).toMatch(/^[0-9a-f]{64}$/);
      expect(there.stdout).toBe(here.stdout);
      fs.appendFileSync(elsewhere.file('crates/sweep-core/src/lib.rs'), '// differs\n');
      expect((await runCli(['fingerprint'], { cwd: elsewhere.root, env })).stdout).not.toBe(here.stdout);
    } finally {
      elsewhere.remove();
    }
  });

  it('status after a build: cache-hit with what the metadata says', async () => {
    const run = await runCli(['status'], { cwd: project.root, env });
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('[sweep-lambda] cache-hit');
    expect(lines[2]).toMatch(
      /^\[sweep-lambda\] metadata: dist\/sweep-lambda\.zip \d+ bytes, sha256 \S+=, built with sweep-builder:rust-1-bullseye-[0-9a-f]{8} at \S+$/,
    );
    expect(lines[3]).toMatch(/^\[sweep-lambda\] binary: x86_64 ELF, dynamic, needs glibc 2\.\d+ \(provided\.al2023 has 2\.34\)$/);
  });

  it('build --force-rebuild says why', async () => {
    const run = await runCli(['build', '--force-rebuild'], { cwd: project.root, env });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('[sweep-lambda] cache-miss: forced (--force-rebuild)');
    expect(run.stdout).toContain('[sweep-lambda] reproducible: the forced rebuild gave a byte-identical zip');
  });

  it('files the build writes on the host belong to the caller, not to root', async () => {
    // As root every file is root's anyway, so run this build as another user (nobody, with the
    // docker group to reach the engine) to see whose files the container leaves.
    const fresh = makeTestProject();
    try {
      const asRoot = process.getuid!() === 0;
      const uid = asRoot ? 65534 : process.getuid!();
      const gid = asRoot ? 65534 : process.getgid!();
      // The CLI's compile cache lives in the repository's node_modules, which only its owner may
      // write: a run as the owner compiles it first, as a real install does.
      await runCli(['status'], { cwd: fresh.root, env });
      const run = asRoot ? await runAs(uid, gid, fresh.root, env) : await runCli(['build'], { cwd: fresh.root, env });
      expect(run.exitCode).toBe(0);
      const written = listFiles(fresh.dist).concat(listFiles(fresh.cache));
      expect(written.length).toBeGreaterThan(10);
      expect(written.filter((file) => fs.lstatSync(file).uid !== uid)).toEqual([]);
    } finally {
      fresh.remove();
    }
  });

  it('builds a project whose path holds a colon (docker -v could not mount it; --mount can)', async () => {
    const colon = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-test-a:b-'));
    try {
      fs.cpSync(project.root, colon, { recursive: true, preserveTimestamps: true });
      const run = await runCli(['build', '--force-rebuild'], { cwd: colon, env });
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toContain('[sweep-lambda] reproducible: the forced rebuild gave a byte-identical zip');
    } finally {
      fs.rmSync(colon, { recursive: true, force: true });
    }
  });

  it('clean removes the zip and metadata: the next status is a miss saying so', async () => {
    const run = await runCli(['clean'], { cwd: project.root, env });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^\[sweep-lambda\] removed dist\/sweep-lambda\.zip \(\d+\.\d KiB\)$/m);
    expect(run.stdout).toMatch(/^\[sweep-lambda\] removed dist\/sweep-lambda\.json/m);
    expect(run.stdout).toMatch(/^\[clean\] freed \d+\.\d KiB$/m);
    expect(fs.existsSync(`${project.cache}/cargo-target`)).toBe(true);
    expect((await runCli(['status'], { cwd: project.root, env })).stdout.split('\n')[0]).toBe(
      '[sweep-lambda] cache-miss: no metadata (first build)',
    );
  });

  it('clean --all also removes the cargo caches and the builder images of its repository, and says how much was freed', async () => {
    // Its own builder repository: this test removes only images it made (the layers are shared
    // with the usual builder image through Docker's cache, so building it is quick).
    const own = { ...env, SWEEP_BUILDER_REPOSITORY: `sweep-test-clean-all-${process.pid}` };
    try {
      expect((await runCli(['build', '--force-rebuild'], { cwd: project.root, env: own })).exitCode).toBe(0);
      const run = await runCli(['clean', '--all'], { cwd: project.root, env: own });
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toMatch(/^\[clean\] removed \.cache\/cargo-target \(\d+\.\d MiB\)$/m);
      expect(run.stdout).toMatch(
        new RegExp(`^\\[clean\\] removed image ${own.SWEEP_BUILDER_REPOSITORY}:rust-1-bullseye-[0-9a-f]{8} `, 'm'),
      );
      expect(run.stdout).toMatch(/^\[clean\] freed \d+\.\d (MiB|GiB)$/m);
      expect(fs.existsSync(path.join(project.cache, 'cargo-target'))).toBe(false);
      // The usual builder image is still there: clean --all removes its own repository's only.
      expect((await execa('docker', ['images', '-q', 'sweep-builder'])).stdout).not.toBe('');
      // The next build starts from nothing and still works.
      const rebuilt = await runCli(['build'], { cwd: project.root, env: own });
      expect(rebuilt.exitCode).toBe(0);
      expect(rebuilt.stdout).toContain(`builder-image: building ${own.SWEEP_BUILDER_REPOSITORY}:rust-1-bullseye-`);
    } finally {
      const left = (await execa('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', own.SWEEP_BUILDER_REPOSITORY])).stdout
        .split('\n')
        .filter(Boolean);
      if (left.length > 0) await execa('docker', ['rmi', ...left], { reject: false });
    }
  });
});

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((entry) => path.join(dir, entry));
}

/** Runs `sweep-runtime build` as another user, in a project that user owns. */
async function runAs(uid: number, gid: number, root: string, env: Record<string, string>) {
  await execa('chown', ['-R', `${uid}:${gid}`, root]);
  const docker = (await execa('getent', ['group', 'docker'], { reject: false })).stdout.split(':')[2];
  const groups = docker ? ['--groups', docker] : ['--clear-groups'];
  return execa('setpriv', ['--reuid', String(uid), '--regid', String(gid), ...groups, process.execPath, CLI, 'build'], {
    cwd: root,
    env: { ...env, HOME: '/tmp' },
    reject: false,
    all: true,
  });
}
