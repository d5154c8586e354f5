import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlive } from './processes.js';

/*
 * Writes a file so that readers see either the old content or the new, never a part: the data
 * goes to a temporary file in the same folder (same file system, so the rename is atomic) and
 * is flushed before it is renamed over the target. A process killed at any moment leaves at
 * most a stray temporary file, which writes ignore and removeAbandonedTemporaries removes.
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

/** A sibling path for in-progress output of `file`, unique per process and call: `.<name>.<pid>.<n>.tmp`. */
function temporaryPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter++}.tmp`);
}

/**
 * Removes the temporary files of `file` left by processes that were killed mid-write (the
 * rename never happened). Only files of processes that are gone are removed.
 */
export function removeAbandonedTemporaries(file: string): void {
  const folder = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let entries: string[];
  try {
    entries = fs.readdirSync(folder);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.tmp')) continue;
    const [pid, n, ...rest] = entry.slice(prefix.length, -'.tmp'.length).split('.');
    if (rest.length > 0 || !/^\d+$/.test(pid ?? '') || !/^\d+$/.test(n ?? '')) continue;
    if (Number(pid) !== process.pid && !isAlive(Number(pid))) fs.rmSync(path.join(folder, entry), { force: true });
  }
}

let counter = 0;
