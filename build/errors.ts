import * as path from 'node:path';
import { printable } from './printable.js';
import { SAFE_NAME_RULE } from './safe-name.js';

/**
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
  | 'inputs'
  | 'fingerprint'
  | 'lock'
  | 'docker'
  | 'builder-image'
  | 'compile'
  | 'package'
  | 'verify'
  | 'metadata'
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
// Where fixes point: the artifact options, as cdktf.json context keys and CLI flags. Kept in this
// one table so the keys can later be derived from the configuration schema in one change.

type ArtifactOptionName = 'workspace' | 'package' | 'binary' | 'features' | 'distDir';

const ARTIFACT_OPTION_KEYS: Readonly<Record<ArtifactOptionName, { readonly key: string; readonly flag?: string }>> = {
  workspace: { key: 'sweep.artifact.workspace', flag: '--workspace' },
  package: { key: 'sweep.artifact.package', flag: '--package' },
  binary: { key: 'sweep.artifact.binary', flag: '--bin' },
  features: { key: 'sweep.artifact.features' },
  distDir: { key: 'sweep.artifact.distDir' },
};

/** How to set an option, for a fix: "`sweep.artifact.package` (cdktf.json context, or --package)". */
function option(name: ArtifactOptionName): string {
  const { key, flag } = ARTIFACT_OPTION_KEYS[name];
  return `\`${key}\` (cdktf.json context${flag ? `, or ${flag}` : ''})`;
}

/** A value from a file or manifest, quoted and with anything unprintable escaped. */
function quoted(value: string): string {
  return `"${printable(value)}"`;
}

// ---------------------------------------------------------------------------------------------
// workspace: reading the Cargo manifests (cargo-workspace.ts). `manifest` is the manifest's path
// relative to the workspace root, as users see it (e.g. `crates/app/Cargo.toml`).

export function noWorkspaceManifest(root: string): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `no Cargo.toml in the workspace folder ${printable(root)}`,
    fix: `point ${option('workspace')} at the folder that holds the Cargo.toml of your workspace`,
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

export function noSuchPackage(root: string, packageName: string, packages: readonly string[]): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `the workspace ${printable(root)} has no package named ${quoted(packageName)} (its packages: ${packages.join(', ') || '(none)'})`,
    fix: `set ${option('package')} to one of the packages listed`,
  });
}

export function noSuchBinary(packageName: string, binary: string, binaries: readonly string[]): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `package ${quoted(packageName)} has no binary named ${quoted(binary)} (its binaries: ${binaries.join(', ') || 'none'})`,
    fix: `set ${option('binary')} to one of the binaries listed, or add a [[bin]] target to the package`,
  });
}

/** No package, or more than one, has the binary, and no package was named. */
export function binaryNotUnique(root: string, binary: string, candidates: readonly string[], withBinaries: string): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem:
      candidates.length === 0
        ? `no package in ${printable(root)} has a binary named ${quoted(binary)} (binaries: ${withBinaries || 'none'})`
        : `several packages have a binary named ${quoted(binary)}: ${candidates.join(', ')}`,
    fix: `set ${option('package')} to say which package to build, and ${option('binary')} for its binary`,
  });
}

/** Features asked for that the package does not declare (for the caller that checks them). */
export function undeclaredFeatures(packageName: string, missing: readonly string[], declared: readonly string[]): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `package ${quoted(packageName)} has no feature ${missing.map(quoted).join(', ')} (its features: ${declared.join(', ') || 'none'})`,
    fix: `set ${option('features')} to features the package declares`,
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
