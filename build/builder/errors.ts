import { lastLines, SweepError } from '../support/errors.js';

/*
 * The builder room's messages: the docker client and engine, the toolchain and builder images, and cargo
 * in the builder container.
 */

export function dockerCommandNotFound(command: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'docker',
    problem: `the docker command "${command}" was not found`,
    fix: 'install Docker (https://docs.docker.com/engine/install/), or set SWEEP_DOCKER to the path of a docker-compatible client',
    cause,
  });
}

export function dockerCommandNotExecutable(command: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'docker',
    problem: `the docker command "${command}" cannot be run (permission denied: not executable, or a folder)`,
    fix: `make it executable (\`chmod +x ${command}\`), or set SWEEP_DOCKER to a docker-compatible client you can run`,
    cause,
  });
}

export function dockerEngineNotAnswering(command: string, output: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'docker',
    problem: `no Docker engine answers "${command} version"`,
    fix: 'start the Docker engine (Docker Desktop, `sudo systemctl start docker`, or `sudo dockerd &`) and run again',
    details: lastLines(output, 5),
    cause,
  });
}

export function toolchainImageAbsent(image: string, policySource: string): SweepError {
  return new SweepError({
    stage: 'builder-image',
    problem: `the toolchain image ${image} is not present locally, and the pull policy "never" (from ${policySource}) forbids pulling it`,
    fix: `run \`docker pull ${image}\` (or \`npm run toolchain:local\` where no registry is reachable), or use the pull policy if-missing`,
  });
}

export function toolchainPullFailed(
  image: string,
  policy: string,
  policySource: string,
  error: { output: string; cancelled: boolean },
): SweepError {
  return new SweepError({
    stage: 'builder-image',
    problem: error.cancelled
      ? `pulling ${image} was cancelled`
      : `could not pull the toolchain image ${image} (pull policy ${policy}, from ${policySource})`,
    fix: `check that ${image} exists and its registry is reachable; without a registry run \`npm run toolchain:local\` and use the pull policy if-missing (SWEEP_DOCKER_PULL_POLICY=if-missing)`,
    details: lastLines(error.output, 15),
    cause: error,
  });
}

export function builderImageBuildFailed(
  tag: string,
  recipe: string,
  error: { output: string; cancelled: boolean; exitCode: number | undefined },
): SweepError {
  return new SweepError({
    stage: 'builder-image',
    problem: error.cancelled
      ? `building the builder image ${tag} was cancelled`
      : `docker build of the builder image ${tag} failed (exit code ${error.exitCode ?? 'unknown'})`,
    fix: `read the output below; the recipe is ${recipe}`,
    details: lastLines(error.output, 25),
    cause: error,
  });
}

export function builderImageMissingAfterBuild(tag: string): SweepError {
  return new SweepError({
    stage: 'builder-image',
    problem: `docker build reported success but ${tag} is not present`,
    fix: 'check the Docker engine (`docker images`), then run again',
  });
}

export function compileInterrupted(cause: unknown): SweepError {
  return new SweepError({
    stage: 'compile',
    problem: 'the build was interrupted',
    fix: 'run again; the previous zip and metadata are unchanged',
    cause,
  });
}

/** What to do about a failed cargo run, from its output: a stale or newer lock file, no network, or the code. */
function cargoFix(output: string): string {
  const lockStale = /lock file .* needs to be updated but --locked was passed|cannot update the lock file/i.test(output);
  const lockVersion = /lock file version .* (was found|requires)|failed to parse lock file/i.test(output);
  const offline = /failed to (download|get|fetch|load source)|Couldn't resolve host|network failure|failed to query replaced source/i.test(
    output,
  );
  return lockStale
    ? "Cargo.lock is out of date: run `cargo update -w` (with the toolchain image's cargo) and commit Cargo.lock"
    : lockVersion
      ? "Cargo.lock was written by a newer cargo than the toolchain image's: regenerate it with the image's cargo (see README, Troubleshooting)"
      : offline
        ? 'cargo could not download a dependency: check the network or the registry settings in .cargo/config.toml'
        : 'fix the errors cargo printed above; the previous zip and metadata are unchanged';
}

/**
 * cargo did not build these functions' binaries (it built the others of the run: --keep-going).
 * Its messages were streamed as they came, so they are not repeated here: under cdktf every line
 * the app prints is shown again in the CLI's summary.
 */
export function cargoCouldNotBuild(names: readonly string[], failure: SweepError | undefined): SweepError {
  const cause = failure?.cause as { exitCode?: number; output?: string } | undefined;
  return new SweepError({
    stage: 'compile',
    problem: `cargo could not build ${names.join(', ')} (exit code ${cause?.exitCode ?? 'unknown'}); its messages are above`,
    fix: cargoFix(cause?.output ?? ''),
    cause: failure,
  });
}

export function cargoBuildFailed(exitCode: number | undefined, output: string, cause: unknown): SweepError {
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
    problem: `cargo failed in the builder container (exit code ${exitCode ?? 'unknown'})`,
    fix,
    details: lastLines(output, 30),
    cause,
  });
}

export function builderContainerNotStarted(image: string, output: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'compile',
    problem: `docker could not start a build container from ${image} (exit code 125)`,
    fix: "read docker's message below; check the Docker engine and that the workspace and cache folders exist",
    details: lastLines(output, 10),
    cause,
  });
}

export function cargoProducedNoBinary(file: string, packageName: string, binary: string, profile: string): SweepError {
  return new SweepError({
    stage: 'compile',
    problem: `cargo finished but produced no binary at ${file}`,
    fix: `check that package "${packageName}" builds a binary named "${binary}" for profile "${profile}"`,
  });
}
