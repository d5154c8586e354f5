import * as fs from 'node:fs';

/**
 * Reading a path the workspace names, without being stalled or fooled by what is there. A FIFO
 * opened for reading blocks until a writer comes (the fast path hung forever on a FIFO named
 * `Cargo.toml`), and a device can have side effects when opened. So callers look at a path's
 * kind before they open it, and `readRegularFile` opens without blocking and checks the kind
 * again on the open descriptor, so a file swapped for a FIFO in between is refused, not waited on.
 */

export type FileKind = 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'char-device' | 'block-device' | 'unknown';

/** The kind of a file from its stats or directory entry. */
export function fileKind(entry: fs.Stats | fs.Dirent): FileKind {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'directory';
  if (entry.isSymbolicLink()) return 'symlink';
  if (entry.isFIFO()) return 'fifo';
  if (entry.isSocket()) return 'socket';
  if (entry.isCharacterDevice()) return 'char-device';
  if (entry.isBlockDevice()) return 'block-device';
  return 'unknown';
}

/** Words for a kind, for messages: "a FIFO", "a folder". */
export function describeKind(kind: FileKind): string {
  return {
    file: 'a regular file',
    directory: 'a folder',
    symlink: 'a symlink',
    fifo: 'a FIFO (named pipe)',
    socket: 'a socket',
    'char-device': 'a character device',
    'block-device': 'a block device',
    unknown: 'not a regular file',
  }[kind];
}

/** Thrown by readRegularFile when the path is something other than a regular file. */
export class NotRegularFileError extends Error {
  constructor(
    readonly file: string,
    readonly kind: FileKind,
  ) {
    super(`${file} is ${describeKind(kind)}, not a regular file`);
    this.name = 'NotRegularFileError';
  }
}

/**
 * The kind of what `file` names, following symlinks (a symlink to a regular file is a regular
 * file), or undefined when nothing is there (including a dangling symlink).
 */
export function kindOf(file: string): FileKind | undefined {
  try {
    return fileKind(fs.statSync(file));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** The content of `file`, which must be a regular file (or a symlink to one). */
export function readRegularFile(file: string): Buffer {
  return readRegularFileWithStat(file).bytes;
}

/**
 * The content of `file` and the stat of the very file read (taken on the open descriptor, so a
 * file renamed into place meanwhile cannot pair one file's stat with another's bytes).
 */
export function readRegularFileWithStat(file: string): { readonly bytes: Buffer; readonly stat: fs.Stats } {
  // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; O_NOCTTY: a
  // terminal device never becomes this process's controlling terminal. Neither changes how a
  // regular file is read.
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  try {
    const stat = fs.fstatSync(fd);
    const kind = fileKind(stat);
    if (kind !== 'file') throw new NotRegularFileError(file, kind);
    return { bytes: fs.readFileSync(fd), stat };
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether a file system error means "nothing is there" (so a caller may treat it as absent). */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
