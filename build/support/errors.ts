import * as path from 'node:path';
import { type ArtifactOptions, CONTEXT_KEY, type OptionsOrigin, optionHint } from '../options/options.js';
import { printable } from './printable.js';
import { SAFE_NAME_RULE } from './safe-name.js';

/*
 * Every failure the engine reports to a user is a `SweepError`: it names the stage that failed,
 * says what happened, and says what to do about it. The first line is short enough for a
 * terminal; `details` (for example the last lines of cargo's output) follows underneath.
 *
 * Errors are made by the factories below, in one place, so the wording stays consistent and the
 * tests can assert whole messages.
 */
export type Stage =
  | 'config'
  | 'workspace'
  | 'fingerprint'
  | 'inputs'
  | 'lock'
  | 'docker'
  | 'builder-image'
  | 'compile'
  | 'package'
  | 'verify'
  | 'metadata'
  | 'remote-cache'
  | 'engine'
  | 'invoke';

export interface SweepErrorInit {
  readonly stage: Stage;
  /** What went wrong, one sentence. */
  readonly problem: string;
  /** What the user can do about it, one sentence or a command. */
  readonly fix: string;
  /** Output that helps diagnose the failure, shown under the message (e.g. cargo's last lines). */
  readonly details?: string;
  readonly cause?: unknown;
}

export class SweepError extends Error {
  readonly stage: Stage;
  readonly problem: string;
  readonly fix: string;
  readonly details?: string;

  constructor(init: SweepErrorInit) {
    super(`${init.stage}: ${init.problem}`, { cause: init.cause });
    this.name = 'SweepError';
    this.stage = init.stage;
    this.problem = init.problem;
    this.fix = init.fix;
    this.details = init.details;
  }

  /** The one-screen text shown to users: problem, fix, then any details. */
  describe(): string {
    const lines = [`error (${this.stage}): ${this.problem}`, `  fix: ${this.fix}`];
    if (this.details) lines.push('', indent(this.details.trimEnd()));
    return lines.join('\n');
  }
}

export function isSweepError(error: unknown): error is SweepError {
  return error instanceof SweepError;
}

/** Text for any error: a SweepError's own description, or the message of anything else. */
export function describeError(error: unknown): string {
  if (isSweepError(error)) return error.describe();
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  | ${line}`)
    .join('\n');
}

/** Keeps the last `count` lines of a process's output, for error details. */
export function lastLines(text: string, count: number): string {
  const lines = text.trimEnd().split('\n');
  const kept = lines.slice(-count);
  const omitted = lines.length - kept.length;
  return (omitted > 0 ? [`... (${omitted} earlier lines omitted)`, ...kept] : kept).join('\n');
}

/** One problem found in a configuration object (a cdktf.json key, a prop or an env variable). */
export interface ConfigIssue {
  /** Dotted key, e.g. `context.sweep.architecture` or `SWEEP_DOCKER_PULL_POLICY`. */
  readonly key: string;
  readonly got: unknown;
  /** What is accepted, e.g. `one of "x86_64", "arm64"`. */
  readonly expected: string;
}

export function invalidConfig(source: string, issues: readonly ConfigIssue[], fix?: string): SweepError {
  const shown = issues.slice(0, 8);
  const lines = shown.map((i) => `${i.key}: got ${showValue(i.got)}; expected ${i.expected}`);
  if (issues.length > shown.length) lines.push(`and ${issues.length - shown.length} more`);
  return new SweepError({
    stage: 'config',
    problem: `invalid ${source}:\n  ${lines.join('\n  ')}`,
    fix: fix ?? `correct the ${issues.length === 1 ? 'value' : 'values'} above in ${source}`,
  });
}

function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

// ---------------------------------------------------------------------------------------------
// config: what the options name
// ---------------------------------------------------------------------------------------------

function describeOrigin(origin: OptionsOrigin): string {
  if (origin.kind === 'props') return `the ${origin.label}`;
  return `cdktf.json context ${CONTEXT_KEY}${origin.function !== undefined ? `.functions.${origin.function}` : ''}`;
}

export function unsafeArtifactName(name: string, origin: OptionsOrigin): SweepError {
  return new SweepError({
    stage: 'config',
    problem: `the artifact name ${JSON.stringify(name)} (from ${describeOrigin(origin)}, or its package's name) cannot be a file name in dist/`,
    fix: `set ${optionHint(origin, 'name')} to ${SAFE_NAME_RULE}`,
  });
}

export function conflictingArtifacts(zip: string, first: OptionsOrigin, second: OptionsOrigin): SweepError {
  const where =
    describeOrigin(first) === describeOrigin(second) ? describeOrigin(first) : `${describeOrigin(first)} and ${describeOrigin(second)}`;
  return new SweepError({
    stage: 'config',
    problem: `two artifacts in this app write ${zip} with different settings (${where})`,
    fix: `give each its own ${optionHint(second, 'name')}`,
  });
}

// ---------------------------------------------------------------------------------------------
// workspace: what the Cargo manifests say
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// docker: the client and the engine
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// builder-image: the toolchain image and the builder recipe
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// compile: cargo in the builder container
// ---------------------------------------------------------------------------------------------

export function compileInterrupted(cause: unknown): SweepError {
  return new SweepError({
    stage: 'compile',
    problem: 'the build was interrupted',
    fix: 'run again; the previous zip and metadata are unchanged',
    cause,
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

// ---------------------------------------------------------------------------------------------
// engine: several artifacts, the child process of the synchronous entry
// ---------------------------------------------------------------------------------------------

/**
 * One error for a run in which artifacts failed. A failure shared by several artifacts (no Docker
 * engine, a cargo error in their shared run) is told once, as it is; a failure of one artifact
 * names it; several different failures are listed, each named.
 */
export function artifactsFailed(failures: ReadonlyMap<string, SweepError>): SweepError {
  const byError = new Map<SweepError, string[]>();
  for (const [name, error] of failures) byError.set(error, [...(byError.get(error) ?? []), name]);
  const groups = [...byError];
  if (groups.length === 1) {
    const [error, names] = groups[0]!;
    if (names.length > 1) return error;
    return new SweepError({
      stage: error.stage,
      problem: `${names[0]}: ${error.problem}`,
      fix: error.fix,
      details: error.details,
      cause: error,
    });
  }
  return new SweepError({
    stage: groups[0]![0].stage,
    problem: `${failures.size} artifacts failed: ${[...failures].map(([name, error]) => `${name} (${error.stage})`).join(', ')}; the others are committed`,
    fix: 'see each error below',
    details: groups.map(([error, names]) => `[${names.join(', ')}] ${error.describe()}`).join('\n\n'),
  });
}

export function engineProcessFailed(what: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'engine',
    problem: `the build process failed: ${what}`,
    fix: 'run `npx sweep-runtime build` to see the build on its own; the previous zips and metadata are unchanged',
    cause,
  });
}

/** Anything that is not a SweepError reaching the top: a bug, said as one, with its message. */
export function unexpectedFailure(error: unknown): SweepError {
  const message = error instanceof Error ? error.message : String(error);
  return new SweepError({
    stage: 'engine',
    problem: `unexpected failure: ${message}`,
    fix: 'this is a bug in aws-serverless-sweep: report it with the output above',
    details: error instanceof Error && error.stack ? lastLines(error.stack, 8) : undefined,
    cause: error,
  });
}

export function cdktfJsonUnusable(file: string, problem: string, fix: string, cause?: unknown): SweepError {
  return new SweepError({ stage: 'config', problem: `cannot use ${file}: ${problem}`, fix, cause });
}

export function cliUsageError(problem: string, fix: string): SweepError {
  return new SweepError({ stage: 'config', problem, fix });
}

export function pushRefused(name: string, problem: string, fix: string): SweepError {
  return new SweepError({ stage: 'remote-cache', problem: `${name} is not pushed: ${problem}`, fix });
}

// Remote artifact cache (S3). The remote is never required: every failure to reach or use it is
// one RemoteCacheError, which the engine reports as one warning line and then carries on.

/** What went wrong with the remote cache, so the engine (and tests) can tell the cases apart. */
export type RemoteCacheErrorKind =
  /** no connection: refused, DNS, no route, TLS handshake, or no connection within the timeout */
  | 'unreachable'
  /** no credentials found, or the server does not accept them (unknown key, bad signature, expired) */
  | 'credentials'
  /** the credentials are valid but lack a permission on the bucket or key */
  | 'access-denied'
  | 'no-bucket'
  /** connected, but the answer did not come within the time allowed */
  | 'timeout'
  /** the bytes did not survive the trip (Content-MD5 rejected by the server, or SHA-256 mismatch after download) */
  | 'corrupted'
  /** the server does not implement what the cache needs (conditional writes) */
  | 'unsupported'
  /** the endpoint answered, but not like an S3 server */
  | 'invalid-response'
  /** the settings for reaching the remote are unusable (e.g. an endpoint that is not an http(s) URL) */
  | 'config'
  | 'other';

export interface RemoteCacheErrorInit {
  readonly kind: RemoteCacheErrorKind;
  /** The remote cache URL, `s3://bucket/prefix`. */
  readonly url: string;
  /** Where requests go: the custom endpoint URL, or `AWS S3 (<region>)`. */
  readonly endpoint: string;
  readonly problem: string;
  readonly fix: string;
  readonly cause?: unknown;
}

/**
 * A failure of the remote cache. Its `message` is one line (where, what, what to do) so that it
 * can be shown as a single warning; `describe()` gives the usual two-line SweepError text.
 */
export class RemoteCacheError extends SweepError {
  readonly kind: RemoteCacheErrorKind;
  readonly url: string;
  readonly endpoint: string;
  /** What failed, without where (the url and endpoint say that). */
  readonly reason: string;

  constructor(init: RemoteCacheErrorInit) {
    super({ stage: 'remote-cache', problem: `${init.url} (${init.endpoint}): ${init.problem}`, fix: init.fix, cause: init.cause });
    this.name = 'RemoteCacheError';
    this.kind = init.kind;
    this.url = init.url;
    this.endpoint = init.endpoint;
    this.reason = init.problem;
    this.message = `remote cache ${init.url} (${init.endpoint}): ${init.problem}; ${init.fix}`;
  }
}

/** A remote cache URL that is not `s3://bucket[/prefix]`; `source` names where it came from. */
export function invalidRemoteCacheUrl(url: string, source: string, reason: string): SweepError {
  return new SweepError({
    stage: 'config',
    problem: `invalid remote cache URL ${JSON.stringify(url)} in ${source}: ${reason}`,
    fix: 'use s3://bucket or s3://bucket/prefix (bucket: 3-63 lower-case letters, digits, dots and hyphens), e.g. s3://my-team-cache/sweep',
  });
}

// ---------------------------------------------------------------------------------------------
// Where fixes point: the key the user can set, built from the options schema (optionHint).
// Errors raised where the options' origin is not known name the cdktf.json key.

function option(name: keyof ArtifactOptions, origin: OptionsOrigin = { kind: 'context' }): string {
  return optionHint(origin, name);
}

/** A value from a file or manifest, quoted and with anything unprintable escaped. */
function quoted(value: string): string {
  return `"${printable(value)}"`;
}

// ---------------------------------------------------------------------------------------------
// workspace: reading the Cargo manifests (cargo-workspace.ts). `manifest` is the manifest's path
// relative to the workspace root, as users see it (e.g. `crates/app/Cargo.toml`).

export function noWorkspaceManifest(root: string, origin?: OptionsOrigin): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `no Cargo.toml in the workspace folder ${printable(root)}`,
    fix: `point ${option('workspace', origin)} at the folder that holds the Cargo.toml of your workspace`,
  });
}

/** A manifest or workspace-level file (Cargo.lock, .cargo/config.toml, ...) that is not a regular file. */
export function workspaceFileNotRegular(relative: string, absolute: string, kindWords: string): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `${printable(relative)} is ${kindWords}, not a regular file, so it is not read`,
    fix: `replace ${printable(absolute)} with a regular file (or a symlink to one), or remove it`,
  });
}

export function unreadableManifest(manifest: string, absolute: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `cannot read ${printable(manifest)}: ${printable(errorMessage(cause))}`,
    fix: `check that ${printable(absolute)} exists and is readable by this user, or remove the crate from the workspace (its members or dependencies)`,
    cause,
  });
}

/**
 * `position` is the parser's line and column (1-based); `snippet` the lines around it with a
 * caret under the column, shown as details.
 */
export function invalidToml(
  manifest: string,
  absolute: string,
  reason: string,
  position: { readonly line: number; readonly column: number } | undefined,
  snippet: string | undefined,
  cause: unknown,
): SweepError {
  const at = position ? ` at line ${position.line}, column ${position.column}` : '';
  return new SweepError({
    stage: 'workspace',
    problem: `${printable(manifest)} is not valid TOML${at}: ${printable(reason)}`,
    fix: `correct the syntax of ${printable(absolute)}${position ? `:${position.line}:${position.column}` : ''}`,
    details: snippet === undefined ? undefined : snippet.split('\n').map(printable).join('\n'),
    cause,
  });
}

export function missingPackageName(manifest: string): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `${printable(manifest)} has no [package] name`,
    fix: 'add `name = "..."` under [package], or remove the folder from the workspace members',
  });
}

/**
 * A package or binary name that is not safe to use in a file name (see safe-name.ts). `source`
 * says where an inferred binary name came from (e.g. `src/bin/x.rs`).
 */
export function unsafeCargoName(manifest: string, what: 'package name' | 'binary name', value: string, source?: string): SweepError {
  const from = source === undefined ? '' : ` (from the file name ${printable(source)})`;
  return new SweepError({
    stage: 'workspace',
    problem: `${printable(manifest)} has the ${what} ${quoted(value)}${from}, which cannot be used in a file name`,
    fix: `rename it in ${printable(manifest)}${source === undefined ? '' : ' (or rename the file)'} to use only ${SAFE_NAME_RULE}`,
  });
}

/** A path in a manifest (a dependency, a [patch], a member) that leads out of the workspace folder. */
export function pathOutsideWorkspace(what: string, written: string, root: string): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `${printable(what)} points outside the workspace (${printable(written)}); the build container mounts only ${printable(root)}`,
    fix: `move the crate inside the workspace folder, or point ${option('workspace')} at a folder that contains both`,
  });
}

export function unreadableWorkspaceFolder(folder: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `cannot list the folder ${printable(folder)}: ${printable(errorMessage(cause))}`,
    fix: `make ${printable(folder)} readable and searchable by this user (chmod u+rx), or remove it from the workspace`,
    cause,
  });
}

export function noSuchPackage(root: string, packageName: string, packages: readonly string[], origin?: OptionsOrigin): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `the workspace ${printable(root)} has no package named ${quoted(packageName)} (its packages: ${packages.join(', ') || '(none)'})`,
    fix: `set ${option('package', origin)} to one of the packages listed`,
  });
}

export function noSuchBinary(packageName: string, binary: string, binaries: readonly string[], origin?: OptionsOrigin): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `package ${quoted(packageName)} has no binary named ${quoted(binary)} (its binaries: ${binaries.join(', ') || 'none'})`,
    fix: `set ${option('binary', origin)} to one of the binaries listed, or add a [[bin]] target to the package`,
  });
}

/** No package, or more than one, has the binary, and no package was named. */
export function binaryNotUnique(
  root: string,
  binary: string,
  candidates: readonly string[],
  withBinaries: string,
  origin?: OptionsOrigin,
): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem:
      candidates.length === 0
        ? `no package in ${printable(root)} has a binary named ${quoted(binary)} (binaries: ${withBinaries || 'none'})`
        : `several packages have a binary named ${quoted(binary)}: ${candidates.join(', ')}`,
    fix: `set ${option('package', origin)} to say which package to build, and ${option('binary', origin)} for its binary`,
  });
}

/** Features asked for that the package does not declare (for the caller that checks them). */
export function undeclaredFeatures(
  packageName: string,
  missing: readonly string[],
  declared: readonly string[],
  origin?: OptionsOrigin,
): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `package ${quoted(packageName)} has no feature ${missing.map(quoted).join(', ')} (its features: ${declared.join(', ') || 'none'})`,
    fix: `set ${option('features', origin)} to features the package declares`,
  });
}

// ---------------------------------------------------------------------------------------------
// inputs: walking and hashing the input files (input-files.ts, file-hash-index.ts). `relative` is
// the path relative to the workspace root, as the `cache-miss:` line shows it.

export function unreadableInputFolder(relative: string, absolute: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'inputs',
    problem: `cannot list the folder ${printable(relative || '.')} in a crate folder: ${printable(errorMessage(cause))}`,
    fix: `make ${printable(absolute)} readable and searchable by this user (chmod u+rx), or move it out of the crate folder; every file in a crate folder is an input`,
    cause,
  });
}

export function unreadableInputFile(relative: string, absolute: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'inputs',
    problem: `cannot read the input file ${printable(relative)}: ${printable(errorMessage(cause))}`,
    fix: `make ${printable(absolute)} readable by this user (chmod u+r), or move it out of the crate folder; every file in a crate folder is an input`,
    cause,
  });
}

export function tooManyInputs(limit: number, crateFolders: readonly string[]): SweepError {
  const folders = crateFolders.map((f) => printable(f || '.')).join(', ');
  return new SweepError({
    stage: 'inputs',
    problem: `the crate folders (${folders}) hold more than ${limit.toLocaleString('en-US')} input files; the walk stopped there`,
    fix: 'move generated files, data and vendored trees out of the crate folders (or into a folder named `target`), and remove symlinks that repeat folders',
  });
}

// ---------------------------------------------------------------------------------------------
// lock: one build of an artifact at a time (build-lock.ts). The lock is the folder
// `dist/.<name>.lock` in the dist folder.

export function lockNotCreated(dir: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'lock',
    problem: `cannot create the build lock ${printable(dir)}: ${printable(errorMessage(cause))}`,
    fix: `make ${printable(path.dirname(dir))} writable, or set ${option('distDir')} to a writable folder`,
    cause,
  });
}

/**
 * Waited `waited` (e.g. `30 min`) for the lock and gave up. `holder` describes the owner (pid,
 * host, command, since); `otherHost` is its host when that is not this one.
 */
export function lockWaitTimedOut(
  dir: string,
  holder: string,
  waited: string,
  owner: { readonly pid: number; readonly otherHost?: string } | undefined,
): SweepError {
  const remove = `rm -rf ${shellQuote(dir)}`;
  let fix: string;
  if (owner === undefined) {
    fix = `if no build of this artifact is running, remove the lock (${remove}) and run again`;
  } else if (owner.otherHost !== undefined) {
    fix = `a lock held from another host is never taken over automatically (its pid cannot be checked from here): if no build is running on ${printable(owner.otherHost)}, remove the lock (${remove}) and run again`;
  } else {
    fix = `wait for pid ${owner.pid} to finish, or stop it if it hangs (kill ${owner.pid}); a lock whose process is gone is taken over at once`;
  }
  return new SweepError({
    stage: 'lock',
    problem: `gave up waiting for the build lock ${printable(dir)} after ${waited}: it is held by ${holder}`,
    fix,
  });
}

function errorMessage(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** A path as one shell word (single quotes), so the printed command can be pasted as is. */
function shellQuote(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${printable(text).replace(/'/g, `'\\''`)}'`;
}

// --- invoke ---------------------------------------------------------------------------------
// Local invoke (invoke/*) refusing what Lambda itself would refuse, and zips it cannot read.

export function eventTooLarge(bytes: number, limit: number): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `the event is ${bytes} bytes; Lambda refuses a synchronous invoke of ${limit} bytes or more (RequestEntityTooLargeException)`,
    fix: 'send a smaller event: put large inputs in S3 and pass their key in the event',
  });
}

export function zipTooLargeUnzipped(zipPath: string, bytes: number, limit: number): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `${zipPath} unzips to ${bytes} bytes; Lambda refuses code of ${limit} bytes or more unzipped`,
    fix: 'make the binary smaller (strip symbols, opt-level "z", fewer dependencies) or deploy a container image instead',
  });
}

export function zipDamaged(zipPath: string, reason: string): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `cannot read ${zipPath}: ${reason}`,
    fix: 'rebuild it: FORCE_REBUILD=1 npx sweep-runtime build',
  });
}

export function eventUnreadable(source: string | undefined, cause: unknown): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `cannot read the event from ${source === '-' ? 'standard input' : source}: ${errorMessage(cause)}`,
    fix: 'pass --event with a readable JSON file, or - to read standard input',
    cause,
  });
}

export function eventNotJson(source: string | undefined, cause: unknown): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `the event in ${source === '-' ? 'standard input' : source} is not JSON: ${errorMessage(cause)}`,
    fix: 'Lambda events are JSON documents; check the file',
    cause,
  });
}

export function invalidTimeout(raw: string): SweepError {
  return new SweepError({
    stage: 'config',
    problem: `--timeout ${JSON.stringify(raw)} is not a number of seconds greater than 0 and at most 900`,
    fix: 'e.g. --timeout 30',
  });
}

export function zipWithoutBootstrap(zipPath: string): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `${zipPath} has no bootstrap entry`,
    fix: 'rebuild it: FORCE_REBUILD=1 npx sweep-runtime build',
  });
}

export function noEmulator(machine: string, hostMachine: string, emulator: string): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `cannot run ${machine} binaries on this ${hostMachine} machine: no emulator is registered (${emulator})`,
    fix: `install an emulator (e.g. \`sudo apt-get install qemu-user-static binfmt-support\`), or invoke on a ${machine} machine`,
  });
}

// --- batches and verification -----------------------------------------------------------------

export function featureTreeUnreadable(lineNumber: number, line: string, why: string): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `cannot read cargo tree's feature output at line ${lineNumber} ("${printable(line)}"): ${why}`,
    fix: 'run cargo tree exactly as featureTreeCommand builds it (indent prefix, ascii charset, format {p}|{f}, no dev edges)',
  });
}

export function impossibleCargoRun(what: string): SweepError {
  return new SweepError({
    stage: 'compile',
    problem: `cannot build ${what} in one cargo run`,
    fix: 'group the functions with planCargoRuns, which gives such a function a run of its own',
  });
}

/** A zip that fails the checks before deploy: never committed. */
export function artifactRefused(problem: string, fix: string, cause?: unknown): SweepError {
  return new SweepError({ stage: 'verify', problem: `${problem}; the zip was not committed, the previous one is unchanged`, fix, cause });
}

/** The error the engine's child process reported, as the SweepError it was. */
export function errorFromEngineProcess(error: { stage: string; problem: string; fix: string; details?: string }): SweepError {
  return new SweepError({ ...error, stage: error.stage as Stage });
}

/** A dist or cache folder the engine cannot own: the root, a file, a path too long. */
export function unusableFolder(folder: string, source: string, problem: string, origin: OptionsOrigin): SweepError {
  const key = source.endsWith('SWEEP_CACHE_DIR')
    ? 'SWEEP_CACHE_DIR'
    : source.includes('distDir')
      ? optionHint(origin, 'distDir')
      : optionHint(origin, 'cacheDir');
  return new SweepError({
    stage: 'config',
    problem: `cannot use ${printable(folder.length > 200 ? `${folder.slice(0, 100)}...${folder.slice(-60)}` : folder)} as a folder of the engine (from ${source}): ${problem}`,
    fix: `set ${key} to a folder of its own inside the project (the defaults are dist and .cache)`,
  });
}
