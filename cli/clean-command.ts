import * as fs from 'node:fs';
import * as path from 'node:path';
import { artifactPaths, displayPath } from '../build/artifact-paths.js';
import { BuildLock, describeOwner } from '../build/build-lock.js';
import { BUILDER_REPOSITORY } from '../build/builder-recipe.js';
import { readCargoWorkspace, selectPackage } from '../build/cargo-workspace.js';
import { DockerClient } from '../build/docker-client.js';
import { describeError } from '../build/errors.js';
import { createReporter, formatBytes } from '../build/reporter.js';
import type { CliFlags, CliOptions } from './cli-options.js';

/**
 * `sweep-runtime clean [--all]`: removes the artifact's zip and metadata (the next run is a
 * cache miss); with --all also the cargo caches, the hash index and the builder images, and says
 * how much space that freed. It takes the build lock first, so it never pulls files from under a
 * running build.
 */
export async function cleanCommand({ artifact }: CliOptions, flags: CliFlags): Promise<number> {
  const pkg = artifact.name ?? selectPackage(readCargoWorkspace(artifact.workspace), artifact.package, artifact.binary).name;
  const paths = artifactPaths(artifact, pkg);
  const reporter = createReporter(pkg);
  const lock = await BuildLock.acquire(paths.lock, {
    onWait: (owner) => reporter.line(`waiting for the build by ${describeOwner(owner)} to finish`),
  });
  let freed = 0;
  let failed = false;
  try {
    const targets = [paths.zip, paths.metadata, paths.hashIndex];
    if (flags.all) targets.push(paths.cargoTarget, paths.cargoHome, path.dirname(paths.hashIndex));
    for (const target of targets) {
      const size = diskUsage(target);
      if (size === undefined) continue;
      fs.rmSync(target, { recursive: true, force: true });
      freed += size;
      reporter.line(`removed ${displayPath(artifact.projectRoot, target)} (${formatBytes(size)})`);
    }
    if (flags.all) {
      try {
        freed += await removeBuilderImages(new DockerClient(artifact.dockerCommand), reporter.line);
      } catch (error) {
        failed = true;
        reporter.line(`builder images not removed: ${describeError(error)}`);
      }
    }
  } finally {
    lock.release();
  }
  reporter.line(`freed ${formatBytes(freed)}`);
  return failed ? 1 : 0;
}

async function removeBuilderImages(docker: DockerClient, say: (line: string) => void): Promise<number> {
  await docker.ensureEngine();
  const tags = (await docker.capture('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', BUILDER_REPOSITORY]))
    .split('\n')
    .map((t) => t.trim())
    .filter((t) => t !== '' && !t.endsWith(':<none>'));
  let freed = 0;
  for (const tag of tags) {
    const size = Number(await docker.capture('docker', ['image', 'inspect', '--format', '{{.Size}}', tag]));
    await docker.capture('docker', ['rmi', tag]);
    freed += Number.isFinite(size) ? size : 0;
    say(`removed image ${tag} (${formatBytes(size)}, shares layers with its toolchain image)`);
  }
  if (tags.length === 0) say('no builder images to remove');
  return freed;
}

/** Bytes under a file or folder (not following symlinks), or undefined when it does not exist. */
function diskUsage(target: string): number | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(target);
  } catch {
    return undefined;
  }
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of fs.readdirSync(target)) total += diskUsage(path.join(target, entry)) ?? 0;
  return total;
}
