import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ArtifactPaths } from './artifact-paths.js';
import { type DockerClient, DockerCommandError } from './docker-client.js';
import { lastLines, SweepError } from './errors.js';
import type { ResolvedArtifactOptions } from './options.js';
import type { Reporter } from './reporter.js';

/**
 * Compiles the binary with `cargo build --locked` in the builder container.
 *
 * - The workspace is mounted read-only, always at /work: cargo's own fingerprints include
 *   absolute paths, so the same mount point lets an unchanged crate stay compiled.
 * - The target folder and CARGO_HOME are bind mounts of the host cache folder, so they persist
 *   between runs: dependencies build once, an edit recompiles only what it touches.
 * - The container runs as the calling user, so what it writes on the host belongs to the user,
 *   with HOME in a folder that user can write.
 * - The container is named, so an interrupted build can remove it instead of leaving it running.
 */
export const WORKSPACE_MOUNT = '/work';
const TARGET_MOUNT = '/cache/target';
const CARGO_HOME_MOUNT = '/cache/cargo-home';

export interface CompileRequest {
  readonly docker: DockerClient;
  readonly image: string;
  readonly options: ResolvedArtifactOptions;
  readonly packageName: string;
  readonly paths: ArtifactPaths;
  readonly containerName: string;
  readonly reporter: Reporter;
  readonly signal?: AbortSignal;
}

export async function compileInContainer(request: CompileRequest): Promise<string> {
  const { docker, options, paths } = request;
  fs.mkdirSync(paths.cargoTarget, { recursive: true });
  fs.mkdirSync(paths.cargoHome, { recursive: true });

  const cargo = cargoBuildArgs(options, request.packageName);
  const args = [
    'run',
    '--rm',
    '--name',
    request.containerName,
    ...userArgs(),
    '-v',
    `${options.workspace}:${WORKSPACE_MOUNT}:ro`,
    '-v',
    `${paths.cargoTarget}:${TARGET_MOUNT}`,
    '-v',
    `${paths.cargoHome}:${CARGO_HOME_MOUNT}`,
    '-e',
    `CARGO_TARGET_DIR=${TARGET_MOUNT}`,
    '-e',
    `CARGO_HOME=${CARGO_HOME_MOUNT}`,
    '-e',
    'HOME=/tmp',
    ...Object.keys(options.buildEnv).flatMap((name) => ['-e', `${name}=${options.buildEnv[name]}`]),
    '-w',
    WORKSPACE_MOUNT,
    request.image,
    ...cargo,
  ];
  request.reporter.line(`compile: ${cargo.join(' ')}`);
  const onAbort = () => void docker.capture('compile', ['rm', '-f', request.containerName]).catch(() => undefined);
  request.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await docker.stream('compile', args, request.reporter.stream('compile'), request.signal);
  } catch (error) {
    if (!(error instanceof DockerCommandError)) throw error;
    throw compileError(error);
  } finally {
    request.signal?.removeEventListener('abort', onAbort);
  }

  const binary = builtBinaryPath(paths.cargoTarget, options);
  if (!fs.existsSync(binary)) {
    throw new SweepError({
      stage: 'compile',
      problem: `cargo finished but produced no binary at ${binary}`,
      fix: `check that package "${request.packageName}" builds a binary named "${options.binary}" for profile "${options.profile}"`,
    });
  }
  return binary;
}

export function cargoBuildArgs(options: ResolvedArtifactOptions, packageName: string): string[] {
  const args = ['cargo', 'build', '--locked', '--profile', options.profile, '--target', options.targetTriple];
  args.push('--package', packageName, '--bin', options.binary);
  if (options.features.length > 0) args.push('--features', options.features.join(','));
  return args;
}

/** Cargo's output folder for a profile: `dev` and `test` build into `debug`, the rest into their own name. */
export function builtBinaryPath(targetDir: string, options: Pick<ResolvedArtifactOptions, 'targetTriple' | 'profile' | 'binary'>): string {
  const folder =
    options.profile === 'dev' || options.profile === 'test' ? 'debug' : options.profile === 'bench' ? 'release' : options.profile;
  return path.join(targetDir, options.targetTriple, folder, options.binary);
}

function userArgs(): string[] {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  return uid === undefined || gid === undefined ? [] : ['--user', `${uid}:${gid}`];
}

function compileError(error: DockerCommandError): SweepError {
  if (error.cancelled) {
    return new SweepError({
      stage: 'compile',
      problem: 'the build was interrupted',
      fix: 'run again; the previous zip and metadata are unchanged',
      cause: error,
    });
  }
  const output = error.output;
  const lockStale = /lock file .* needs to be updated but --locked was passed|cannot update the lock file/i.test(output);
  const lockVersion = /lock file version .* (was found|requires)|failed to parse lock file/i.test(output);
  const offline = /failed to (download|get|fetch|load source)|Couldn't resolve host|network failure|failed to query replaced source/i.test(
    output,
  );
  const fix = lockStale
    ? "Cargo.lock is out of date: run `cargo update -w` (with the toolchain image's cargo) and commit Cargo.lock"
    : lockVersion
      ? "Cargo.lock was written by a newer cargo than the toolchain image's: regenerate it with the image's cargo (see README, Troubleshooting)"
      : offline
        ? 'cargo could not download a dependency: check the network or the registry settings in .cargo/config.toml'
        : 'fix the error shown below; the previous zip and metadata are unchanged';
  return new SweepError({
    stage: 'compile',
    problem: `cargo build failed in the builder container (exit code ${error.exitCode ?? 'unknown'})`,
    fix,
    details: lastLines(output, 30),
    cause: error,
  });
}
