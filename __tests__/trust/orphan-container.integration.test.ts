import * as path from 'node:path';
import { afterEach, expect, it } from '@jest/globals';
import type { ResultPromise } from 'execa';
import { outputContains } from '../helpers/cli.js';
import { describeWithDocker } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';
import {
  artifactKey,
  buildContainersOf,
  CLI_ARTIFACT,
  FIXTURES,
  holdFile,
  removeBuildContainersOf,
  startSweep,
  waitFor,
} from './support.js';

/**
 * Issue 13: SIGKILL reaches no handler, so a killed build leaves its `docker run` container
 * running (cargo goes on compiling and writing the target folder). The next build of the same
 * artifact, which holds its lock, removes containers labelled for that artifact whose owner pid
 * on this host is gone, and says so.
 *
 * The trust-hold fixture's build script waits while a file exists in the target folder, so the
 * container is still running at each check without depending on how long a compile takes.
 */
describeWithDocker('trust: a SIGKILLed build leaves no build container behind', () => {
  let project: TestProject | undefined;
  let key: string | undefined;
  let release: (() => void) | undefined;
  const children: ResultPromise[] = [];
  afterEach(async () => {
    release?.();
    // A failed assertion leaves a build running: stop it before its output outlives the test.
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await child.catch(() => undefined);
    }
    if (key) removeBuildContainersOf(key); // only this test's project's artifact carries this key
    project?.remove();
  });

  it('GIVEN a build killed with SIGKILL while its container runs WHEN the next build starts THEN it removes that container and says whose it was', async () => {
    project = makeTestProject({ workspace: path.join(FIXTURES, 'trust-hold'), prefix: 'sweep-trust-orphan-' });
    key = artifactKey(project.root, CLI_ARTIFACT);
    const hold = holdFile(path.join(project.cache, 'cargo-target'));
    release = hold.release;
    hold.hold();

    // GIVEN a build whose container is running (held in the build script), killed with SIGKILL.
    const victim = startSweep(['build'], project.root);
    children.push(victim);
    await outputContains(victim, 'compile: cargo build');
    const orphan = await waitFor('the build container to run', () =>
      buildContainersOf(key!).find((c) => c.state === 'running' && c.pid === victim.pid),
    );
    victim.kill('SIGKILL');
    expect((await victim).signal).toBe('SIGKILL');
    // THEN its container outlives it.
    expect(buildContainersOf(key).find((c) => c.id === orphan.id)?.state).toBe('running');

    // WHEN the next build of the artifact starts (held too, until its own container runs).
    const next = startSweep(['build'], project.root);
    children.push(next);
    const own = await waitFor('the next build container to run', () =>
      buildContainersOf(key!).find((c) => c.state === 'running' && c.pid === next.pid),
    );

    // THEN before starting its own container it removed the orphan, naming the dead pid.
    expect(buildContainersOf(key).filter((c) => c.pid === victim.pid)).toEqual([]);
    expect(buildContainersOf(key).map((c) => c.id)).toEqual([own.id]);
    hold.release();
    const result = await next;
    expect(result.exitCode).toBe(0);
    expect(result.all).toMatch(
      new RegExp(
        `\\[${CLI_ARTIFACT}\\] removed build container sweep-compile-${key}-${victim.pid}-\\d+ left by pid ${victim.pid}, which is no longer running`,
      ),
    );
    expect(result.all).toContain(`took over the build lock left by pid ${victim.pid}`);
    // AND when it ends, no container of the artifact remains (each runs with --rm).
    expect(buildContainersOf(key)).toEqual([]);
  });
});
