import * as path from 'node:path';
import { builderRecipe } from './builder-recipe.js';
import { type DockerClient, DockerCommandError } from './docker-client.js';
import { lastLines, SweepError } from './errors.js';
import type { ResolvedArtifactOptions } from './options.js';
import type { Reporter } from './reporter.js';

/**
 * Makes sure the builder image for this recipe exists, honouring the pull policy:
 * - `if-missing` (default): reuse the tagged builder image when present; otherwise build it,
 *   pulling the toolchain image only if it is not present locally.
 * - `always`: rebuild on every cold run with `docker build --pull`, so the toolchain image is
 *   refreshed (the layer cache keeps this quick when nothing upstream changed).
 * - `never`: never pull; a missing toolchain image is an error that says how to get it.
 */
export interface BuilderImage {
  readonly tag: string;
  readonly id: string;
  /** Whether `docker build` ran in this call. */
  readonly built: boolean;
}

export async function ensureBuilderImage(
  docker: DockerClient,
  options: ResolvedArtifactOptions,
  reporter: Reporter,
  signal?: AbortSignal,
): Promise<BuilderImage> {
  const recipe = builderRecipe(options);
  if (options.pullPolicy !== 'always') {
    const existing = await docker.imageId(recipe.tag);
    if (existing) {
      reporter.line(`builder-image: reusing ${recipe.tag}`);
      return { tag: recipe.tag, id: existing, built: false };
    }
  }

  const baseId = await docker.imageId(options.toolchainImage);
  if (!baseId && options.pullPolicy === 'never') {
    throw new SweepError({
      stage: 'builder-image',
      problem: `the toolchain image ${options.toolchainImage} is not present locally, and SWEEP_DOCKER_PULL_POLICY=never forbids pulling it`,
      fix: `run \`docker pull ${options.toolchainImage}\` (or \`npm run toolchain:local\` where no registry is reachable), or use SWEEP_DOCKER_PULL_POLICY=if-missing`,
    });
  }
  const pull = options.pullPolicy === 'always' || !baseId;
  reporter.line(
    `builder-image: building ${recipe.tag} from ${options.toolchainImage}` +
      (pull ? ' (pulling the toolchain image)' : ' (toolchain image present, not pulling)'),
  );
  const args = ['build', '-f', recipe.dockerfile, '-t', recipe.tag, '--label', `org.sweep.recipe=${recipe.hash}`];
  for (const [key, value] of Object.entries(recipe.buildArgs)) args.push('--build-arg', `${key}=${value}`);
  if (pull) args.push('--pull');
  args.push(path.dirname(recipe.dockerfile));
  try {
    await docker.stream('builder-image', args, reporter.stream('builder-image'), signal);
  } catch (error) {
    if (!(error instanceof DockerCommandError)) throw error;
    const pullFailed = /pull access denied|manifest unknown|not found|dial tcp|no such host|connection refused|TLS handshake/i.test(
      error.output,
    );
    throw new SweepError({
      stage: 'builder-image',
      problem: error.cancelled
        ? `building the builder image ${recipe.tag} was cancelled`
        : pull && pullFailed
          ? `could not pull the toolchain image ${options.toolchainImage}`
          : `docker build of the builder image ${recipe.tag} failed (exit code ${error.exitCode})`,
      fix:
        pull && pullFailed
          ? `check that ${options.toolchainImage} exists and the registry is reachable; without a registry run \`npm run toolchain:local\` and use SWEEP_DOCKER_PULL_POLICY=if-missing`
          : `read the output below; the recipe is ${path.relative(options.projectRoot, recipe.dockerfile) || recipe.dockerfile}`,
      details: lastLines(error.output, 25),
      cause: error,
    });
  }
  const id = await docker.imageId(recipe.tag);
  if (!id) {
    throw new SweepError({
      stage: 'builder-image',
      problem: `docker build reported success but ${recipe.tag} is not present`,
      fix: 'check the Docker engine (`docker images`), then run again',
    });
  }
  return { tag: recipe.tag, id, built: true };
}
