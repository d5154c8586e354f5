import * as path from 'node:path';
import { afterEach, expect, it } from '@jest/globals';
import { execaSync } from 'execa';
import { ensureArtifact } from '../../build/engine/engine.js';
import { SweepError } from '../../build/support/errors.js';
import { createRecordingOutput } from '../../build/support/reporter.js';
import { DOCKER, describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';
import { engineOptions, FIXTURES, OWN_BUILDER_REPOSITORY } from './support.js';

/**
 * Issue 13: the toolchain image is pulled as its own step (`docker pull`), never with
 * `docker build --pull`, so a pull that fails and a recipe step that fails each get their own
 * message: a pull failure names the image, the pull policy and where the policy came from; a
 * build failure is docker build's, with its output. No registry is reachable here, which makes
 * every pull fail: the tests use images that exist only locally, or nowhere.
 *
 * They make builder images, so they use their own repository (the engine is shared), and remove
 * what they made.
 */
const ABSENT_IMAGE = `${OWN_BUILDER_REPOSITORY}/absent-toolchain:1`;
const NO_APT_IMAGE = `${OWN_BUILDER_REPOSITORY}/toolchain-without-apt:1`;

describeWithDocker('trust: pulling the toolchain image is a step of its own', () => {
  let project: TestProject | undefined;
  afterEach(() => {
    removeImageTree(NO_APT_IMAGE);
    project?.remove();
  });

  it('GIVEN pull policy always from SWEEP_DOCKER_PULL_POLICY WHEN the toolchain image cannot be pulled THEN the error says so and names the policy and its source', async () => {
    project = makeTestProject({ workspace: path.join(FIXTURES, 'trust-hold'), prefix: 'sweep-trust-pull-' });
    const output = createRecordingOutput();
    const options = engineOptions(
      project.root,
      { name: 'pull' },
      { SWEEP_DOCKER_PULL_POLICY: 'always', SWEEP_TOOLCHAIN_IMAGE: ABSENT_IMAGE, SWEEP_BUILDER_REPOSITORY: OWN_BUILDER_REPOSITORY },
    );

    const error = await failure(ensureArtifact(options, { output }));

    expect(error.stage).toBe('builder-image');
    expect(error.problem).toBe(
      `pull: could not pull the toolchain image ${ABSENT_IMAGE} (pull policy always, from SWEEP_DOCKER_PULL_POLICY=always)`,
    );
    expect(error.fix).toContain('SWEEP_DOCKER_PULL_POLICY=if-missing');
    expect(error.details?.trim()).toMatch(/\S/); // docker pull's own words follow
    const log = output.of('pull');
    expect(log).toContain(`builder-image: pulling ${ABSENT_IMAGE} (pull policy always, from SWEEP_DOCKER_PULL_POLICY=always)`);
    expect(log.some((line) => line.startsWith('builder-image: building'))).toBe(false);
  });

  it('GIVEN a local toolchain image on which the recipe fails WHEN the builder image is built THEN the error is the build failure, not a pull failure', async () => {
    project = makeTestProject({ workspace: path.join(FIXTURES, 'trust-hold'), prefix: 'sweep-trust-recipe-' });
    // A toolchain image on which the recipe's apt-get step fails: present locally, in no registry.
    execaSync(DOCKER, ['build', '--force-rm', '-t', NO_APT_IMAGE, '-'], {
      input: `FROM ${TOOLCHAIN_IMAGE}\nRUN rm /usr/bin/apt-get\n`,
    });
    const output = createRecordingOutput();
    const options = engineOptions(
      project.root,
      { name: 'recipe' },
      { SWEEP_DOCKER_PULL_POLICY: 'if-missing', SWEEP_TOOLCHAIN_IMAGE: NO_APT_IMAGE, SWEEP_BUILDER_REPOSITORY: OWN_BUILDER_REPOSITORY },
    );

    const error = await failure(ensureArtifact(options, { output }));

    expect(error.stage).toBe('builder-image');
    expect(error.problem).toMatch(
      new RegExp(
        `^recipe: docker build of the builder image ${OWN_BUILDER_REPOSITORY}:toolchain-without-apt-1-[0-9a-f]{8} failed \\(exit code \\d+\\)$`,
      ),
    );
    expect(error.fix).toMatch(/^read the output below; the recipe is \S*docker\/builder\.Dockerfile$/);
    expect(error.details).toContain('apt-get: not found');
    expect(error.describe()).not.toMatch(/could not pull|pull policy/);
    expect(output.of('recipe').some((line) => line.startsWith('builder-image: pulling'))).toBe(false);
    // The failed step's container is not left behind on the shared engine.
    expect(containersFrom(NO_APT_IMAGE)).toEqual([]);
  });
});

async function failure(run: Promise<unknown>): Promise<SweepError> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(SweepError);
    return error as SweepError;
  }
  throw new Error('expected the build to fail');
}

/** Containers (any state) made from `image` or from an image built on it. */
function containersFrom(image: string): string[] {
  const { stdout, exitCode } = execaSync(DOCKER, ['ps', '-aq', '--filter', `ancestor=${image}`], { reject: false });
  return exitCode === 0 ? stdout.split('\n').filter(Boolean) : [];
}

/**
 * Removes `image`, the containers made from it and the images built on it (the failed recipe's
 * intermediate layers, which docker's legacy builder keeps as cache): all made by this test.
 */
function removeImageTree(image: string): void {
  const root = execaSync(DOCKER, ['image', 'inspect', '--format', '{{.Id}}', image], { reject: false });
  if (root.exitCode !== 0) return;
  for (const id of containersFrom(image)) execaSync(DOCKER, ['rm', '-f', id], { reject: false });
  const all = execaSync(DOCKER, ['images', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
  const parents = new Map(
    execaSync(DOCKER, ['image', 'inspect', '--format', '{{.Id}} {{.Parent}}', ...new Set(all)])
      .stdout.split('\n')
      .map((line) => line.split(' ') as [string, string]),
  );
  const descends = (id: string): boolean => {
    for (let at: string | undefined = id; at; at = parents.get(at)) if (at === root.stdout.trim()) return true;
    return false;
  };
  // Children first: an image with children cannot be removed.
  const depth = (id: string): number => (parents.get(id) ? 1 + depth(parents.get(id)!) : 0);
  const tree = [...parents.keys()].filter(descends).sort((a, b) => depth(b) - depth(a));
  for (const id of tree) execaSync(DOCKER, ['rmi', '-f', id], { reject: false });
}
