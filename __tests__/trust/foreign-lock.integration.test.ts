import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, expect, it } from '@jest/globals';
import { makeTestProject, type TestProject } from '../helpers/project.js';
import { CLI_ARTIFACT, FIXTURES, listTree, startSweep } from './support.js';

/**
 * Issue 13: a build lock in a dist/ shared between hosts (a network file system) whose owner is
 * another host is never taken over, since its pid cannot be checked from here. A waiting build
 * must then end, within the bound the operator sets (SWEEP_LOCK_TIMEOUT_SECONDS), with an error
 * that names the holder and says what to do, and without touching dist/.
 *
 * No Docker: the lock is taken before anything is built.
 */
const LOCK_TIMEOUT_SECONDS = '1';

let project: TestProject | undefined;
afterEach(() => project?.remove());

it('GIVEN dist/ holds a build lock of another host WHEN a build waits with a short lock timeout THEN it fails naming the holder and the fix, and dist/ is unchanged', async () => {
  project = makeTestProject({ workspace: path.join(FIXTURES, 'trust-hold'), prefix: 'sweep-trust-lock-' });
  const lock = path.join(project.dist, `.${CLI_ARTIFACT}.lock`);
  fs.mkdirSync(lock, { recursive: true });
  const owner = { pid: 4242, host: 'ci-runner-7', since: '2026-11-26T08:00:00.000Z', command: 'sweep-runtime build' };
  fs.writeFileSync(path.join(lock, 'owner.json'), JSON.stringify(owner));
  const before = snapshot(project.dist);

  // Stopped after 45 s if it still waits: the default lock timeout is 30 minutes.
  const run = await startSweep(['build'], project.root, { SWEEP_LOCK_TIMEOUT_SECONDS: LOCK_TIMEOUT_SECONDS }, 45_000);

  expect(run.timedOut).toBe(false);
  expect(run.exitCode).toBe(1);
  expect(run.all).toContain(
    `waiting for the build lock: ${CLI_ARTIFACT} is being built by pid 4242 on ci-runner-7 (sweep-runtime build) since 2026-11-26T08:00:00.000Z`,
  );
  expect(run.all).toMatch(
    new RegExp(
      `error \\(lock\\): ${CLI_ARTIFACT}: gave up waiting for the build lock ${escapeRegExp(lock)} after [^:]+: it is held by pid 4242 on ci-runner-7`,
    ),
  );
  expect(run.all).toContain(
    `fix: a lock held from another host is never taken over automatically (its pid cannot be checked from here): if no build is running on ci-runner-7, remove the lock (rm -rf ${lock}) and run again`,
  );
  expect(run.all).not.toContain('compile:');
  expect(snapshot(project.dist)).toEqual(before);
});

/** Every path under dist/ with its bytes. */
function snapshot(dist: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const file of listTree(dist)) {
    const full = path.join(dist, file);
    files[file] = fs.lstatSync(full).isFile() ? fs.readFileSync(full, 'base64') : '<dir>';
  }
  return files;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
