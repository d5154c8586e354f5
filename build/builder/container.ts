import * as fs from 'node:fs';
import * as os from 'node:os';
import type { CachePaths } from '../cache/paths.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import type { SweepError } from '../support/errors.js';
import { isAlive } from '../support/processes.js';
import type { Reporter } from '../support/reporter.js';
import { type CargoHome, prepareCargoHome } from './cargo-home.js';
import { type DockerClient, DockerCommandError } from './docker.js';
import { builderContainerNotStarted, cargoBuildFailed, compileInterrupted } from './errors.js';
import type { BuilderImage } from './image.js';

/*
 * How every command of a build runs in the builder image (cargo build, cargo tree):
 *
 * - The workspace is mounted read-only, always at /work: cargo's own fingerprints include
 *   absolute paths, so the same mount point lets an unchanged crate stay compiled.
 * - The cargo target folder persists (a bind mount of the cache folder of this trust domain,
 *   see artifact-paths.ts); of CARGO_HOME only the content-addressed downloads persist
 *   (cargo-home.ts), everything else in it is fresh in each container.
 * - It runs as the calling user, with no capabilities and no privilege escalation: a build
 *   needs to read sources, write its target folder and reach the crates registry, nothing more.
 * - Mounts use `--mount`, whose CSV syntax takes any path (a `:` in a path breaks `-v`).
 * - Each container is named and labelled with its owner (host, pid, start time) and the artifacts
 *   it builds. The build lock guarantees one live builder per artifact, so when the next build of
 *   an artifact finds a container of a builder that is gone (killed with SIGKILL, which no handler
 *   sees), it removes it instead of leaving cargo running.
 *
 * A command runs in a fresh `docker run --rm` container, unless the run was given a warm builder
 * (sweep-runtime watch, warm-builder.ts): then it is `docker exec`ed in a long-lived container
 * started with the very same arguments (builderContainerArgs), so an edit does not pay for a
 * container's start and teardown.
 */
export const WORKSPACE_MOUNT = '/work';
export const TARGET_MOUNT = '/cache/target';

export const LABEL_BUILD = 'org.sweep.build';
export const LABEL_OWNER = 'org.sweep.owner';
const LABEL_ARTIFACT = 'org.sweep.artifact.';
/** On a long-lived container of sweep-runtime watch: idle between its builds, so never an orphan while its owner runs. */
export const LABEL_WARM = 'org.sweep.warm';

export type BuilderStage = 'compile' | 'features';

export interface BuilderContainer {
  readonly docker: DockerClient;
  /** The builder image tag. */
  readonly image: string;
  /** The builder image's ID: what a long-lived container runs, so it builds with exactly the image the metadata names. */
  readonly imageId?: string;
  /** Workspace, build variables: shared by every artifact of the run. */
  readonly options: ResolvedArtifactOptions;
  readonly cache: CachePaths;
  /** Keys (ArtifactPaths.key) of the artifacts this container works for. */
  readonly artifactKeys: readonly string[];
  readonly reporter: Reporter;
  readonly signal?: AbortSignal;
  /** Where commands run when they do not get a fresh container each (see {@link WarmBuilder}). @default a fresh `docker run --rm` per command */
  readonly warm?: WarmBuilder;
}

/**
 * A long-lived builder container in which commands are `docker exec`ed, kept by sweep-runtime
 * watch for its life (warm-builder.ts). It must start its containers with
 * {@link builderContainerArgs}, so a command sees what a fresh container would show it.
 */
export interface WarmBuilder {
  /**
   * The builder image, as image.ts's ensureBuilderImage makes it (after checking the engine
   * answers); a warm builder asks Docker once per image and remembers the answer.
   */
  builderImage(docker: DockerClient, options: ResolvedArtifactOptions, reporter: Reporter, signal?: AbortSignal): Promise<BuilderImage>;
  /** Whether it runs this container's commands; when not, they get a fresh container as usual. */
  serves(container: BuilderContainer): boolean;
  /** {@link runInBuilder}, in its container. */
  run(container: BuilderContainer, stage: BuilderStage, command: readonly string[], capture: boolean): Promise<string>;
}

/** This process, as container labels name it: `host:pid:start time`. */
export const OWNER = `${os.hostname()}:${process.pid}:${Math.round(performance.timeOrigin)}`;
let containerCount = 0;

/** A container name of this process: `sweep-<kind>-<first artifact key>-<pid>-<n>`. */
export function containerName(kind: string, container: Pick<BuilderContainer, 'artifactKeys'>): string {
  return `sweep-${kind}-${container.artifactKeys[0]}-${process.pid}-${++containerCount}`;
}

/**
 * Runs `command` in the builder image: in a fresh container, or in the run's warm builder when it
 * has one that serves it. `stage` names the progress lines; with `capture`, stdout is returned
 * instead of streamed (cargo tree), stderr still streams.
 */
export async function runInBuilder(
  container: BuilderContainer,
  stage: BuilderStage,
  command: readonly string[],
  capture = false,
): Promise<string> {
  if (container.warm?.serves(container)) return container.warm.run(container, stage, command, capture);
  await removeOrphanContainers(container);
  const cargoHome = prepareBuilderFolders(container);
  const name = containerName(stage, container);
  const args = [
    'run',
    '--rm',
    ...builderContainerArgs(container, { name, cargoHome, artifactKeys: container.artifactKeys, warm: false }),
    container.image,
    'sh',
    '-c',
    `${cargoHome.setup} && exec "$@"`,
    'sweep-builder',
    ...command,
  ];
  return runBuilderCommand(
    container,
    stage,
    args,
    capture,
    () => void container.docker.capture('compile', ['rm', '-f', name]).catch(() => undefined),
  );
}

/** The cargo target folder, and CARGO_HOME's persistent parts checked against Cargo.lock: before every command. */
export function prepareBuilderFolders(container: BuilderContainer): CargoHome {
  fs.mkdirSync(container.cache.cargoTarget, { recursive: true });
  return prepareCargoHome(container.cache, container.options.workspace, container.reporter);
}

export interface ContainerIdentity {
  readonly name: string;
  readonly cargoHome: CargoHome;
  /** The artifacts it is labelled with (an orphan is found by these labels). */
  readonly artifactKeys: readonly string[];
  /** Labelled as a long-lived container of sweep-runtime watch. */
  readonly warm: boolean;
}

/**
 * What a build container is, as `docker run` options (everything between `run` and the image):
 * name and labels, user, capabilities, mounts, CARGO_HOME in memory, the environment, the working
 * folder. A fresh container and a warm one are started with these same options.
 */
export function builderContainerArgs(container: BuilderContainer, identity: ContainerIdentity): string[] {
  const { options } = container;
  const { cargoHome } = identity;
  return [
    '--name',
    identity.name,
    '--label',
    `${LABEL_BUILD}=1`,
    '--label',
    `${LABEL_OWNER}=${OWNER}`,
    ...(identity.warm ? ['--label', `${LABEL_WARM}=1`] : []),
    ...identity.artifactKeys.flatMap((key) => ['--label', `${LABEL_ARTIFACT}${key}=1`]),
    ...userArgs(),
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--mount',
    bindMount(options.workspace, WORKSPACE_MOUNT, true),
    '--mount',
    bindMount(container.cache.cargoTarget, TARGET_MOUNT, false),
    ...cargoHome.mounts.flatMap((m) => ['--mount', bindMount(m.source, m.target, false)]),
    // CARGO_HOME itself in memory: cargo extracts every registry crate into it on every build
    // (it is fresh each time), and writing and then deleting those files on disk costs about 1 s
    // per 2,000 files (bench/local-registry/README.md); in memory it is a fraction of that. In a
    // warm container it lives as long as the container (warm-builder.ts).
    '--mount',
    `type=tmpfs,destination=${cargoHome.cargoHome},tmpfs-mode=1777`,
    '-e',
    `CARGO_TARGET_DIR=${TARGET_MOUNT}`,
    '-e',
    `CARGO_HOME=${cargoHome.cargoHome}`,
    '-e',
    'HOME=/tmp',
    ...Object.keys(options.buildEnv).flatMap((key) => ['-e', `${key}=${options.buildEnv[key]}`]),
    '-w',
    WORKSPACE_MOUNT,
  ];
}

/**
 * Runs a docker command of a build (`run` or `exec`), streaming its output as `stage` lines (or
 * returning stdout, with `capture`), and turns its failure into the build's error. `onAbort`
 * stops what the command started when the run is cancelled.
 */
export async function runBuilderCommand(
  container: BuilderContainer,
  stage: BuilderStage,
  args: readonly string[],
  capture: boolean,
  onAbort: () => void,
): Promise<string> {
  const { docker } = container;
  container.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (capture) return await docker.captureStreamingStderr('compile', args, container.reporter.stream(stage), container.signal);
    await docker.stream('compile', args, container.reporter.stream(stage), container.signal);
    return '';
  } catch (error) {
    if (!(error instanceof DockerCommandError)) throw error;
    throw builderCommandError(container.image, error);
  } finally {
    container.signal?.removeEventListener('abort', onAbort);
  }
}

/** The build's error for a docker command of it that failed. */
export function builderCommandError(image: string, error: DockerCommandError): SweepError {
  if (error.cancelled) return compileInterrupted(error);
  // 125: docker itself refused to start the container (a bad option, a missing mount source).
  if (error.exitCode === 125) return builderContainerNotStarted(image, error.output, error);
  return cargoBuildFailed(error.exitCode, error.output, error);
}

/**
 * Removes build containers of these artifacts left by a builder that is gone. Only containers
 * this host started are judged (a pid means nothing on another host); and since this process
 * holds the artifacts' locks, a container of another pid on this host is an orphan unless that
 * pid still runs (then it is left alone and named; a warm container of a running watch is left
 * alone quietly: it is idle between that watch's builds, which take the same locks).
 */
export async function removeOrphanContainers(container: Pick<BuilderContainer, 'docker' | 'reporter' | 'artifactKeys'>): Promise<void> {
  const { docker, reporter } = container;
  // One listing of every build container, filtered here: docker ANDs label filters, and one
  // call per artifact would cost a docker round trip each.
  const listing = await docker
    .capture('compile', [
      'ps',
      '-a',
      '--filter',
      `label=${LABEL_BUILD}`,
      '--format',
      `{{.ID}}\t{{.Names}}\t{{.Label "${LABEL_OWNER}"}}\t{{.Labels}}`,
    ])
    .catch(() => '');
  const keys = new Set(container.artifactKeys.map((key) => `${LABEL_ARTIFACT}${key}=`));
  for (const line of listing.split('\n')) {
    const [id, name, owner, labels] = line.split('\t');
    if (!id || !owner || !labels) continue;
    const labelList = labels.split(',');
    if (!labelList.some((label) => [...keys].some((key) => label.startsWith(key)))) continue;
    const [host, pid] = owner.split(':');
    if (host !== os.hostname() || owner === OWNER) continue;
    if (isAlive(Number(pid))) {
      if (!labelList.some((label) => label.startsWith(`${LABEL_WARM}=`))) {
        reporter.line(`note: build container ${name} of pid ${pid} is still running; leaving it`);
      }
      continue;
    }
    await docker.capture('compile', ['rm', '-f', id]).catch(() => undefined);
    reporter.line(`removed build container ${name} left by pid ${pid}, which is no longer running`);
  }
}

/** `--mount` value for a bind mount; a field with `,` or `"` is quoted CSV-style, as docker parses it. */
export function bindMount(source: string, target: string, readonly: boolean): string {
  const field = (text: string) => (/[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  return ['type=bind', field(`source=${source}`), field(`target=${target}`), ...(readonly ? ['readonly'] : [])].join(',');
}

function userArgs(): string[] {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  return uid === undefined || gid === undefined ? [] : ['--user', `${uid}:${gid}`];
}
