import * as fs from 'node:fs';
import { afterEach, expect, it } from '@jest/globals';
import { outputContains, runCli, startCli } from '../helpers/cli.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';

/**
 * Builds that overlap or die: the lock makes a second build wait and then hit the cache, and a
 * build killed with SIGKILL mid-compile leaves the previous zip and metadata as they were.
 */
describeWithDocker('engine: concurrent and interrupted builds', () => {
  const env = { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE };
  let project: TestProject;
  afterEach(() => project?.remove());

  it('GIVEN two builds started together WHEN both finish THEN cargo ran once and both succeeded', async () => {
    project = makeTestProject();
    const [a, b] = await Promise.all([runCli(['build'], { cwd: project.root, env }), runCli(['build'], { cwd: project.root, env })]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    const outputs = [a.all, b.all];
    expect(outputs.filter((o) => o.includes('compile: cargo build'))).toHaveLength(1);
    // The other one either waited for the lock and re-checked, or started after the build ended:
    // a cache hit either way.
    expect(outputs.filter((o) => /\[sweep-lambda\] cache-hit: inputs unchanged/.test(o))).toHaveLength(1);
    expect(fs.existsSync(`${project.dist}/.sweep-lambda.lock`)).toBe(false);
  });

  it('GIVEN a build in progress WHEN a second one starts THEN it says whom it waits for, then finds a cache hit', async () => {
    project = makeTestProject();
    const first = startCli(['build'], { cwd: project.root, env });
    await outputContains(first, 'Compiling sweep-core'); // the first holds the lock from here to its commit
    const second = await runCli(['build'], { cwd: project.root, env });
    expect((await first).exitCode).toBe(0);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain(`[sweep-lambda] waiting for the build lock: sweep-lambda is being built by pid ${first.pid}`);
    expect(second.stdout).toMatch(/\[sweep-lambda\] cache-hit: inputs unchanged/);
    expect(second.stdout).not.toContain('compile:');
  });

  it('GIVEN a build killed with SIGKILL mid-compile WHEN the next build runs THEN the previous zip survived and it rebuilds', async () => {
    project = makeTestProject();
    expect((await runCli(['build'], { cwd: project.root, env })).exitCode).toBe(0);
    const zip = fs.readFileSync(`${project.dist}/sweep-lambda.zip`);
    const metadata = fs.readFileSync(`${project.dist}/sweep-lambda.json`, 'utf8');

    // GIVEN a change and a cold target folder, so the compile lasts long enough to be killed.
    const main = project.file('crates/sweep-lambda/src/main.rs');
    fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace('initialization failed', 'init failed'));
    fs.rmSync(`${project.cache}/cargo-target`, { recursive: true, force: true });
    const victim = startCli(['build'], { cwd: project.root, env });
    await outputContains(victim, 'Compiling sweep-core');
    victim.kill('SIGKILL');
    const killed = await victim;
    expect(killed.signal).toBe('SIGKILL');

    // THEN nothing the killed build touched is half-written or claimed.
    expect(Buffer.compare(fs.readFileSync(`${project.dist}/sweep-lambda.zip`), zip)).toBe(0);
    expect(fs.readFileSync(`${project.dist}/sweep-lambda.json`, 'utf8')).toBe(metadata);
    expect(fs.existsSync(`${project.dist}/.sweep-lambda.lock`)).toBe(true); // left by the dead process

    // WHEN the next build runs THEN it takes the dead process's lock over at once and rebuilds.
    const next = await runCli(['build'], { cwd: project.root, env });
    expect(next.exitCode).toBe(0);
    expect(next.all).toContain(`took over the build lock left by pid ${victim.pid}`);
    expect(next.all).toContain('[sweep-lambda] cache-miss: changed crates/sweep-lambda/src/main.rs');
    expect(Buffer.compare(fs.readFileSync(`${project.dist}/sweep-lambda.zip`), zip)).not.toBe(0);
  });
});
