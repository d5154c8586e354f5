import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../support/atomic-write.js';
import { readRegularFile } from '../support/regular-file.js';

/*
 * A per-file content-hash cache, kept between runs the way git's index is: a file whose size,
 * mtime, ctime and inode are what they were when it was hashed is not read again. This is what
 * makes the repeated fast path cost a `stat` per input instead of a read.
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
    const known = this.previous[key];
    if (known && known[0] === stat.size && known[1] === stat.mtimeMs && known[2] === stat.ctimeMs && known[3] === stat.ino) {
      this.seen.set(key, known);
      return known[4];
    }
    const hash = createHash('sha256').update(readRegularFile(absolutePath)).digest('hex');
    this.hashedFiles++;
    this.changed = true;
    if (Date.now() - stat.mtimeMs > RACY_WINDOW_MS) {
      this.seen.set(key, [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, hash]);
    }
    return hash;
  }

  /**
   * Writes the index back if anything changed: new hashes, or files that are gone (entries are
   * kept only for files seen in this run, so the index does not grow without bound).
   */
  save(): void {
    if (!this.file) return;
    if (!this.changed && this.seen.size === Object.keys(this.previous).length) return;
    const entries: Record<string, Entry> = {};
    for (const [key, entry] of this.seen) entries[key] = entry;
    try {
      writeFileAtomic(this.file, JSON.stringify({ version: INDEX_VERSION, entries } satisfies IndexFile));
    } catch {
      // The index is an optimisation; failing to write it must not fail the build.
    }
  }
}
