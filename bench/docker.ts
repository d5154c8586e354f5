import { randomBytes } from 'node:crypto';
import { execa, execaSync } from 'execa';

/**
 * The few Docker calls the benchmark makes itself (the engine makes its own): facts for the
 * report, fresh toolchain images for the cold scenario, and removing what this run created.
 *
 * The benchmark never removes an image it did not create: the engine runs with a builder
 * repository of its own (BENCH_BUILDER_REPOSITORY), and every tag this run made is recorded
 * here and removed at the end (or on Ctrl-C).
 */
export const DOCKER = process.env.SWEEP_DOCKER?.trim() || 'docker';
/** The engine's builder image repository for every benchmark build (SWEEP_BUILDER_REPOSITORY). */
export const BENCH_BUILDER_REPOSITORY = 'sweep-bench-builder';
/** Where the cold scenario's one-off toolchain images are tagged. */
export const BENCH_TOOLCHAIN_REPOSITORY = 'sweep-bench/toolchain';

const createdTags = new Set<string>();

/** Records a tag this run made (or may have made), to be removed by `removeCreatedImages`. */
export function recordCreatedTag(tag: string): void {
  createdTags.add(tag);
}

export async function dockerServerVersion(): Promise<string> {
  const { stdout } = await execa(DOCKER, ['version', '--format', '{{.Server.Version}}'], { timeout: 30_000 });
  return stdout.trim();
}

export async function imageId(reference: string): Promise<string | undefined> {
  const result = await execa(DOCKER, ['image', 'inspect', '--format', '{{.Id}}', reference], { reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** Tags of a repository (`repo:tag` each). */
export async function repositoryTags(repository: string): Promise<string[]> {
  const result = await execa(DOCKER, ['images', repository, '--format', '{{.Repository}}:{{.Tag}}'], { reject: false });
  return result.exitCode === 0 ? result.stdout.split('\n').filter((line) => line && !line.endsWith(':<none>')) : [];
}

/** `rustc --version` in a throwaway container of the toolchain image. */
export async function toolchainVersion(image: string): Promise<string> {
  const { stdout } = await execa(DOCKER, ['run', '--rm', image, 'rustc', '--version'], { timeout: 120_000 });
  return stdout.trim();
}

/**
 * A toolchain image with an ID of its own: `FROM base` plus a random label. Docker's layer cache
 * is keyed by the parent image's ID, so a builder image built on it cannot reuse a layer of any
 * other builder image (another repository's, or an earlier iteration's): its build is really cold.
 * Takes about a second (one metadata-only layer).
 */
export async function buildFreshToolchain(tag: string, base: string): Promise<void> {
  recordCreatedTag(tag);
  const dockerfile = `FROM ${base}\nLABEL sweep.bench=${randomBytes(8).toString('hex')}\n`;
  await execa(DOCKER, ['build', '-q', '-t', tag, '-'], { input: dockerfile, timeout: 120_000 });
}

/**
 * Removes a tag (and, when it was the image's last tag, the image and its now unused layers).
 * Docker refuses while a container uses the image: then it waits and tries again, and fails
 * after `attempts`.
 */
export async function removeImageTag(reference: string, attempts = 10): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    if ((await imageId(reference)) === undefined) {
      createdTags.delete(reference);
      return false;
    }
    const result = await execa(DOCKER, ['rmi', reference], { reject: false, all: true });
    if (result.exitCode === 0) {
      createdTags.delete(reference);
      return true;
    }
    if (attempt >= attempts) throw new Error(`docker rmi ${reference} failed ${attempts} times: ${String(result.all).trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

/** Removes every tag this run recorded (most recent first: builder images before their toolchain). */
export async function removeCreatedImages(): Promise<string[]> {
  const removed: string[] = [];
  for (const tag of [...createdTags].reverse()) {
    if (await removeImageTag(tag, 3).catch(() => false)) removed.push(tag);
  }
  return removed;
}

/** The same, synchronously, for a signal handler. */
export function removeCreatedImagesSync(): void {
  for (const tag of [...createdTags].reverse()) execaSync(DOCKER, ['rmi', tag], { reject: false });
  createdTags.clear();
}

/** Removes a container if it exists (a baseline run interrupted midway). */
export async function removeContainer(name: string): Promise<void> {
  await execa(DOCKER, ['rm', '-f', name], { reject: false });
}
