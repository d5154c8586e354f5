/*
 * The engine's front door: what the constructs, the sweep-runtime command and local invoke use.
 * Everything here is light to load; what needs Docker or the AWS SDK is behind an async function
 * that imports it when called, so a cache hit never pays for it.
 *
 * The rooms behind it, in pipeline order: options/ -> cargo/ -> fingerprint/ -> cache/ ->
 * remote/ -> builder/ -> package/ -> cache/commit, driven by engine/ (build/README.md).
 */
import type { WarmBuilderContainers } from './builder/warm-builder.js';
import type { CleanRequest } from './cache/clean.js';
import type { ResolvedArtifactOptions } from './options/resolve.js';
import type { Reporter } from './support/reporter.js';

export type { WarmBuilder } from './builder/container.js';
export { builderRecipe } from './builder/recipe.js';
export type { WarmBuilderContainers, WarmTarget } from './builder/warm-builder.js';
export { type CacheCheck, isHit } from './cache/check.js';
export type { ArtifactMetadata } from './cache/metadata.js';
export { lockUpdateCommand } from './cargo/lock-update.js';
export { crateFolders, readCargoWorkspace, selectPackage, WORKSPACE_ROOT_FILES } from './cargo/workspace.js';
export { checkAll, checkAllOrThrow, ensureArtifact, ensureArtifacts, settleArtifacts } from './engine/engine.js';
export type { ArtifactResult, Settled } from './engine/result.js';
export { type ArtifactMemo, ensureArtifactsSync, newArtifactMemo } from './engine/sync.js';
export { canonicalJson } from './fingerprint/fingerprint.js';
export { EXCLUDED_FOLDER_NAMES } from './fingerprint/inputs.js';
export { toConfigIssues } from './options/config-issues.js';
export type { OptionsOrigin } from './options/origin.js';
export { type ResolvedArtifactOptions, resolveArtifactOptions } from './options/resolve.js';
export {
  ARTIFACT_DEFAULTS,
  type Architecture,
  type ArtifactOptions,
  artifactOptionsSchema,
  CONTEXT_KEY,
  type FunctionArtifactOptions,
  functionArtifactSchema,
  LAMBDA_ENTRY_POINT,
  type LambdaRuntime,
} from './options/schema.js';
export { compareVersions } from './package/elf.js';
export { exceedsUnzippedLimit, UNZIPPED_LIMIT_BYTES } from './package/lambda-limits.js';
export { ZIP_ENTRY_NAME } from './package/zip.js';
export { inflateEntry, readCentralDirectory, unzippedSize, withZipFile, ZipFormatError } from './package/zip-read.js';
export { generateSigningKeyPair } from './remote/keygen.js';
export { remoteReportLines } from './remote/report.js';
export {
  type ConfigIssue,
  describeError,
  errorMessage,
  invalidConfig,
  isSweepError,
  SweepError,
  unexpectedFailure,
} from './support/errors.js';
export { printable } from './support/printable.js';
export { createReporter, formatBytes, type Output, type Reporter } from './support/reporter.js';
export { isSafeName } from './support/safe-name.js';
export { formatDuration } from './support/stage-timer.js';

/** Removes the engine's output (and with `all` its caches and builder images); see cache/clean.ts. */
export async function cleanArtifacts(request: CleanRequest): Promise<boolean> {
  return (await import('./cache/clean.js')).cleanArtifacts(request);
}

/**
 * The builder image these options name (builder/recipe.ts), made if missing: what local invoke
 * runs a binary in. Never an image named by downloaded metadata. Loads the Docker client.
 */
export async function ensureBuilderImageFor(options: ResolvedArtifactOptions, reporter: Reporter): Promise<string> {
  const [{ DockerClient }, { ensureBuilderImage }] = await Promise.all([import('./builder/docker.js'), import('./builder/image.js')]);
  const docker = new DockerClient(options.dockerCommand);
  await docker.ensureEngine();
  return (await ensureBuilderImage(docker, options, reporter)).tag;
}

/** The shared cache these options configure (loads the AWS SDK), or undefined when there is none or it is off. */
export async function openRemoteCache(options: ResolvedArtifactOptions, reporter: Reporter) {
  return (await import('./remote/cache.js')).RemoteCache.open(options, reporter);
}

/**
 * The long-lived builder containers of one sweep-runtime watch process (loads Docker's client):
 * pass it as `EngineRun.builder`, and `close()` it when the watch ends.
 */
export async function createWarmBuilder(): Promise<WarmBuilderContainers> {
  return new (await import('./builder/warm-builder.js')).WarmBuilderContainers();
}
