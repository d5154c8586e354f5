import { execa } from 'execa';

/**
 * The few Docker calls the benchmark makes itself (the engine makes its own): facts for the
 * report, and removing the builder image for the cold scenario.
 */
export const DOCKER = process.env.SWEEP_DOCKER?.trim() || 'docker';

export async function dockerServerVersion(): Promise<string> {
  const { stdout } = await execa(DOCKER, ['version', '--format', '{{.Server.Version}}'], { timeout: 30_000 });
  return stdout.trim();
}

export async function imageId(reference: string): Promise<string | undefined> {
  const result = await execa(DOCKER, ['image', 'inspect', '--format', '{{.Id}}', reference], { reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** `rustc --version` in a throwaway container of the toolchain image. */
export async function toolchainVersion(image: string): Promise<string> {
  const { stdout } = await execa(DOCKER, ['run', '--rm', image, 'rustc', '--version'], { timeout: 120_000 });
  return stdout.trim();
}

/**
 * Removes a tag (and, when it was the image's last tag, the image and its now unused layers).
 * Docker refuses while a container uses the image (another engineer's build may be running):
 * then it waits and tries again, and fails after `attempts`.
 */
export async function removeImageTag(reference: string, attempts = 10): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    if ((await imageId(reference)) === undefined) return false;
    const result = await execa(DOCKER, ['rmi', reference], { reject: false, all: true });
    if (result.exitCode === 0) return true;
    if (attempt >= attempts) throw new Error(`docker rmi ${reference} failed ${attempts} times: ${String(result.all).trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

/** Removes a container if it exists (a baseline run interrupted midway). */
export async function removeContainer(name: string): Promise<void> {
  await execa(DOCKER, ['rm', '-f', name], { reject: false });
}
