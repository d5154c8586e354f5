import * as fs from 'node:fs';
import * as path from 'node:path';
import { type CargoLock, parseCargoLock, reachableEntries } from '../cargo/lockfile.js';
import { type CargoPackage, type CargoWorkspace, crateFolders } from '../cargo/workspace.js';
import { readRegularFile } from '../support/regular-file.js';
import { lockEntryInputs } from './lock-entries.js';

/*
 * Which inputs one function has: what can change its binary, and nothing else.
 *
 * - always: the workspace-level files (root Cargo.toml: profiles, [patch], members,
 *   [workspace.dependencies]; .cargo/config*; the toolchain files), the folders of the crates in
 *   the package's path-dependency closure (their manifests and every file), and the [patch]
 *   folders;
 * - Cargo.lock: only the entries the package reaches in the lock's dependency graph
 *   (lockfile.ts), not the whole file: another function's new dependency is not this one's input;
 * - not the other members' manifests.
 *
 * Resolver 1 is the exception: cargo may then unify features across the workspace, so another
 * member's manifest or dependency can change this binary. There, every member's manifest and the
 * whole Cargo.lock are inputs, as they were for every workspace before, and a note says so. So
 * is a lock that cannot be read or does not describe the package (cargo --locked refuses it
 * anyway): the whole file is the input.
 */
export interface InputScope {
  readonly crateFolders: readonly string[];
  /** Member manifests outside the crate folders that are inputs. */
  readonly manifests: readonly string[];
  /** Cargo.lock's reachable entries as inputs, or undefined: the whole file (or no lock). */
  readonly lockEntries?: { readonly inputs: ReadonlyMap<string, string>; readonly seen: string };
  /** What the user should know about the scope (the resolver 1 fallback). */
  readonly note?: string;
}

/** Cargo.lock as read once in a run: its stat when read, and its graph (or why it has none). */
export type LockRead =
  | { readonly kind: 'absent' }
  | { readonly kind: 'parsed'; readonly seen: string; readonly lock: CargoLock }
  | { readonly kind: 'unusable'; readonly reason: string };

export function readLock(workspace: CargoWorkspace): LockRead {
  if (!workspace.rootFiles.includes('Cargo.lock')) return { kind: 'absent' };
  const file = path.join(workspace.root, 'Cargo.lock');
  try {
    // Stat first: a write after this point shows in the snapshot taken after the compile.
    const stat = fs.statSync(file);
    const seen = `${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.ino}`;
    return { kind: 'parsed', seen, lock: parseCargoLock(readRegularFile(file).toString('utf8')) };
  } catch (error) {
    return { kind: 'unusable', reason: (error as Error).message };
  }
}

export function resolverOneNote(): string {
  return 'the workspace uses cargo\'s resolver 1 (a virtual workspace without `resolver = "2"`, or a root package of edition 2015/2018), which may unify features across members: every member\'s Cargo.toml and the whole Cargo.lock are inputs of every function. Set `resolver = "2"` in [workspace] for per-function inputs';
}

export function inputScope(workspace: CargoWorkspace, pkg: CargoPackage, lock: LockRead): InputScope {
  const folders = crateFolders(workspace, pkg);
  if (workspace.resolver === '1') {
    return { crateFolders: folders, manifests: everyManifest(workspace), note: resolverOneNote() };
  }
  // The closure's manifests are in its crate folders, the root manifest is a workspace-level file.
  const manifests: string[] = [];
  if (lock.kind !== 'parsed') return { crateFolders: folders, manifests };
  const entries = reachableEntries(lock.lock, pkg.name);
  if (entries === undefined) return { crateFolders: folders, manifests };
  return { crateFolders: folders, manifests, lockEntries: { inputs: lockEntryInputs(entries), seen: lock.seen } };
}

function everyManifest(workspace: CargoWorkspace): string[] {
  return workspace.members.map((m) => (m.dir === '' ? 'Cargo.toml' : `${m.dir}/Cargo.toml`));
}
