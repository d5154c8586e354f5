import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import { outputContains } from '../helpers/cli.js';
import { DOCKER, describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, REPO_ROOT, type TestProject, writeSweepConfig } from '../helpers/project.js';

/**
 * The run ends with its process. The app (main.ts, as cdktf runs it) builds its misses in a child
 * process; when the app is killed (cdktf does that on a timeout or its own Ctrl-C) or the terminal
 * sends Ctrl-C to the whole process group, the child stops too: its container is removed, its
 * locks are released, dist/ is left as it was, and Ctrl-C prints one line, not a stack trace.
 */
const FUNCTIONS = ['sweep-lambda', 'sweep-batch'];

describeWithDocker('engine: a build ends with the process that started it', () => {
  let project: TestProject;
  afterEach(() => project?.remove());

  function startApp(options: { detached?: boolean } = {}): ResultPromise<{ all: true }> {
    const sweep = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdktf.json'), 'utf8')).context.sweep;
    writeSweepConfig(project.root, { ...sweep, artifact: { ...sweep.artifact, toolchainImage: TOOLCHAIN_IMAGE } });
    return execa(process.execPath, [path.join(REPO_ROOT, 'bin', 'run-ts.mjs'), path.join(REPO_ROOT, 'main.ts')], {
      cwd: project.root,
      env: { CHECKPOINT_DISABLE: '1' },
      reject: false,
      all: true,
      stdin: 'ignore',
      detached: options.detached ?? false,
    }) as ResultPromise<{ all: true }>;
  }

  /** Waits (up to 20 s) until nothing of the build is left: no engine process, no container, no lock. */
  async function nothingLeft(): Promise<{ processes: number[]; containers: string[]; locks: string[] }> {
    let left = await leftovers();
    for (let waited = 0; waited < 20_000 && left.processes.length + left.containers.length + left.locks.length > 0; waited += 250) {
      await sleep(250);
      left = await leftovers();
    }
    return left;
  }

  async function leftovers(): Promise<{ processes: number[]; containers: string[]; locks: string[] }> {
    return { processes: engineProcessesIn(project.root), containers: await containersOf(project.dist), locks: locksUnder(project) };
  }

  it('GIVEN the app killed with SIGKILL while its build child compiles WHEN a few seconds pass THEN no engine process, container or lock is left and dist/ holds nothing', async () => {
    project = makeTestProject();
    const app = startApp();
    await outputContains(app, 'Compiling sweep-core');
    expect(engineProcessesIn(project.root)).toHaveLength(1);
    app.kill('SIGKILL');
    await app;
    expect(await nothingLeft()).toEqual({ processes: [], containers: [], locks: [] });
    expect(fs.readdirSync(project.dist).filter((file) => !file.startsWith('.'))).toEqual([]);
  });

  it('GIVEN Ctrl-C (SIGINT to the process group) while the build compiles WHEN it stops THEN one line says so, no stack trace, and nothing is left', async () => {
    project = makeTestProject();
    const app = startApp({ detached: true });
    await outputContains(app, 'Compiling sweep-core');
    process.kill(-app.pid!, 'SIGINT');
    const run = await app;
    const output = String(run.all);
    expect(output.match(/build stopped \(SIGINT\): build containers removed, locks released, dist\/ unchanged/g)).toHaveLength(1);
    expect(output).not.toMatch(/EPIPE|^\s+at /m);
    expect(await nothingLeft()).toEqual({ processes: [], containers: [], locks: [] });
    expect(fs.readdirSync(project.dist).filter((file) => !file.startsWith('.'))).toEqual([]);
  });
});

/** Pids of the engine's child processes whose working folder is `root` (read from /proc). */
function engineProcessesIn(root: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (command.includes('child-main') && fs.readlinkSync(`/proc/${entry}/cwd`) === root) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Containers (running or not) labelled as building one of the project's functions. */
async function containersOf(dist: string): Promise<string[]> {
  const names: string[] = [];
  for (const name of FUNCTIONS) {
    // The label key is the artifact key: a hash of the zip's path (cache/paths.ts).
    const key = createHash('sha256')
      .update(path.join(dist, `${name}.zip`))
      .digest('hex')
      .slice(0, 12);
    const { stdout } = await execa(DOCKER, ['ps', '-a', '--filter', `label=org.sweep.artifact.${key}`, '--format', '{{.Names}}']);
    names.push(...stdout.split('\n').filter(Boolean));
  }
  return names;
}

/** Build locks in dist/ and the cargo target folder's lock. */
function locksUnder(project: TestProject): string[] {
  const locks = fs.existsSync(project.dist) ? fs.readdirSync(project.dist).filter((file) => file.endsWith('.lock')) : [];
  if (fs.existsSync(path.join(project.cache, 'cargo-target.lock'))) locks.push('.cache/cargo-target.lock');
  return locks;
}
