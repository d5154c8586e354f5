/**
 * What sweep-runtime watch watches: exactly the inputs of the selected functions' fingerprints
 * (build/fingerprint/inputs.ts), and cdktf.json, whose function settings the Invoke API serves.
 * Per function:
 * - every file under the folders of the crates its binary is built from (its package and its
 *   path dependencies, transitively) and under the workspace's `[patch]` folders, less folders
 *   named like an excluded one (`target`, `.git`, ...) at any depth below them and the
 *   configured dist and cache folders;
 * - the workspace-level files (Cargo.toml, Cargo.lock, .cargo/config.toml, .cargo/config,
 *   rust-toolchain, rust-toolchain.toml), those that do not exist yet too: creating one is a
 *   change;
 * - every member's Cargo.toml.
 *
 * The watcher is given each workspace's root and asks {@link WatchedSet.ignores} about every path
 * it meets: it descends only into folders on the way to an input, so a new crate folder (a
 * folder renamed back, a `.cargo` folder created) is found by its parent's watch, and nothing
 * else in the workspace (another function's crate, a `target` folder) costs a watch. The set is
 * derived again after every build: a manifest edit can add a path dependency.
 */
import * as path from 'node:path';
import {
  crateFolders,
  EXCLUDED_FOLDER_NAMES,
  type ResolvedArtifactOptions,
  readCargoWorkspace,
  selectPackage,
  WORKSPACE_ROOT_FILES,
} from '../build/index.js';

/** The inputs of one function's fingerprint, as paths to watch. */
export interface FunctionInputs {
  /** The function's key (its name in cdktf.json). */
  readonly key: string;
  /** The workspace root, absolute. */
  readonly workspace: string;
  /** Folders whose every file is an input, relative to the workspace, `/`-separated; '' is the root itself. */
  readonly folders: readonly string[];
  /** Files that are inputs whenever they exist, relative to the workspace, `/`-separated. */
  readonly files: readonly string[];
  /** Absolute folders whose files are never inputs: the configured dist and cache folders. */
  readonly excluded: readonly string[];
}

/**
 * Reads the function's manifests (as a check does) to list its inputs. When they cannot be read
 * (a manifest that does not parse, a package that does not exist), the workspace-level files and
 * what `previous` listed are watched, so the edit that fixes it is seen.
 */
export function describeInputs(key: string, options: ResolvedArtifactOptions, previous?: FunctionInputs): FunctionInputs {
  const base = { key, workspace: options.workspace, excluded: [options.distDir, options.cacheDir] };
  const rootFiles = [...WORKSPACE_ROOT_FILES];
  try {
    const workspace = readCargoWorkspace(options.workspace, options.origin);
    const manifests = workspace.members.map((member) => (member.dir === '' ? 'Cargo.toml' : `${member.dir}/Cargo.toml`));
    let folders: string[] = [];
    try {
      folders = crateFolders(workspace, selectPackage(workspace, options.package, options.binary, options.origin));
    } catch {
      folders = [...(previous?.folders ?? [])];
    }
    return { ...base, folders: unique([...folders, ...workspace.patchDirs]), files: unique([...rootFiles, ...manifests]) };
  } catch {
    return { ...base, folders: [...(previous?.folders ?? [])], files: unique([...rootFiles, ...(previous?.files ?? [])]) };
  }
}

export class WatchedSet {
  private readonly excludedNames = new Set(EXCLUDED_FOLDER_NAMES);

  constructor(
    readonly functions: readonly FunctionInputs[],
    /** Files every function depends on (cdktf.json), absolute. */
    readonly settingsFiles: readonly string[] = [],
  ) {}

  /** What to hand the watcher: each workspace root and the settings files. */
  get roots(): string[] {
    return unique([...this.functions.map((fn) => fn.workspace), ...this.settingsFiles]);
  }

  /** Every input folder and file, absolute (for telling what a new set adds). */
  get inputPaths(): string[] {
    return unique(
      this.functions.flatMap((fn) => [...fn.folders, ...fn.files].map((relative) => path.join(fn.workspace, ...relative.split('/')))),
    );
  }

  /** Whether the watcher should leave `absolute` alone: it is neither an input nor on the way to one. */
  ignores(absolute: string): boolean {
    if (this.settingsFiles.some((file) => file === absolute || isInside(absolute, file))) return false;
    return !this.functions.some((fn) => this.onTheWay(fn, absolute));
  }

  /**
   * The keys of the functions whose inputs a change of `absolute` touches: every function for a
   * settings file, none for a path that is no input.
   */
  affected(absolute: string): string[] {
    if (this.settingsFiles.includes(absolute)) return unique(this.functions.map((fn) => fn.key));
    return unique(this.functions.filter((fn) => this.isInput(fn, absolute)).map((fn) => fn.key));
  }

  /** Whether `absolute` is one of the function's inputs (a file under an input folder, or an input file). */
  isInput(fn: FunctionInputs, absolute: string): boolean {
    const relative = relativeInside(fn.workspace, absolute);
    if (relative === undefined || fn.excluded.some((folder) => absolute === folder || isInside(folder, absolute))) return false;
    if (fn.files.includes(relative)) return true;
    return fn.folders.some((folder) => {
      const inner = innerPath(folder, relative);
      return inner !== undefined && inner !== '' && !inner.split('/').some((segment) => this.excludedNames.has(segment));
    });
  }

  private onTheWay(fn: FunctionInputs, absolute: string): boolean {
    const relative = relativeInside(fn.workspace, absolute);
    if (relative === undefined) return false;
    if (relative === '') return true;
    if (fn.excluded.some((folder) => absolute === folder || isInside(folder, absolute))) return false;
    if (this.isInput(fn, absolute)) return true;
    // A folder that is an input folder, or holds an input folder or file.
    return [...fn.folders, ...fn.files].some((input) => input === relative || input.startsWith(`${relative}/`));
  }
}

/** `absolute` relative to `root` with `/` separators ('' for the root), or undefined when outside it. */
function relativeInside(root: string, absolute: string): string | undefined {
  const relative = path.relative(root, absolute);
  if (relative === '') return '';
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep).join('/');
}

/** `relative` below `folder` ('' when it is the folder), or undefined when not inside it. */
function innerPath(folder: string, relative: string): string | undefined {
  if (folder === '') return relative;
  if (relative === folder) return '';
  return relative.startsWith(`${folder}/`) ? relative.slice(folder.length + 1) : undefined;
}

function isInside(folder: string, candidate: string): boolean {
  return relativeInside(folder, candidate) !== undefined && candidate !== folder;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
