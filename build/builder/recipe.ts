import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../fingerprint/fingerprint.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import { TARGETS } from '../options/schema.js';

/*
 * What the builder image is made from: docker/builder.Dockerfile and its build args. Its hash
 * is part of the fingerprint and of the image's tag, so a changed recipe builds a new image
 * (and rebuilds the zip) while an unchanged one is reused without running `docker build`.
 *
 * Reading the recipe is synchronous and touches no Docker: the fast path computes it too.
 */
export const BUILDER_DOCKERFILE = fileURLToPath(new URL('../../docker/builder.Dockerfile', import.meta.url));

export interface BuilderRecipe {
  readonly dockerfile: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly hash: string;
  /** e.g. `sweep-builder:rust-1-bullseye-3f9c2a1b` */
  readonly tag: string;
}

export function builderRecipe(
  options: Pick<ResolvedArtifactOptions, 'toolchainImage' | 'architecture' | 'builderRepository'>,
): BuilderRecipe {
  const target = TARGETS[options.architecture];
  const buildArgs = {
    BASE_IMAGE: options.toolchainImage,
    TARGET_DEB_ARCH: target.debianArch,
    TARGET_TRIPLE: target.triple,
  };
  const content = fs.readFileSync(BUILDER_DOCKERFILE, 'utf8');
  const hash = createHash('sha256')
    .update(canonicalJson({ dockerfile: content, buildArgs }))
    .digest('hex');
  return {
    dockerfile: BUILDER_DOCKERFILE,
    buildArgs,
    hash,
    tag: `${options.builderRepository}:${tagStem(options.toolchainImage)}-${hash.slice(0, 8)}`,
  };
}

/** `rust:1-bullseye` -> `rust-1-bullseye`; `registry:5000/team/rust:1.78@sha256:...` -> `rust-1.78`. */
function tagStem(image: string): string {
  const withoutDigest = image.split('@')[0]!;
  const lastSegment = withoutDigest.split('/').pop()!;
  const stem = lastSegment.replace(/:/g, '-').replace(/[^A-Za-z0-9_.-]/g, '_');
  return stem.slice(0, 100);
}
