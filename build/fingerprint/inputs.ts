import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { workspaceFileNotRegular } from '../cargo/errors.js';
import type { CargoWorkspace } from '../cargo/workspace.js';
import { printable } from '../support/printable.js';
import { describeKind, type FileKind, fileKind, isMissing } from '../support/regular-file.js';
import { tooManyInputs, unreadableInputFile, unreadableInputFolder } from './errors.js';
import { byCodePoint } from './fingerprint.js';
import { FileHashIndex } from './hash-index.js';

/**
 * Collects the build inputs of one binary and hashes each one: the workspace-level files, the
 * manifests it is asked for (scope.ts decides which: none beyond the crate folders, or every
 * member's under resolver 1), Cargo.lock as a file or as the entries the binary's package reaches,
 * and every file under the folders of the crates the binary is built from.
 *
 * Paths are relative to the workspace root with `/` separators, so the result does not depend on
 * where the workspace is checked out. Be conservative: anything under a crate folder is an input
 * unless it is in an excluded folder.
 *
 * Excluded are folders with a name in EXCLUDED_FOLDER_NAMES, at any depth, and the configured
 * dist and cache folders by their real path (not by name: a cache folder `/x/src` must not drop
 * every `src/` from the inputs).
 *
 * Only regular files are read. FIFOs, sockets and devices in a crate folder are never opened (a
 * FIFO would block the walk forever): each is an input by its kind (`special:fifo`), so adding or
 * removing one changes the fingerprint. A file or folder that cannot be read is an error naming
 * it: silently leaving it out would make edits to it cache hits.
 *
 * Each folder is walked once, by its real path. Crate folders are walked first, without
 * following symlinks, so every file in them is an input under its own path; then the symlinks
 * to folders met on the way are followed in walk order, each only if its real folder was not
 * walked yet (otherwise its content is already an input, and the link is recorded by its link
 * text). Without that, symlinks arranged as a fan-out (each folder linking to the next several
 * times) multiply the walk: 36 of them made a million inputs. The number of inputs is capped
 * as well, with an error that says what to do.
 *
 * With a walk memo (one per run), a crate folder that many functions share is walked once per
 * run: the next function's collection reuses what the first recorded (the same files, hashes and
 * stats), so 100 functions over one shared crate cost one walk of it, not 100.
 */

/** Folder names never walked, at any depth: build output, VCS data, and this tool's own output. */
export const EXCLUDED_FOLDER_NAMES: readonly string[] = ['target', '.git', 'node_modules', 'dist', 'cdktf.out', '.cache'];

/** More inputs than this stop the walk with an error (a real crate has thousands at most). */
export const MAX_INPUTS = 200_000;

export interface InputCollection {
  /**
   * Relative path -> content hash: `sha256 hex` for a file, `symlink:<sha256 of the link text>`
   * for a link that is not followed, `special:<kind>` for a FIFO, socket or device.
   */
  readonly inputs: ReadonlyMap<string, string>;
  /**
   * What each input looked like on disk when it was read: relative path -> `size:mtime:ctime:inode`
   * of the file (or of the link, for link text), or its kind. Two snapshots with the same entries
   * mean no input was written, added or removed in between, even if a write put the same bytes
   * back: what the engine compares before and after a compile (inputSnapshotChanges).
   */
  readonly snapshot: ReadonlyMap<string, string>;
  /** How many files were read and hashed (the rest were known to the hash index). */
  readonly hashedFiles: number;
  /** Facts the user should see, e.g. that a configured dist or cache folder lies inside a crate folder. */
  readonly notes: readonly string[];
}

export interface CollectInputsRequest {
  readonly workspace: CargoWorkspace;
  /** Folders (relative to the root) whose every file is an input. */
  readonly crateFolders: readonly string[];
  /**
   * Absolute paths of folders that are never inputs, wherever they are: the configured dist and
   * cache folders. Compared by real path; a crate folder itself is walked even if listed here.
   */
  readonly excludedPaths: readonly string[];
  readonly hashIndex?: FileHashIndex;
  /** The most inputs accepted. @default MAX_INPUTS */
  readonly maxInputs?: number;
  /**
   * Manifests (relative to the root) that are inputs besides those in the crate folders.
   * @default every member's: the whole-workspace rule
   */
  readonly manifests?: readonly string[];
  /**
   * When given, Cargo.lock is an input through these entries (lock-entries.ts) instead of as a
   * whole file; `seen` is the file's stat when it was read, its entry in the snapshot.
   */
  readonly lockEntries?: { readonly inputs: ReadonlyMap<string, string>; readonly seen: string };
  /**
   * What this run already walked (one per run: a crate folder shared by many functions is
   * walked once). @default none: every folder is walked
   */
  readonly walkMemo?: WalkMemo;
}

/** One crate folder's walk: what it recorded, in order, and the symlinks to folders it met. */
interface FolderWalk {
  readonly records: readonly (readonly [relative: string, seen: string, value: string])[];
  readonly linkedFolders: readonly LinkedFolder[];
  readonly walked: readonly string[];
}

interface LinkedFolder {
  readonly relative: string;
  readonly absolute: string;
  readonly real: string;
}

/**
 * What a run learns once: the crate folders it walked (by real path, relative path and
 * exclusions), and the real paths of the workspace root, the crate folders and the configured
 * folders.
 */
export interface WalkMemo {
  readonly folders: Map<string, FolderWalk>;
  readonly realPaths: Map<string, string>;
}

export function newWalkMemo(): WalkMemo {
  return { folders: new Map(), realPaths: new Map() };
}

export function collectInputs(request: CollectInputsRequest): InputCollection {
  const { workspace } = request;
  const root = workspace.root;
  const realPaths = request.walkMemo?.realPaths;
  /** fs.realpathSync, once per path and run (a run's checks ask for the same root and folders). */
  const realPathOf = (p: string): string => {
    const known = realPaths?.get(p);
    if (known !== undefined) return known;
    const real = fs.realpathSync(p);
    realPaths?.set(p, real);
    return real;
  };
  const rootReal = realPathOf(root);
  const excludedNames = new Set(EXCLUDED_FOLDER_NAMES);
  const maxInputs = request.maxInputs ?? MAX_INPUTS;
  const folders = [...request.crateFolders, ...workspace.patchDirs];
  const walkRoots = folders.flatMap((folder) => {
    const absolute = path.join(root, folder);
    try {
      return [{ folder, absolute, real: realPathOf(absolute) }];
    } catch (cause) {
      if (isMissing(cause)) return []; // e.g. a [patch] folder that does not exist: cargo will say so
      throw unreadableInputFolder(folder, absolute, cause);
    }
  });
  const configured = request.excludedPaths.map((given) => {
    try {
      return { given, real: realPathOf(given) };
    } catch {
      return { given, real: path.resolve(given) }; // does not exist (yet)
    }
  });
  // A configured folder that holds a crate folder (a cache folder set to the project root) would
  // exclude the crate's own files: it is not excluded, and a note says so.
  const excluded = configured.filter(({ real }) => !walkRoots.some((r) => isInside(real, r.real)));
  const excludedReal = new Set(excluded.map((e) => e.real));
  const isInsideExcluded = (real: string): boolean => excluded.some((e) => isInside(e.real, real));
  const index = request.hashIndex ?? FileHashIndex.inMemory();
  const inputs = new Map<string, string>();
  const snapshot = new Map<string, string>();
  const exclusionKey = [...excludedReal].sort().join('\0');

  /** Where the walk of the moment records: the whole collection, or one crate folder's memo. */
  type Sink = (relative: string, seen: string, value: () => string) => void;
  const record: Sink = (relative, seen, value) => {
    // A file reached twice (a member manifest, overlapping crate folders) is read once.
    if (inputs.has(relative)) return;
    if (inputs.size >= maxInputs) throw tooManyInputs(maxInputs, folders);
    snapshot.set(relative, seen);
    inputs.set(relative, value());
  };
  const hashInto = (sink: Sink, relative: string, absolute: string, stat: fs.Stats): void =>
    sink(relative, statKey(stat), () => {
      try {
        return index.hashFile(relative, absolute, stat);
      } catch (cause) {
        throw unreadableInputFile(relative, absolute, cause);
      }
    });
  const recordLinkText = (sink: Sink, relative: string, absolute: string): void =>
    sink(
      relative,
      `link ${statKey(fs.lstatSync(absolute))}`,
      () => `symlink:${createHash('sha256').update(fs.readlinkSync(absolute)).digest('hex')}`,
    );
  const recordSpecial = (sink: Sink, relative: string, kind: FileKind): void => sink(relative, `special:${kind}`, () => `special:${kind}`);

  /** Real paths of the folders walked so far: each is walked once. */
  const walked = new Set<string>();
  /** Symlinks to folders met while walking, followed once the crate folders are done. */
  const linkedFolders: LinkedFolder[] = [];

  // A symlink whose target is inside the workspace is followed (the build container sees the
  // target's content, under the link's path); one that points outside is not, and its link text
  // is the input.
  const addSymlink = (sink: Sink, links: LinkedFolder[], relative: string, absolute: string): void => {
    let real: string | undefined;
    try {
      real = fs.realpathSync(absolute);
    } catch {
      real = undefined; // dangling, or a loop of links
    }
    if (real === undefined || !isInside(rootReal, real)) {
      recordLinkText(sink, relative, absolute);
      return;
    }
    if (isInsideExcluded(real)) return;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(real);
    } catch (cause) {
      if (!isMissing(cause)) throw unreadableInputFile(relative, real, cause);
      recordLinkText(sink, relative, absolute); // removed meanwhile
      return;
    }
    const kind = fileKind(stat);
    if (kind === 'file') hashInto(sink, relative, real, stat);
    else if (kind === 'directory') links.push({ relative, absolute, real });
    else recordSpecial(sink, relative, kind);
  };

  const walk = (sink: Sink, links: LinkedFolder[], seenFolders: Set<string>, relative: string, absolute: string, real: string): void => {
    if (seenFolders.has(real)) return;
    seenFolders.add(real);
    index.cover(relative);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(absolute, { withFileTypes: true });
    } catch (cause) {
      if (isMissing(cause)) return; // removed while we walk: nothing there to hash
      throw unreadableInputFolder(relative, absolute, cause);
    }
    entries.sort((a, b) => byCodePoint(a.name, b.name));
    for (const entry of entries) {
      const childRelative = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const childAbsolute = path.join(absolute, entry.name);
      const kind = fileKind(entry);
      if (kind === 'directory') {
        // An entry that is not a symlink has the real path of its folder plus its name.
        const childReal = path.join(real, entry.name);
        // Folders are entered top-down, so an excluded folder is met as itself before anything in it.
        if (!excludedNames.has(entry.name) && !excludedReal.has(childReal))
          walk(sink, links, seenFolders, childRelative, childAbsolute, childReal);
      } else if (kind === 'symlink') {
        if (!excludedNames.has(entry.name)) addSymlink(sink, links, childRelative, childAbsolute);
      } else if (kind === 'file') {
        let stat: fs.Stats;
        try {
          stat = fs.lstatSync(childAbsolute);
        } catch (cause) {
          if (isMissing(cause)) continue; // removed while we walk
          throw unreadableInputFile(childRelative, childAbsolute, cause);
        }
        if (stat.isFile()) hashInto(sink, childRelative, childAbsolute, stat);
        else recordSpecial(sink, childRelative, fileKind(stat)); // replaced meanwhile: never opened
      } else {
        recordSpecial(sink, childRelative, kind);
      }
    }
  };

  /**
   * One crate folder, walked without following symlinks to folders (they are collected), from
   * the run's memo when another function of the run walked it already.
   */
  const walkCrateFolder = (folder: string, absolute: string, real: string): FolderWalk => {
    const key = `${real}\0${folder}\0${exclusionKey}`;
    const known = request.walkMemo?.folders.get(key);
    if (known) return known;
    const records: [string, string, string][] = [];
    const links: LinkedFolder[] = [];
    const seenFolders = new Set<string>();
    const recorded = new Set<string>();
    walk(
      (relative, seen, value) => {
        if (recorded.has(relative)) return;
        if (records.length >= maxInputs) throw tooManyInputs(maxInputs, folders);
        recorded.add(relative);
        records.push([relative, seen, value()]);
      },
      links,
      seenFolders,
      folder,
      absolute,
      real,
    );
    const result: FolderWalk = { records, linkedFolders: links, walked: [...seenFolders] };
    request.walkMemo?.folders.set(key, result);
    return result;
  };

  // The workspace-level files and manifests: cargo-workspace.ts has refused any that is not a
  // regular file; one replaced since then is refused here, never opened.
  const addFile = (relative: string): void => {
    const absolute = path.join(root, relative);
    index.cover(relative);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(absolute);
    } catch {
      return; // Listed by the workspace but absent: cargo will say so; nothing to hash.
    }
    const kind = fileKind(stat);
    if (kind === 'symlink') addSymlink(record, linkedFolders, relative, absolute);
    else if (kind === 'file') hashInto(record, relative, absolute, stat);
    else throw workspaceFileNotRegular(relative, absolute, describeKind(kind));
  };

  const { lockEntries } = request;
  for (const file of workspace.rootFiles) {
    if (file === 'Cargo.lock' && lockEntries) {
      // One snapshot entry, the file's stat when its entries were read: it covers all of them.
      snapshot.set(file, lockEntries.seen);
      for (const [key, value] of lockEntries.inputs) inputs.set(key, value);
    } else {
      addFile(file);
    }
  }
  for (const manifest of request.manifests ?? workspace.members.map((m) => (m.dir === '' ? 'Cargo.toml' : `${m.dir}/Cargo.toml`))) {
    addFile(manifest);
  }
  for (const { folder, absolute, real } of walkRoots) {
    if (walked.has(real)) continue;
    const result = walkCrateFolder(folder, absolute, real);
    for (const [relative, seen, value] of result.records) record(relative, seen, () => value);
    for (const folderReal of result.walked) walked.add(folderReal);
    linkedFolders.push(...result.linkedFolders);
  }
  // Breadth-first over the links: a link found inside a linked folder is followed after the
  // links found before it. The first in that order wins a folder; later ones are link text.
  for (let i = 0; i < linkedFolders.length; i++) {
    const link = linkedFolders[i]!;
    if (walked.has(link.real)) recordLinkText(record, link.relative, link.absolute);
    else walk(record, linkedFolders, walked, link.relative, link.absolute, link.real);
  }
  index.save();

  const sorted = new Map([...inputs.entries()].sort(([a], [b]) => byCodePoint(a, b)));
  return { inputs: sorted, snapshot, hashedFiles: index.hashedFiles, notes: excludedFolderNotes(configured, walkRoots) };
}

/** What a stat says about a file's content, as git's index reads it: size, mtime, ctime, inode. */
function statKey(stat: fs.Stats): string {
  return `${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}:${stat.ino}`;
}

/**
 * The inputs written, added or removed between two snapshots (see InputCollection.snapshot), by
 * path, sorted; empty when the inputs stayed exactly as they were.
 */
export function inputSnapshotChanges(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const changed = new Set<string>();
  for (const [file, seen] of after) if (before.get(file) !== seen) changed.add(file);
  for (const file of before.keys()) if (!after.has(file)) changed.add(file);
  return [...changed].sort(byCodePoint);
}

/**
 * Says when a configured dist or cache folder lies inside a crate folder (its files are then not
 * inputs, though they are in a crate folder), or holds one (then it is not excluded at all). A
 * folder whose name is excluded anyway (`dist`, `.cache`) inside a crate folder is not worth a
 * note: its name alone leaves it out.
 */
function excludedFolderNotes(
  configured: readonly { readonly given: string; readonly real: string }[],
  walkRoots: readonly { readonly folder: string; readonly real: string }[],
): string[] {
  const notes: string[] = [];
  for (const { given, real } of configured) {
    const holds = walkRoots.find((r) => isInside(real, r.real));
    if (holds) {
      notes.push(
        `the configured folder ${printable(given)} holds the crate folder ${printable(holds.folder || '.')}: it is not left out of the inputs`,
      );
      continue;
    }
    const inside = walkRoots.find((r) => isInside(r.real, real));
    if (inside && !EXCLUDED_FOLDER_NAMES.includes(path.basename(real))) {
      notes.push(
        `the configured folder ${printable(given)} lies inside the crate folder ${printable(inside.folder || '.')}: its files are not inputs, so editing them never causes a rebuild`,
      );
    }
  }
  return notes;
}

/** Whether `candidate` is `root` or inside it; both are absolute, normalized paths (real paths here). */
function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  return candidate.startsWith(root.endsWith(path.sep) ? root : `${root}${path.sep}`);
}
