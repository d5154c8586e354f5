import * as fs from 'node:fs';
import * as os from 'node:os';
import type { CachePaths } from '../cache/paths.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import { isAlive } from '../support/processes.js';
import type { Reporter } from '../support/reporter.js';
import { prepareCargoHome } from './cargo-home.js';
import { type DockerClient, DockerCommandError } from './docker.js';
import { builderContainerNotStarted, cargoBuildFailed, compileInterrupted } from './errors.js';

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
 */
export const WORKSPACE_MOUNT = '/work';
export const TARGET_MOUNT = '/cache/target';

const LABEL_BUILD = 'org.sweep.build';
const LABEL_OWNER = 'org.sweep.owner';
const LABEL_ARTIFACT = 'org.sweep.artifact.';

export interface BuilderContainer {
  readonly docker: DockerClient;
  /** The builder image tag. */
  readonly image: string;
  /** Workspace, build variables: shared by every artifact of the run. */
  readonly options: ResolvedArtifactOptions;
  readonly cache: CachePaths;
  /** Keys (ArtifactPaths.key) of the artifacts this container works for. */
  readonly artifactKeys: readonly string[];
  readonly reporter: Reporter;
  readonly signal?: AbortSignal;
}

/** This process, as container labels name it: `host:pid:start time`. */
const OWNER = `${os.hostname()}:${process.pid}:${Math.round(performance.timeOrigin)}`;
let containerCount = 0;

/**
 * Runs `command` in a fresh builder container. `stage` names the progress lines; with
 * `capture`, stdout is returned instead of streamed (cargo tree), stderr still streams.
 */
export async function runInBuilder(
  container: BuilderContainer,
  stage: 'compile' | 'features',
  command: readonly string[],
  capture = false,
): Promise<string> {
  const { docker, options } = container;
  await removeOrphanContainers(container);
  fs.mkdirSync(container.cache.cargoTarget, { recursive: true });
  const cargoHome = prepareCargoHome(container.cache, options.workspace, container.reporter);
  const name = `sweep-${stage}-${container.artifactKeys[0]}-${process.pid}-${++containerCount}`;
  const args = [
    'run',
    '--rm',
    '--name',
    name,
    '--label',
    `${LABEL_BUILD}=1`,
    '--label',
    `${LABEL_OWNER}=${OWNER}`,
    ...container.artifactKeys.flatMap((key) => ['--label', `${LABEL_ARTIFACT}${key}=1`]),
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
    // per 2,000 files (bench/local-registry/README.md); in memory it is a fraction of that.
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
    container.image,
    'sh',
    '-c',
    `${cargoHome.setup} && exec "$@"`,
    'sweep-builder',
    ...command,
  ];
  const onAbort = () => void docker.capture('compile', ['rm', '-f', name]).catch(() => undefined);
  container.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (capture) return await docker.captureStreamingStderr('compile', args, container.reporter.stream(stage), container.signal);
    await docker.stream('compile', args, container.reporter.stream(stage), container.signal);
    return '';
  } catch (error) {
    if (!(error instanceof DockerCommandError)) throw error;
    if (error.cancelled) throw compileInterrupted(error);
    // 125: docker itself refused to start the container (a bad option, a missing mount source).
    if (error.exitCode === 125) throw builderContainerNotStarted(container.image, error.output, error);
    throw cargoBuildFailed(error.exitCode, error.output, error);
  } finally {
    container.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Removes build containers of these artifacts left by a builder that is gone. Only containers
 * this host started are judged (a pid means nothing on another host); and since this process
 * holds the artifacts' locks, a container of another pid on this host is an orphan unless that
 * pid still runs (then it is left alone and named).
 */
async function removeOrphanContainers(container: BuilderContainer): Promise<void> {
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
    if (!labels.split(',').some((label) => [...keys].some((key) => label.startsWith(key)))) continue;
    const [host, pid] = owner.split(':');
    if (host !== os.hostname() || owner === OWNER) continue;
    if (isAlive(Number(pid))) {
      reporter.line(`note: build container ${name} of pid ${pid} is still running; leaving it`);
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
