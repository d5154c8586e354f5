import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CargoWorkspace } from './cargo-workspace.js';
import { FileHashIndex } from './file-hash-index.js';
import { byCodePoint } from './fingerprint.js';

/**
 * Collects the build inputs of one binary and hashes each one: the workspace-level files, every
 * member's manifest, and every file under the folders of the crates the binary is built from.
 *
 * Paths are relative to the workspace root with `/` separators, so the result does not depend on
 * where the workspace is checked out. Be conservative: anything under a crate folder is an input
 * unless it is in an excluded folder.
 */

/** Folder names never walked, at any depth: build output, VCS data, and this tool's own output. */
export const EXCLUDED_FOLDER_NAMES: readonly string[] = ['target', '.git', 'node_modules', 'dist', 'cdktf.out', '.cache'];

export interface InputCollection {
  /** Relative path -> content hash (`sha256 hex`, or `symlink:<sha256 of the link text>`). */
  readonly inputs: ReadonlyMap<string, string>;
  /** How many files were read and hashed (the rest were known to the hash index). */
  readonly hashedFiles: number;
}

export interface CollectInputsRequest {
  readonly workspace: CargoWorkspace;
  /** Folders (relative to the root) whose every file is an input. */
  readonly crateFolders: readonly string[];
  /** Extra folder names to exclude (e.g. the configured dist and cache folder names). */
  readonly excludedNames?: readonly string[];
  readonly hashIndex?: FileHashIndex;
}

export function collectInputs(request: CollectInputsRequest): InputCollection {
  const { workspace } = request;
  const root = workspace.root;
  const rootReal = fs.realpathSync(root);
  const excluded = new Set([...EXCLUDED_FOLDER_NAMES, ...(request.excludedNames ?? [])]);
  const index = request.hashIndex ?? FileHashIndex.inMemory();
  const inputs = new Map<string, string>();
  const hashInto = (relative: string, absolute: string, stat: fs.Stats): void => {
    // A file reached twice (a member manifest, overlapping crate folders) is read once.
    if (!inputs.has(relative)) inputs.set(relative, index.hashFile(relative, absolute, stat));
  };

  const addFile = (relative: string): void => {
    const absolute = path.join(root, relative);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(absolute);
    } catch {
      return; // Listed by the workspace but absent: cargo will say so; nothing to hash.
    }
    if (stat.isSymbolicLink()) addSymlink(relative, absolute, []);
    else if (stat.isFile()) hashInto(relative, absolute, stat);
  };

  // A symlink whose target is inside the workspace is followed (the build container sees the
  // target's content, under the link's path); one that points outside is not, and its link text
  // is the input.
  const addSymlink = (relative: string, absolute: string, ancestors: readonly string[]): void => {
    let real: string | undefined;
    try {
      real = fs.realpathSync(absolute);
    } catch {
      real = undefined; // dangling
    }
    if (real !== undefined && isInside(rootReal, real)) {
      const stat = fs.statSync(real);
      if (stat.isFile()) hashInto(relative, real, stat);
      else if (stat.isDirectory()) walk(relative, real, ancestors);
      return;
    }
    if (!inputs.has(relative)) inputs.set(relative, `symlink:${createHash('sha256').update(fs.readlinkSync(absolute)).digest('hex')}`);
  };

  // `ancestors` are the real paths of the folders above this one on the way here: a folder that
  // is its own ancestor is a symlink loop. (A folder reached by two different ways is walked
  // under both paths, as the build container sees it under both.)
  const walk = (relative: string, absolute: string, ancestors: readonly string[]): void => {
    const real = fs.realpathSync(absolute);
    if (ancestors.includes(real)) return;
    const below = [...ancestors, real];
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(absolute, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => byCodePoint(a.name, b.name));
    for (const entry of entries) {
      const childRelative = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const childAbsolute = path.join(absolute, entry.name);
      if (entry.isDirectory()) {
        if (!excluded.has(entry.name)) walk(childRelative, childAbsolute, below);
      } else if (entry.isSymbolicLink()) {
        if (!excluded.has(entry.name)) addSymlink(childRelative, childAbsolute, below);
      } else if (entry.isFile() && !inputs.has(childRelative)) {
        hashInto(childRelative, childAbsolute, fs.lstatSync(childAbsolute));
      }
    }
  };

  for (const file of workspace.rootFiles) addFile(file);
  for (const member of workspace.members) addFile(member.dir === '' ? 'Cargo.toml' : `${member.dir}/Cargo.toml`);
  for (const folder of [...request.crateFolders, ...workspace.patchDirs]) {
    walk(folder, path.join(root, folder), []);
  }
  index.save();

  const sorted = new Map([...inputs.entries()].sort(([a], [b]) => byCodePoint(a, b)));
  return { inputs: sorted, hashedFiles: index.hashedFiles };
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}
