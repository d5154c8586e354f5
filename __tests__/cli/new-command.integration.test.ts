import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, expect, it } from '@jest/globals';
import { runCli } from '../helpers/cli.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, REPO_ROOT, type TestProject } from '../helpers/project.js';

/**
 * `sweep-runtime new NAME` end to end, as a user runs it: the function is added, then built and
 * invoked with the same command, in this repository's kind of project (cdktf.json lists the
 * functions, the workspace has sweep-lambda-runtime) and in an empty folder (a new workspace).
 */
describeWithDocker('sweep-runtime new', () => {
  const env = { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE };
  const projects: TestProject[] = [];
  afterEach(() => {
    for (const project of projects.splice(0)) project.remove();
  });
  const exampleProject = () => {
    const project = makeTestProject();
    projects.push(project);
    fs.copyFileSync(path.join(REPO_ROOT, 'cdktf.json'), path.join(project.root, 'cdktf.json'));
    return project;
  };

  it('GIVEN the example project WHEN new orders THEN its crate, cdktf.json entry and Cargo.lock are added, and it builds and answers an invocation', async () => {
    const project = exampleProject();
    const lockBefore = fs.readFileSync(project.file('Cargo.lock'), 'utf8');

    const added = await runCli(['new', 'orders'], { cwd: project.root, env });
    expect(added.stderr).toBe('');
    expect(added.exitCode).toBe(0);
    expect(added.stdout.split('\n')).toEqual([
      "created rust/crates/orders (Cargo.toml, src/main.rs on the workspace's sweep-lambda-runtime); a member already (crates/* in rust/Cargo.toml)",
      'added "orders" to cdktf.json (context.sweep.functions.orders: package orders, its only binary)',
      `updated rust/Cargo.lock with ${TOOLCHAIN_IMAGE}'s cargo, offline (lock file version 3)`,
      '',
      'next:',
      '  npx sweep-runtime build --function orders',
      '  echo \'{"hello": "world"}\' | npx sweep-runtime invoke --function orders --event -',
      "  then make rust/crates/orders/src/main.rs's `handle` do the work, and `npx cdktf deploy`",
    ]);
    const functions = JSON.parse(fs.readFileSync(path.join(project.root, 'cdktf.json'), 'utf8')).context.sweep.functions;
    expect(functions.orders).toEqual({ artifact: { package: 'orders' } });
    const lock = fs.readFileSync(project.file('Cargo.lock'), 'utf8');
    expect(lock).toContain('[[package]]\nname = "orders"\nversion = "0.1.0"\ndependencies = [\n "sweep-lambda-runtime",\n]\n');
    // Only the new package was added: the rest of the lock file is as it was.
    expect(lock.replace(/\[\[package\]\]\nname = "orders"\n[\s\S]*?\n\n/, '')).toBe(lockBefore);

    const built = await runCli(['build', '--function', 'orders'], { cwd: project.root, env });
    expect(built.exitCode).toBe(0);
    expect(built.stdout).toContain('[orders] cache-miss: no metadata (first build)');
    expect(built.stdout).not.toMatch(/warning/);
    const invoked = await runCli(['invoke', '--function', 'orders', '--event', '-'], { cwd: project.root, env, input: '{"id": 7}\n' });
    expect(invoked.exitCode).toBe(0);
    expect(invoked.stdout).toBe('{"function":"orders","event":{"id": 7}}');
  });

  it('GIVEN an empty folder WHEN new hello THEN a new std-only workspace, and the line to add to the app; built and invoked by its package', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-new-empty-'));
    projects.push({ root, remove: () => fs.rmSync(root, { recursive: true, force: true }) } as TestProject);

    const added = await runCli(['new', 'hello'], { cwd: root, env });
    expect(added.exitCode).toBe(0);
    expect(added.stdout).toContain(
      'created rust/crates/hello (Cargo.toml, src/main.rs with its own Runtime API client, std only); the first member of the new workspace rust/Cargo.toml',
    );
    expect(added.stdout).toContain("    new RustFunction(stack, 'hello', { package: 'hello' });\n  npx cdktf synth\n");
    expect(fs.readFileSync(path.join(root, 'rust', 'Cargo.lock'), 'utf8')).toMatch(/^version = 3$/m);

    const invoked = await runCli(['invoke', '--package', 'hello', '--event', '-'], { cwd: root, env, input: '[1, 2]' });
    expect(invoked.exitCode).toBe(0);
    expect(invoked.stdout).toBe('{"function":"hello","event":[1, 2]}');
    const failed = await runCli(['invoke', '--package', 'hello', '--event', '-'], { cwd: root, env, input: ' ' });
    expect(failed.exitCode).toBe(1);
  });

  it('refuses a name that is taken or not a name, before writing anything', async () => {
    const project = exampleProject();
    const cdktfJson = fs.readFileSync(path.join(project.root, 'cdktf.json'), 'utf8');
    const folder = await runCli(['new', 'sweep-lambda'], { cwd: project.root, env });
    expect([folder.exitCode, folder.stderr]).toEqual([
      1,
      'error (config): new: rust/crates/sweep-lambda already exists\n  fix: choose another name, or remove that folder',
    ]);
    const config = JSON.parse(cdktfJson);
    config.context.sweep.functions.reports = { artifact: { package: 'sweep-batch' } };
    fs.writeFileSync(path.join(project.root, 'cdktf.json'), JSON.stringify(config));
    const key = await runCli(['new', 'reports'], { cwd: project.root, env });
    expect(key.stderr).toBe('error (config): new: cdktf.json already has a function "reports"\n  fix: choose another name');
    const bad = await runCli(['new', 'Orders!'], { cwd: project.root, env });
    expect(bad.stderr).toBe(
      'error (config): new: "Orders!" is not a function name\n' +
        '  fix: give a name of lower-case letters, digits, _ and - that starts with a letter, e.g. `npx sweep-runtime new orders`',
    );
    expect(JSON.parse(fs.readFileSync(path.join(project.root, 'cdktf.json'), 'utf8'))).toEqual(config);
    expect(fs.existsSync(project.file('crates/reports'))).toBe(false);
    expect(fs.existsSync(project.file('crates/Orders!'))).toBe(false);
  });

  it('without Docker, adds the function and gives the exact command that updates Cargo.lock', async () => {
    const project = exampleProject();
    const run = await runCli(['new', 'orders'], { cwd: project.root, env: { ...env, SWEEP_DOCKER: '/nonexistent/docker' } });
    expect(run.exitCode).toBe(1);
    expect(fs.existsSync(project.file('crates/orders/src/main.rs'))).toBe(true);
    const [problem, fix] = run.stderr.trim().split('\n');
    expect(problem).toMatch(/^error \(docker\): new: the function was added, but Cargo\.lock was not updated: /);
    expect(fix).toBe(
      `  fix: with a Docker engine and the toolchain image, run: /nonexistent/docker run --rm --user ${process.getuid!()}:${process.getgid!()} --network none --mount type=bind,source=${project.workspace},target=/work -w /work -e HOME=/tmp -e CARGO_HOME=/tmp/cargo-home -e CARGO_TARGET_DIR=/tmp/target ${TOOLCHAIN_IMAGE} cargo update --workspace --offline`,
    );
  });
});
