import { type OptionsOrigin, optionHint } from '../options/origin.js';
import { errorMessage, lastLines, SweepError } from '../support/errors.js';
import { printable } from '../support/printable.js';
import { SAFE_NAME_RULE } from '../support/safe-name.js';

/*
 * The cargo room's messages: reading the Cargo manifests (`manifest` is the path relative to the
 * workspace root, as users see it, e.g. `crates/app/Cargo.toml`), cargo tree's feature output, and
 * cargo runs that cannot be formed.
 */

/** A value from a file or manifest, quoted and with anything unprintable escaped. */
function quoted(value: string): string {
  return `"${printable(value)}"`;
}

export function noWorkspaceManifest(root: string, origin?: OptionsOrigin): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `no Cargo.toml in the workspace folder ${printable(root)}`,
    fix: `point ${optionHint(origin, 'workspace')} at the folder that holds the Cargo.toml of your workspace`,
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
    fix: `move the crate inside the workspace folder, or point ${optionHint(undefined, 'workspace')} at a folder that contains both`,
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
    fix: `set ${optionHint(origin, 'package')} to one of the packages listed`,
  });
}

export function noSuchBinary(packageName: string, binary: string, binaries: readonly string[], origin?: OptionsOrigin): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `package ${quoted(packageName)} has no binary named ${quoted(binary)} (its binaries: ${binaries.join(', ') || 'none'})`,
    fix: `set ${optionHint(origin, 'binary')} to one of the binaries listed, or add a [[bin]] target to the package`,
  });
}

/** No binary was named and the package has several binary targets, or none. */
export function noDefaultBinary(packageName: string, binaries: readonly string[], origin?: OptionsOrigin): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem:
      binaries.length === 0
        ? `package ${quoted(packageName)} has no binary target (no src/main.rs, src/bin/*.rs or [[bin]])`
        : `package ${quoted(packageName)} has several binaries (${binaries.join(', ')}), and no binary was named`,
    fix:
      binaries.length === 0
        ? `add src/main.rs (or a [[bin]] target) to package ${quoted(packageName)}, or set ${optionHint(origin, 'package')} to the package of the Lambda binary`
        : `set ${optionHint(origin, 'binary')} to the one to deploy`,
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
    fix: `set ${optionHint(origin, 'package')} to say which package to build, and ${optionHint(origin, 'binary')} for its binary`,
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
    fix: `set ${optionHint(origin, 'features')} to features the package declares`,
  });
}

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

/** A function's `cargo tree` failed (a bad feature, a dependency that does not resolve): its own error. */
export function cargoTreeFailed(names: string, exitCode: number | undefined, stderr: string): SweepError {
  return new SweepError({
    stage: 'workspace',
    problem: `cargo could not resolve the dependencies and features of ${names} (cargo tree, exit code ${exitCode ?? 'unknown'})`,
    fix: "fix the function's features or dependencies as cargo's message below says; the other functions were built",
    details: stderr.trim() === '' ? undefined : lastLines(stderr, 20),
  });
}
