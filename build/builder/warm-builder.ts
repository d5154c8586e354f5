import { execaSync } from 'execa';
import { cachePaths } from '../cache/paths.js';
import { canonicalJson } from '../fingerprint/fingerprint.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import type { Reporter } from '../support/reporter.js';
import {
  type BuilderContainer,
  type BuilderStage,
  builderContainerArgs,
  containerName,
  prepareBuilderFolders,
  removeOrphanContainers,
  runBuilderCommand,
  type WarmBuilder,
  WORKSPACE_MOUNT,
} from './container.js';
import { DockerClient } from './docker.js';
import { type BuilderImage, ensureBuilderImage } from './image.js';
import { builderRecipe } from './recipe.js';

/*
 * sweep-runtime watch's builder: a long-lived builder container per setup, kept for the life of
 * the watch process, in which every command of a build (cargo build, cargo tree) is run with
 * `docker exec`. An edit then pays for neither a container's start nor its teardown (0.7-0.9 s
 * here), only for cargo.
 *
 * - It is started with exactly the `docker run` options of a build's container
 *   (builderContainerArgs: mounts, user, no capabilities, no-new-privileges, labels naming its
 *   owner host:pid:start and its artifacts), from the builder image's ID, with `sleep infinity`
 *   as its only process. The variables and the user set at `docker run` apply to what is exec'd.
 * - A setup is what those options depend on: the docker client, the image ID, the workspace, the
 *   cache folders and the build variables. A batch of another setup (another target triple, so
 *   another image; other build variables) gets a container of its own (at most MAX_CONTAINERS,
 *   the least recently used removed first). Publishing builds (remote mode read-write) never use
 *   one: they get a fresh container and a fresh CARGO_HOME each time, as their trust domain asks.
 * - CARGO_HOME is the container's tmpfs, so with a warm container it lives as long as the watch
 *   (extracted registry sources are then extracted once per watch, not once per build). What a
 *   build script writes there can reach the later builds of the same watch, as anything it writes
 *   in the cargo target folder always could (same trust domain, see README: Security and trust);
 *   the files of CARGO_HOME that change how cargo builds (config, config.toml) and bin/ are
 *   removed before every command, and all of it goes with the container when the watch ends.
 * - Cancelling a command removes its container: killing `docker exec` does not stop the process
 *   it started in the container. The next command starts another container.
 * - A container that is gone (removed by hand, the engine restarted) is noticed when a command
 *   fails, and the command runs again once in a new one.
 * - close() removes every container (Ctrl-C, SIGTERM); closeSync() is for a process that is
 *   exiting. A watch killed with SIGKILL leaves its idle container behind, labelled with its dead
 *   pid: the next build of one of its artifacts removes it, as any orphan (container.ts).
 */
export const MAX_CONTAINERS = 4;

/** Run before every exec'd command: what a build script may have left in CARGO_HOME to steer cargo. */
const RESET_CARGO_HOME = 'rm -rf "$CARGO_HOME/config" "$CARGO_HOME/config.toml" "$CARGO_HOME/bin"';

interface Kept {
  readonly name: string;
  readonly docker: DockerClient;
  /** The artifacts its labels name: a build of another artifact needs a container that names it too. */
  readonly artifactKeys: ReadonlySet<string>;
  readonly started: Promise<void>;
  lastUsed: number;
}

/** An artifact to prepare a container for: its options, name and key (ArtifactPaths.key). */
export interface WarmTarget {
  readonly options: ResolvedArtifactOptions;
  readonly name: string;
  readonly artifactKey: string;
}

export class WarmBuilderContainers implements WarmBuilder {
  /** By setup key. */
  private readonly kept = new Map<string, Kept>();
  /** Every container started and not yet removed, kept or not (one whose start was cancelled may exist). */
  private readonly started = new Map<string, DockerClient>();
  /** Builder images already made or found, by docker client, tag and pull policy. */
  private readonly images = new Map<string, Promise<BuilderImage>>();
  private uses = 0;
  private closed = false;

  /** The names of the containers it keeps now. */
  get containerNames(): string[] {
    return [...this.kept.values()].map((kept) => kept.name);
  }

  /**
   * The builder image, asked of Docker once per image for the watch's life: its containers run
   * that image's ID anyway, so a later build cannot see another. (With the pull policy `always`
   * the toolchain image is therefore pulled once per watch, not once per build.)
   */
  builderImage(docker: DockerClient, options: ResolvedArtifactOptions, reporter: Reporter, signal?: AbortSignal): Promise<BuilderImage> {
    const key = canonicalJson({ docker: docker.command, tag: builderRecipe(options).tag, pullPolicy: options.pullPolicy });
    const known = this.images.get(key);
    if (known) {
      return known.then((image) => {
        reporter.line(`builder-image: reusing ${image.tag}`);
        return image;
      });
    }
    const made = (async () => {
      await docker.ensureEngine();
      return ensureBuilderImage(docker, options, reporter, signal);
    })();
    this.images.set(key, made);
    made.catch(() => this.images.delete(key));
    return made;
  }

  serves(container: BuilderContainer): boolean {
    return !this.closed && container.cache.domain === 'local';
  }

  async run(container: BuilderContainer, stage: BuilderStage, command: readonly string[], capture: boolean): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const { kept, fresh } = await this.containerFor(container);
      // A fresh container was started right after this same look for orphans.
      if (!fresh) await removeOrphanContainers(container);
      prepareBuilderFolders(container);
      const args = ['exec', '-w', WORKSPACE_MOUNT, kept.name, 'sh', '-c', `${RESET_CARGO_HOME} && exec "$@"`, 'sweep-builder', ...command];
      try {
        return await runBuilderCommand(container, stage, args, capture, () => this.discard(kept));
      } catch (error) {
        if (attempt > 1 || container.signal?.aborted || (await isRunning(container.docker, kept.name))) throw error;
        this.forget(kept);
        this.started.delete(kept.name);
        container.reporter.line(`builder: the warm container ${kept.name} is gone; starting another`);
      }
    }
  }

  /**
   * Starts the containers these artifacts' builds will use (their builder images made first, as
   * a build makes them), so that the first edit does not pay for a start either. Each container
   * is labelled with every artifact of its setup.
   */
  async prepare(targets: readonly WarmTarget[], reporterFor: (prefix: string) => Reporter, signal?: AbortSignal): Promise<void> {
    const groups = new Map<string, WarmTarget[]>();
    for (const target of targets) {
      const { options } = target;
      const key = canonicalJson({
        docker: options.dockerCommand,
        workspace: options.workspace,
        cache: cachePaths(options),
        toolchain: options.toolchainImage,
        architecture: options.architecture,
        repository: options.builderRepository,
        pullPolicy: options.pullPolicy,
        env: options.buildEnv,
      });
      groups.set(key, [...(groups.get(key) ?? []), target]);
    }
    for (const group of groups.values()) {
      const { options } = group[0]!;
      const cache = cachePaths(options);
      if (cache.domain !== 'local') continue;
      const reporter = reporterFor(group.map((target) => target.name).join(', '));
      const docker = new DockerClient(options.dockerCommand);
      const image = await this.builderImage(docker, options, reporter, signal);
      const artifactKeys = group.map((target) => target.artifactKey);
      await this.containerFor({ docker, image: image.tag, imageId: image.id, options, cache, artifactKeys, reporter, signal, warm: this });
    }
  }

  /** Removes every container it started; later commands get fresh containers. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.kept.values()].map((kept) => kept.started.catch(() => undefined));
    this.kept.clear();
    await Promise.all(pending);
    await Promise.all([...this.started].map(([name, docker]) => this.remove(name, docker)));
  }

  /** close() for a process that is exiting now (no event loop left to wait on). */
  closeSync(): void {
    this.closed = true;
    this.kept.clear();
    const byClient = new Map<string, string[]>();
    for (const [name, docker] of this.started) byClient.set(docker.command, [...(byClient.get(docker.command) ?? []), name]);
    this.started.clear();
    for (const [command, names] of byClient) execaSync(command, ['rm', '-f', ...names], { reject: false, stdio: 'ignore' });
  }

  /** The container of this setup, started if there is none (or none whose labels name these artifacts). */
  private async containerFor(container: BuilderContainer): Promise<{ kept: Kept; fresh: boolean }> {
    const key = setupKey(container);
    let kept = this.kept.get(key);
    let fresh = false;
    if (kept && !container.artifactKeys.every((artifact) => kept!.artifactKeys.has(artifact))) {
      // Its labels must name every artifact it builds, or a build of that artifact by another
      // process would not find it as an orphan: a container for the union replaces it.
      const union = new Set([...kept.artifactKeys, ...container.artifactKeys]);
      this.discard(kept);
      kept = this.startKept(key, container, union);
      fresh = true;
    } else if (!kept) {
      kept = this.startKept(key, container, new Set(container.artifactKeys));
      fresh = true;
    }
    kept.lastUsed = ++this.uses;
    try {
      await kept.started;
    } catch (error) {
      this.forget(kept);
      throw error;
    }
    return { kept, fresh };
  }

  private startKept(key: string, container: BuilderContainer, artifactKeys: ReadonlySet<string>): Kept {
    const name = containerName('warm', { artifactKeys: [...artifactKeys] });
    const kept: Kept = {
      name,
      docker: container.docker,
      artifactKeys,
      started: this.start(container, name, [...artifactKeys]),
      lastUsed: 0,
    };
    this.kept.set(key, kept);
    while (this.kept.size > MAX_CONTAINERS) this.discard([...this.kept.values()].sort((a, b) => a.lastUsed - b.lastUsed)[0]!);
    return kept;
  }

  private async start(container: BuilderContainer, name: string, artifactKeys: readonly string[]): Promise<void> {
    await removeOrphanContainers({ ...container, artifactKeys });
    const cargoHome = prepareBuilderFolders(container);
    const args = [
      'run',
      '-d',
      ...builderContainerArgs(container, { name, cargoHome, artifactKeys, warm: true }),
      container.imageId ?? container.image,
      'sh',
      '-c',
      `${cargoHome.setup} && exec sleep infinity`,
    ];
    this.started.set(name, container.docker);
    await runBuilderCommand(container, 'compile', args, true, () => undefined);
    container.reporter.line(`builder: started the warm container ${name} (kept while watch runs; each build is a docker exec in it)`);
  }

  /** Removes a kept container (its command cancelled, or replaced, or evicted), once its start has ended. */
  private discard(kept: Kept): void {
    this.forget(kept);
    void kept.started.catch(() => undefined).then(() => this.remove(kept.name, kept.docker));
  }

  private async remove(name: string, docker: DockerClient): Promise<void> {
    await docker.capture('compile', ['rm', '-f', name]).catch(() => undefined);
    this.started.delete(name);
  }

  private forget(kept: Kept): void {
    for (const [key, value] of this.kept) if (value === kept) this.kept.delete(key);
  }
}

/** What a kept container's `docker run` options depend on: commands of another setup need another container. */
function setupKey(container: BuilderContainer): string {
  return canonicalJson({
    docker: container.docker.command,
    image: container.imageId ?? container.image,
    workspace: container.options.workspace,
    cache: container.cache,
    env: container.options.buildEnv,
  });
}

async function isRunning(docker: DockerClient, name: string): Promise<boolean> {
  const state = await docker.capture('compile', ['inspect', '--format', '{{.State.Running}}', name]).catch(() => 'false');
  return state.trim() === 'true';
}
