// Zips for the invoke tests, built in memory (fflate) and then damaged on purpose.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Zippable, zipSync } from 'fflate';

/** A zip of `files`, deflated unless `level` is 0; every entry is an executable (mode 0755). */
export function makeZip(files: Record<string, string | Uint8Array>, level: 0 | 6 = 6): Buffer {
  const entries: Zippable = {};
  for (const [name, content] of Object.entries(files)) {
    entries[name] = [typeof content === 'string' ? Buffer.from(content) : content, { level, os: 3, attrs: 0o100755 << 16 }];
  }
  return Buffer.from(zipSync(entries, { mtime: new Date('2020-01-01T00:00:00Z') }));
}

/** Offset of the central-directory header of entry `index` (0-based). */
export function centralEntryOffset(zip: Buffer, index = 0): number {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < index; i++) at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  return at;
}

/** A copy of `zip` whose central directory declares `size` as entry `index`'s unzipped size. */
export function withDeclaredSize(zip: Buffer, size: number, index = 0): Buffer {
  const copy = Buffer.from(zip);
  copy.writeUInt32LE(size, centralEntryOffset(copy, index) + 24);
  return copy;
}

/** Writes `bytes` to a fresh temporary file and returns its path; `cleanup()` removes them all. */
export function tempFiles(): { write(name: string, bytes: Uint8Array): string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-zip-test-'));
  return {
    write(name, bytes) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes, { mode: 0o644 });
      return file;
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
