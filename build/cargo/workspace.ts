import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { OptionsOrigin } from '../options/origin.js';
import { LAMBDA_ENTRY_POINT } from '../options/schema.js';
import { describeKind, isMissing, kindOf, NotRegularFileError, readRegularFile } from '../support/regular-file.js';
import { isSafeName } from '../support/safe-name.js';
import {
  binaryNotUnique,
  invalidToml,
  missingPackageName,
  noDefaultBinary,
  noSuchBinary,
  noSuchPackage,
  noWorkspaceManifest,
  pathOutsideWorkspace,
  unreadableManifest,
  unreadableWorkspaceFolder,
  unsafeCargoName,
  workspaceFileNotRegular,
} from './errors.js';

/**
 * Reads the Cargo workspace's manifests (without a host cargo: the build runs in Docker, and
 * the fast path must not start a container) to learn which files can change the deployed binary:
 * the workspace-level files and the folders of the crates the binary is built from.
 *
 * A manifest is untrusted input: its names become file names (`dist/<package>.zip`), so every
 * package and binary name must pass safe-name.ts's rule, and its paths must stay inside the
 * workspace. Only regular files (or symlinks to them) are read as manifests or workspace files:
 * a FIFO would block the read forever, so anything else is an error naming it.
 */

/** Files at the workspace root that change how every crate builds, when they exist. */
export const WORKSPACE_ROOT_FILES = [
  'Cargo.toml',
  'Cargo.lock',
  '.cargo/config.toml',
  '.cargo/config',
  'rust-toolchain',
  'rust-toolchain.toml',
] as const;

export interface CargoPackage {
  readonly name: string;
  /** Folder relative to the workspace root, posix separators; '' for a root package. */
  readonly dir: string;
  /** Binary targets, explicit (`[[bin]]`) and discovered (`src/main.rs`, `src/bin/*`). */
  readonly binaries: readonly string[];
  /** Features the manifest declares. */
  readonly features: readonly string[];
  /** Folders (relative to the workspace root) of the path dependencies needed to build it. */
  readonly pathDependencies: readonly string[];
}

export interface CargoWorkspace {
  readonly root: string;
  readonly members: readonly CargoPackage[];
  /** WORKSPACE_ROOT_FILES that exist, relative to the root. */
  readonly rootFiles: readonly string[];
  /** Folders named by `[patch]` / `[replace]` path entries, relative to the root. */
  readonly patchDirs: readonly string[];
  /** `[workspace.dependencies]`, which `dep.workspace = true` entries of any crate inherit. */
  readonly workspaceDependencies: Readonly<Table>;
  /**
   * Cargo's feature resolver for the workspace (see effectiveResolver): under resolver 1, cargo
   * may unify features across the workspace's members, so one member's manifest can change
   * another's binary.
   */
  readonly resolver: CargoResolver;
}

export type CargoResolver = '1' | '2' | '3';

type Table = Record<string, unknown>;

export function readCargoWorkspace(root: string, origin?: OptionsOrigin): CargoWorkspace {
  if (kindOfWorkspaceFile(root, 'Cargo.toml') === undefined) throw noWorkspaceManifest(root, origin);
  const rootManifest = readManifest(root, '');
  const workspace = asTable(rootManifest.workspace);
  const workspaceDeps = asTable(workspace?.dependencies);

  const memberDirs = new Set<string>();
  if (asTable(rootManifest.package)) memberDirs.add('');
  if (workspace) {
    const excluded = new Set(asStringArray(workspace.exclude).map(normalizeRelative));
    for (const pattern of asStringArray(workspace.members)) {
      for (const dir of expandMemberPattern(root, pattern)) {
        if (isOutside(dir)) throw pathOutsideWorkspace(`[workspace] members entry "${pattern}"`, pattern, root);
        if (!excluded.has(dir) && kindOfWorkspaceFile(root, manifestName(dir)) !== undefined) memberDirs.add(dir);
      }
    }
  }

  const members = [...memberDirs]
    .sort()
    .map((dir) => describePackage(root, dir, dir === '' ? rootManifest : readManifest(root, dir), workspaceDeps));

  return {
    root,
    members,
    rootFiles: WORKSPACE_ROOT_FILES.filter((file) => kindOfWorkspaceFile(root, file) !== undefined),
    patchDirs: patchDirectories(root, rootManifest),
    workspaceDependencies: workspaceDeps ?? {},
    resolver: effectiveResolver(rootManifest),
  };
}

/**
 * The resolver cargo uses, read as cargo reads it: `[workspace] resolver`, else the root
 * package's `resolver`, else the root package's edition (2021 means 2, 2024 means 3). A virtual
 * workspace without `resolver`, a root package of edition 2015 or 2018, or a value this engine
 * does not know is resolver 1: the cautious answer, since only resolver 1 unifies features
 * across members.
 */
export function effectiveResolver(rootManifest: Table): CargoResolver {
  const workspace = asTable(rootManifest.workspace);
  const pkg = asTable(rootManifest.package);
  const written = workspace?.resolver ?? pkg?.resolver;
  if (written !== undefined) return written === '2' || written === '3' ? written : '1';
  if (!pkg) return '1';
  const edition = asTable(pkg.edition)?.workspace === true ? asTable(workspace?.package)?.edition : pkg.edition;
  if (edition === '2021') return '2';
  if (edition === '2024') return '3';
  return '1';
}

/**
 * The package that holds the binary: the one named, or else the only member declaring a binary
 * of that name.
 */
export function selectPackage(
  workspace: CargoWorkspace,
  packageName: string | undefined,
  binary: string,
  origin?: OptionsOrigin,
): CargoPackage {
  if (packageName !== undefined) {
    const found = workspace.members.find((m) => m.name === packageName);
    if (!found) throw noSuchPackage(workspace.root, packageName, packageNames(workspace), origin);
    if (!found.binaries.includes(binary)) throw noSuchBinary(packageName, binary, found.binaries, origin);
    return found;
  }
  const candidates = workspace.members.filter((m) => m.binaries.includes(binary));
  if (candidates.length === 1) return candidates[0]!;
  const withBinaries = workspace.members
    .filter((m) => m.binaries.length > 0)
    .map((m) => `${m.name} (${m.binaries.join(', ')})`)
    .join('; ');
  throw binaryNotUnique(workspace.root, binary, packageNames({ members: candidates }), withBinaries, origin);
}

/**
 * The binary to build when none is named, as cargo picks it: the package's only binary target
 * (several, or none, is an error listing them). Without a package, the documented `bootstrap`
 * (the package is then the member that declares it, see selectPackage).
 */
export function defaultBinary(workspaceRoot: string, packageName: string | undefined, origin?: OptionsOrigin): string {
  if (packageName === undefined) return LAMBDA_ENTRY_POINT;
  const workspace = readCargoWorkspace(workspaceRoot, origin);
  const found = workspace.members.find((m) => m.name === packageName);
  if (!found) throw noSuchPackage(workspace.root, packageName, packageNames(workspace), origin);
  if (found.binaries.length !== 1) throw noDefaultBinary(packageName, found.binaries, origin);
  return found.binaries[0]!;
}

function packageNames(workspace: Pick<CargoWorkspace, 'members'>): string[] {
  return workspace.members.map((m) => m.name);
}

/** Features that the package does not declare (features of dependencies, `dep/feature`, are not checked). */
export function unknownFeatures(pkg: CargoPackage, features: readonly string[]): string[] {
  return features.filter((f) => !f.includes('/') && !f.startsWith('dep:') && !pkg.features.includes(f));
}

/**
 * The folders of every crate the package is built from: itself and its path dependencies,
 * transitively (normal and build dependencies, all targets; dev-dependencies are not compiled
 * into a binary).
 */
export function crateFolders(workspace: CargoWorkspace, pkg: CargoPackage): string[] {
  const byDir = new Map(workspace.members.map((m) => [m.dir, m]));
  const seen = new Set<string>();
  const queue = [pkg.dir];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    if (seen.has(dir)) continue;
    seen.add(dir);
    // A path dependency need not be a listed member (cargo makes it one); read its manifest to
    // follow it further, with the workspace's inherited dependencies like any member.
    const crate =
      byDir.get(dir) ?? describePackage(workspace.root, dir, readManifest(workspace.root, dir), workspace.workspaceDependencies);
    queue.push(...crate.pathDependencies);
  }
  return [...seen].sort();
}

function describePackage(root: string, dir: string, manifest: Table, workspaceDeps: Table | undefined): CargoPackage {
  const pkg = asTable(manifest.package);
  const name = typeof pkg?.name === 'string' ? pkg.name : undefined;
  if (!name) throw missingPackageName(manifestName(dir));
  if (!isSafeName(name)) throw unsafeCargoName(manifestName(dir), 'package name', name);
  return {
    name,
    dir,
    binaries: binaryNames(root, dir, name, manifest, pkg),
    features: Object.keys(asTable(manifest.features) ?? {}).sort(),
    pathDependencies: pathDependencies(root, dir, manifest, workspaceDeps),
  };
}

function binaryNames(root: string, dir: string, packageName: string, manifest: Table, pkg: Table | undefined): string[] {
  const names = new Set<string>();
  // Source files claimed by explicit [[bin]] targets: cargo does not also infer a target for them.
  const claimed = new Set<string>();
  for (const bin of asArray(manifest.bin)) {
    const target = asTable(bin);
    if (typeof target?.name !== 'string') continue;
    if (!isSafeName(target.name)) throw unsafeCargoName(manifestName(dir), 'binary name', target.name);
    names.add(target.name);
    claimed.add(
      normalizeRelative(
        typeof target.path === 'string' ? target.path : target.name === packageName ? 'src/main.rs' : `src/bin/${target.name}.rs`,
      ),
    );
  }
  if (pkg?.autobins !== false) {
    const crateDir = path.join(root, dir);
    const infer = (name: string, source: string) => {
      if (claimed.has(source) || !fs.existsSync(path.join(crateDir, source))) return;
      // A file name is as untrusted as a manifest: `src/bin/..rs` would be a binary named ".".
      if (!isSafeName(name)) throw unsafeCargoName(manifestName(dir), 'binary name', name, path.posix.join(dir, source));
      names.add(name);
    };
    infer(packageName, 'src/main.rs');
    for (const entry of safeReaddir(path.join(crateDir, 'src', 'bin'))) {
      if (entry.isFile() && entry.name.endsWith('.rs')) infer(entry.name.slice(0, -3), `src/bin/${entry.name}`);
      if (entry.isDirectory()) infer(entry.name, `src/bin/${entry.name}/main.rs`);
    }
  }
  return [...names].sort();
}

const DEPENDENCY_TABLES = ['dependencies', 'build-dependencies'] as const;

function pathDependencies(root: string, dir: string, manifest: Table, workspaceDeps: Table | undefined): string[] {
  const tables: Table[] = [];
  for (const key of DEPENDENCY_TABLES) tables.push(asTable(manifest[key]) ?? {});
  for (const target of Object.values(asTable(manifest.target) ?? {})) {
    for (const key of DEPENDENCY_TABLES) tables.push(asTable(asTable(target)?.[key]) ?? {});
  }
  const dirs = new Set<string>();
  for (const table of tables) {
    for (const [depName, spec] of Object.entries(table)) {
      const own = asTable(spec);
      if (typeof own?.path === 'string') {
        dirs.add(resolveInside(root, dir, own.path, `${manifestName(dir)} dependency "${depName}"`));
      } else if (own?.workspace === true) {
        const inherited = asTable(workspaceDeps?.[depName]);
        if (typeof inherited?.path === 'string') {
          dirs.add(resolveInside(root, '', inherited.path, `[workspace.dependencies] "${depName}"`));
        }
      }
    }
  }
  return [...dirs].sort();
}

function patchDirectories(root: string, manifest: Table): string[] {
  const dirs = new Set<string>();
  const sources = [...Object.values(asTable(manifest.patch) ?? {}), asTable(manifest.replace) ?? {}];
  for (const source of sources) {
    for (const [name, spec] of Object.entries(asTable(source) ?? {})) {
      const p = asTable(spec)?.path;
      if (typeof p === 'string') dirs.add(resolveInside(root, '', p, `[patch]/[replace] entry "${name}"`));
    }
  }
  return [...dirs].sort();
}

/**
 * `written` (as the manifest in folder `from` says it) as a path relative to the root. Path
 * crates outside the root cannot be seen by the build container, so they are an error.
 */
function resolveInside(root: string, from: string, written: string, what: string): string {
  const absolute = path.resolve(root, from, written);
  const normalized = normalizeRelative(path.relative(root, absolute));
  if (isOutside(normalized)) throw pathOutsideWorkspace(what, written, root);
  return normalized;
}

/** Whether a normalized relative path leads out of the root. */
function isOutside(normalized: string): boolean {
  return path.isAbsolute(normalized) || normalized === '..' || normalized.startsWith('../');
}

function normalizeRelative(p: string): string {
  const n = path.posix.normalize(p.split(path.sep).join('/')).replace(/\/$/, '');
  return n === '.' ? '' : n;
}

/** Expands a `workspace.members` entry; cargo accepts glob patterns (`crates/*`, `libs/**`). */
function expandMemberPattern(root: string, pattern: string): string[] {
  const segments = normalizeRelative(pattern).split('/').filter(Boolean);
  let current = [''];
  for (const segment of segments) {
    const next: string[] = [];
    for (const base of current) {
      if (segment === '**') {
        next.push(base, ...allSubfolders(root, base));
      } else if (/[*?[]/.test(segment)) {
        const matcher = globSegment(segment);
        for (const entry of safeReaddir(path.join(root, base))) {
          if (entry.isDirectory() && matcher.test(entry.name)) next.push(path.posix.join(base, entry.name));
        }
      } else {
        next.push(path.posix.join(base, segment));
      }
    }
    current = next;
  }
  return current.map(normalizeRelative);
}

function allSubfolders(root: string, base: string): string[] {
  const found: string[] = [];
  for (const entry of safeReaddir(path.join(root, base))) {
    if (!entry.isDirectory() || entry.name === 'target' || entry.name.startsWith('.')) continue;
    const sub = path.posix.join(base, entry.name);
    found.push(sub, ...allSubfolders(root, sub));
  }
  return found;
}

function globSegment(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i);
      if (end < 0) source += '\\[';
      else {
        source += `[${segment.slice(i + 1, end).replace(/^!/, '^')}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function readManifest(root: string, dir: string): Table {
  const manifest = manifestName(dir);
  const file = path.join(root, manifest);
  // Checked before opening, so a FIFO or a device is never opened; readRegularFile checks again
  // on the open file, should it be swapped in between.
  kindOfWorkspaceFile(root, manifest);
  let text: string;
  try {
    text = readRegularFile(file).toString('utf8');
  } catch (cause) {
    if (cause instanceof NotRegularFileError) throw workspaceFileNotRegular(manifest, file, describeKind(cause.kind));
    throw unreadableManifest(manifest, file, cause);
  }
  try {
    return parseToml(text) as Table;
  } catch (cause) {
    // smol-toml's message is "Invalid TOML document: <reason>" followed by the snippet; the
    // reason, the position and the snippet are shown apart.
    const reason = (cause as Error).message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    const position = cause instanceof TomlError ? { line: cause.line, column: cause.column } : undefined;
    throw invalidToml(manifest, file, reason, position, cause instanceof TomlError ? cause.codeblock.trimEnd() : undefined, cause);
  }
}

/**
 * The kind of a manifest or workspace-level file (`relative` to the root), following symlinks:
 * 'file' or undefined (absent). Anything else (a FIFO, a device, a folder) is an error naming
 * it: it is not silently left out of the inputs, and it is never opened.
 */
function kindOfWorkspaceFile(root: string, relative: string): 'file' | undefined {
  const file = path.join(root, relative);
  let kind: ReturnType<typeof kindOf>;
  try {
    kind = kindOf(file);
  } catch (cause) {
    throw unreadableManifest(relative, file, cause);
  }
  if (kind === undefined || kind === 'file') return kind;
  throw workspaceFileNotRegular(relative, file, describeKind(kind));
}

function manifestName(dir: string): string {
  return dir === '' ? 'Cargo.toml' : `${dir}/Cargo.toml`;
}

/** A folder's entries; none when it does not exist, an error when it exists but cannot be listed. */
function safeReaddir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (cause) {
    if (isMissing(cause)) return [];
    throw unreadableWorkspaceFolder(dir, cause);
  }
}

function asTable(value: unknown): Table | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Table) : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asStringArray(value: unknown): string[] {
  return asArray(value).filter((v): v is string => typeof v === 'string');
}
