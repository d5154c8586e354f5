import * as fs from 'node:fs';
import { DockerClient } from '../builder/docker.js';
import { readCargoWorkspace, selectPackage } from '../cargo/workspace.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import { describeError } from '../support/errors.js';
import { createReporter, formatBytes, type Reporter } from '../support/reporter.js';
import { BuildLock, describeOwner } from './lock.js';
import { artifactPaths, displayPath, engineCacheFolders } from './paths.js';

/*
 * Removes what the engine made: each artifact's zip, metadata and file-hash index (the next run
 * is a cache miss); with `all`, also everything the engine keeps in the cache folders (cargo target
 * folders, cargo downloads, feature and hash caches, in both trust domains) and the builder images
 * of the repository, and says how much space that freed. It takes the build locks first, so it
 * never pulls files from under a running build.
 */
export interface CleanRequest {
  readonly artifacts: readonly ResolvedArtifactOptions[];
  readonly all: boolean;
  readonly projectRoot: string;
}

/** Cleans; resolves to false when something could not be removed (said in a line). */
export async function cleanArtifacts({ artifacts: list, all, projectRoot }: CleanRequest): Promise<boolean> {
  const artifacts = list.map((artifact) => {
    const name = artifact.name ?? selectPackage(readCargoWorkspace(artifact.workspace), artifact.package, artifact.binary).name;
    return { artifact, paths: artifactPaths(artifact, name), reporter: createReporter(name) };
  });
  const summary = createReporter('clean');
  const locks: BuildLock[] = [];
  let freed = 0;
  let failed = false;
  const remove = (target: string, reporter: Reporter) => {
    const size = diskUsage(target);
    if (size === undefined) return;
    fs.rmSync(target, { recursive: true, force: true });
    freed += size;
    reporter.line(`removed ${displayPath(projectRoot, target)} (${formatBytes(size)})`);
  };
  try {
    for (const { paths, reporter } of [...artifacts].sort((a, b) => (a.paths.lock < b.paths.lock ? -1 : 1))) {
      locks.push(
        await BuildLock.acquire(paths.lock, {
          onWait: (owner) => reporter.line(`waiting for the build by ${describeOwner(owner)} to finish`),
        }),
      );
    }
    for (const { paths, reporter } of artifacts) for (const file of [paths.zip, paths.metadata, paths.hashIndex]) remove(file, reporter);
    if (all) {
      for (const cacheDir of new Set(artifacts.map((a) => a.artifact.cacheDir))) {
        for (const folder of engineCacheFolders(cacheDir)) remove(folder, summary);
      }
      for (const [command, repository] of new Set(
        artifacts.map((a) => [a.artifact.dockerCommand, a.artifact.builderRepository] as const),
      )) {
        try {
          freed += await removeBuilderImages(new DockerClient(command), repository, summary);
        } catch (error) {
          failed = true;
          summary.line(`builder images not removed: ${describeError(error)}`);
        }
      }
    }
  } finally {
    for (const lock of locks) lock.release();
  }
  summary.line(`freed ${formatBytes(freed)}`);
  return !failed;
}

async function removeBuilderImages(docker: DockerClient, repository: string, reporter: Reporter): Promise<number> {
  await docker.ensureEngine();
  const tags = (await docker.capture('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', repository]))
    .split('\n')
    .map((t) => t.trim())
    .filter((t) => t !== '' && !t.endsWith(':<none>'));
  let freed = 0;
  for (const tag of tags) {
    const size = Number(await docker.capture('docker', ['image', 'inspect', '--format', '{{.Size}}', tag]));
    await docker.capture('docker', ['rmi', tag]);
    freed += Number.isFinite(size) ? size : 0;
    reporter.line(`removed image ${tag} (${formatBytes(size)}, shares layers with its toolchain image)`);
  }
  if (tags.length === 0) reporter.line(`no builder images (${repository}:*) to remove`);
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
  for (const entry of fs.readdirSync(target)) total += diskUsage(`${target}/${entry}`) ?? 0;
  return total;
}
