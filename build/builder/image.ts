import * as path from 'node:path';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import type { Reporter } from '../support/reporter.js';
import { type DockerClient, DockerCommandError } from './docker.js';
import { builderImageBuildFailed, builderImageMissingAfterBuild, toolchainImageAbsent, toolchainPullFailed } from './errors.js';
import { builderRecipe } from './recipe.js';

/*
 * Makes sure the builder image for this recipe exists, honouring the pull policy:
 * - `if-missing` (default): reuse the tagged builder image when present; otherwise build it,
 *   pulling the toolchain image first only if it is not present locally.
 * - `always`: pull the toolchain image and rebuild on every cold run, so the toolchain is
 *   refreshed (the layer cache keeps the rebuild quick when nothing upstream changed).
 * - `never`: never pull; a missing toolchain image is an error that says how to get it.
 *
 * The pull is its own step (`docker pull`), never `docker build --pull`, so a failed pull and a
 * failed build step each get their own message.
 */
export interface BuilderImage {
  readonly tag: string;
  readonly id: string;
  /** Whether `docker build` ran in this call. */
  readonly built: boolean;
}

type ImageOptions = Pick<
  ResolvedArtifactOptions,
  'toolchainImage' | 'architecture' | 'pullPolicy' | 'builderRepository' | 'projectRoot' | 'sources'
>;

export async function ensureBuilderImage(
  docker: DockerClient,
  options: ImageOptions,
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

  const present = (await docker.imageId(options.toolchainImage)) !== undefined;
  if (!present && options.pullPolicy === 'never') throw toolchainImageAbsent(options.toolchainImage, options.sources.pullPolicy);
  if (options.pullPolicy === 'always' || !present) {
    reporter.line(
      `builder-image: pulling ${options.toolchainImage} (pull policy ${options.pullPolicy}, from ${options.sources.pullPolicy})`,
    );
    try {
      await docker.stream('builder-image', ['pull', options.toolchainImage], reporter.stream('pull'), signal);
    } catch (error) {
      if (!(error instanceof DockerCommandError)) throw error;
      throw toolchainPullFailed(options.toolchainImage, options.pullPolicy, options.sources.pullPolicy, error);
    }
  }

  reporter.line(`builder-image: building ${recipe.tag} from ${options.toolchainImage}`);
  // --force-rm: the legacy builder keeps the container of a failed step (BuildKit ignores the flag).
  const args = ['build', '--force-rm', '-f', recipe.dockerfile, '-t', recipe.tag, '--label', `org.sweep.recipe=${recipe.hash}`];
  for (const [key, value] of Object.entries(recipe.buildArgs)) args.push('--build-arg', `${key}=${value}`);
  args.push(path.dirname(recipe.dockerfile));
  try {
    await docker.stream('builder-image', args, reporter.stream('builder-image'), signal);
  } catch (error) {
    if (!(error instanceof DockerCommandError)) throw error;
    throw builderImageBuildFailed(recipe.tag, path.relative(options.projectRoot, recipe.dockerfile) || recipe.dockerfile, error);
  }
  const id = await docker.imageId(recipe.tag);
  if (!id) throw builderImageMissingAfterBuild(recipe.tag);
  return { tag: recipe.tag, id, built: true };
}
