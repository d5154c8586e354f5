import * as fs from 'node:fs';
import * as path from 'node:path';

/*
 * Writes a file so that readers see either the old content or the new, never a part: the data
 * goes to a temporary file in the same folder (same file system, so the rename is atomic) and
 * is flushed before it is renamed over the target. A process killed at any moment leaves at
 * most a stray temporary file, which the next write in that folder ignores.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode?: number): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const temporary = temporaryPathFor(file);
  try {
    const fd = fs.openSync(temporary, 'w', mode ?? 0o644);
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

/** A sibling path for in-progress output of `file`, unique per process and call. */
export function temporaryPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter++}.tmp`);
}

let counter = 0;
