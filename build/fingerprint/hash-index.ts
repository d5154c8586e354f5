import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../support/atomic-write.js';
import { readRegularFile } from '../support/regular-file.js';

/*
 * A per-file content-hash cache, kept between runs the way git's index is: a file whose size,
 * mtime, ctime and inode are what they were when it was hashed is not read again. This is what
 * makes the repeated fast path cost a `stat` per input instead of a read. One index serves every
 * artifact of a workspace (keys are paths relative to the workspace root); the zips in dist/ are
 * kept in it too, by absolute path (a key no relative path can be), once verified (check.ts).
 *
 * "Racy" entries are never stored: a file modified less than RACY_WINDOW_MS before it was hashed
 * could be modified again within the same timestamp tick without its stat changing, so it is
 * hashed again next time (git does the same for files as new as its index).
 *
 * Files are read only if they are regular files (readRegularFile): a FIFO swapped in for a
 * source file, or for the index itself, is refused instead of blocking the process.
 */
const INDEX_VERSION = 1;
const RACY_WINDOW_MS = 2000;

/** [size, mtimeMs, ctimeMs, inode, sha256 hex] */
type Entry = [number, number, number, number, string];

interface IndexFile {
  readonly version: number;
  readonly entries: Record<string, Entry>;
}

export interface FileStat {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
}

export class FileHashIndex {
  private readonly seen = new Map<string, Entry>();
  private changed = false;
  /** Folders and files this run looked at since the last save (see cover). */
  private readonly covered = new Set<string>();
  /** The previous entries by parent folder, made on the first save that needs it. */
  private byParent: Map<string, string[]> | undefined;
  private readonly dropped = new Set<string>();
  /** How many files were read and hashed in this run (the rest came from the index). */
  hashedFiles = 0;

  private constructor(
    private readonly file: string | undefined,
    private readonly previous: Record<string, Entry>,
  ) {}

  /** Loads the index at `file`; a missing or damaged index is an empty one (it is only a cache). */
  static load(file: string): FileHashIndex {
    try {
      const parsed = JSON.parse(readRegularFile(file).toString('utf8')) as IndexFile;
      if (parsed.version === INDEX_VERSION && parsed.entries && typeof parsed.entries === 'object') {
        return new FileHashIndex(file, parsed.entries);
      }
    } catch {
      // Missing, unreadable or not a regular file: start empty.
    }
    return new FileHashIndex(file, {});
  }

  /** An index that remembers nothing between runs. */
  static inMemory(): FileHashIndex {
    return new FileHashIndex(undefined, {});
  }

  /**
   * The SHA-256 (hex) of the file's content, from the index when its stat is unchanged. Throws
   * the file system's error (or NotRegularFileError) when the file cannot be read as a regular
   * file; the caller knows how to name it to the user.
   */
  hashFile(key: string, absolutePath: string, stat: FileStat): string {
    const known = this.known(key, stat);
    if (known !== undefined) return known;
    const hash = createHash('sha256').update(readRegularFile(absolutePath)).digest('hex');
    this.hashedFiles++;
    this.remember(key, stat, hash);
    return hash;
  }

  /** The hash stored for `key` when its stat is the one stored with it, else undefined. */
  known(key: string, stat: FileStat): string | undefined {
    const entry = this.seen.get(key) ?? this.previous[key];
    if (entry && entry[0] === stat.size && entry[1] === stat.mtimeMs && entry[2] === stat.ctimeMs && entry[3] === stat.ino) {
      this.seen.set(key, entry);
      return entry[4];
    }
    return undefined;
  }

  /** Stores `hash` as the content of `key` while its stat stays `stat`, unless the file is too new to be trusted. */
  remember(key: string, stat: FileStat, hash: string): void {
    if (Date.now() - stat.mtimeMs <= RACY_WINDOW_MS) return; // its previous entry, if any, is dropped at save
    this.seen.set(key, [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, hash]);
    this.changed = true;
  }

  /**
   * Says that this run looked at `key` (a file), or at every file of the folder `key`: an entry
   * under it that was not seen is of a file that is gone, and is dropped at the next save.
   */
  cover(key: string): void {
    this.covered.add(key);
  }

  /**
   * Writes the index back if anything changed: new hashes, or entries of files that are gone.
   * The index is shared by every artifact of a workspace, so entries this run did not look at
   * (another function's files) are kept; it does not grow without bound, since an entry under a
   * folder the run walked, or of a file it looked at, is kept only if the run saw it.
   */
  save(): void {
    if (this.covered.size > 0) {
      this.byParent ??= groupByParent(Object.keys(this.previous));
      for (const key of this.covered) {
        for (const candidate of [key, ...(this.byParent.get(key) ?? [])]) {
          if (candidate in this.previous && !this.seen.has(candidate) && !this.dropped.has(candidate)) {
            this.dropped.add(candidate);
            this.changed = true;
          }
        }
      }
      this.covered.clear();
    }
    if (!this.file || !this.changed) return;
    this.changed = false;
    const entries: Record<string, Entry> = {};
    for (const [key, entry] of Object.entries(this.previous)) if (!this.dropped.has(key)) entries[key] = entry;
    for (const [key, entry] of this.seen) entries[key] = entry;
    try {
      writeFileAtomic(this.file, JSON.stringify({ version: INDEX_VERSION, entries } satisfies IndexFile));
    } catch {
      // The index is an optimisation; failing to write it must not fail the build.
    }
  }
}

/** Keys by the folder that holds them ('' for the root). */
function groupByParent(keys: readonly string[]): Map<string, string[]> {
  const byParent = new Map<string, string[]>();
  for (const key of keys) {
    const slash = key.lastIndexOf('/');
    const parent = slash < 0 ? '' : key.slice(0, slash);
    const list = byParent.get(parent);
    if (list) list.push(key);
    else byParent.set(parent, [key]);
  }
  return byParent;
}
