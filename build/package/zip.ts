import { zipSync } from 'fflate';
import { LAMBDA_ENTRY_POINT } from '../options/schema.js';

/*
 * The Lambda zip: one entry, `bootstrap`, at the root, mode 0755, a fixed timestamp and fixed
 * compression, so the same binary always gives a byte-identical zip (and so the same asset hash
 * and no Terraform diff).
 *
 * fflate writes it: its deflate is pure JavaScript (the bytes do not depend on the machine's
 * zlib), and it takes the entry's mtime, "made by" OS and attributes explicitly.
 */
export const ZIP_ENTRY_NAME = LAMBDA_ENTRY_POINT;
/** Regular file (0o100000), rwxr-xr-x: Lambda executes `bootstrap`. */
export const ZIP_ENTRY_MODE = 0o100755;
/**
 * fflate's deflate level, chosen by measurement (`npm run bench -- --only=fleet` prints it for a
 * 10.4 MiB Rust binary): level 9 took 854 ms, level 6 476 ms for a zip 0.16% larger, level 5
 * 322 ms for 0.97% larger, level 1 233 ms for 7.2% larger. Level 5 packs a third faster than 6
 * for 35 KB more per 3.7 MiB zip, and packaging, not upload, is what every cold build and every
 * edit waits for. Changing it changes every zip: bump ENGINE_PACKAGING_VERSION.
 */
export const DEFLATE_LEVEL = 5;
const MADE_BY_UNIX = 3;

/**
 * fflate's options for the one entry, in one place: the in-process zip and the packaging pool's
 * workers (pool.ts) both use exactly these.
 */
export function zipEntryOptions(): { level: typeof DEFLATE_LEVEL; mtime: Date; os: number; attrs: number } {
  return {
    level: DEFLATE_LEVEL,
    // fflate converts the Date to a DOS timestamp using the *local* fields; a Date built
    // from local fields gives 1980-01-01 00:00 in every timezone.
    mtime: new Date(1980, 0, 1, 0, 0, 0),
    os: MADE_BY_UNIX,
    // Unix mode in the high 16 bits of the external attributes.
    attrs: (ZIP_ENTRY_MODE << 16) >>> 0,
  };
}

export function createLambdaZip(binary: Uint8Array): Uint8Array {
  return zipSync({ [ZIP_ENTRY_NAME]: [binary, zipEntryOptions()] }, {});
}

export interface ZipEntry {
  readonly name: string;
  /** Unix mode from the external attributes when the entry was made on Unix, else undefined. */
  readonly unixMode: number | undefined;
  readonly compressedSize: number;
  readonly size: number;
}

/**
 * Lists a zip's entries from its central directory. Used to check the zip we wrote (and any
 * zip the user points at) before it is committed as good.
 */
export function listZipEntries(zip: Uint8Array): ZipEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = findEndOfCentralDirectory(view);
  if (eocd < 0) throw new Error('not a zip file (no end of central directory record)');
  const count = view.getUint16(eocd + 10, true);
  let offset = view.getUint32(eocd + 16, true);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (offset + 46 > zip.byteLength || view.getUint32(offset, true) !== 0x02014b50) {
      throw new Error(`damaged zip: central directory entry ${i} at offset ${offset} is invalid`);
    }
    const madeBy = view.getUint8(offset + 5);
    const compressedSize = view.getUint32(offset + 20, true);
    const size = view.getUint32(offset + 24, true);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const external = view.getUint32(offset + 38, true);
    const name = new TextDecoder().decode(zip.subarray(offset + 46, offset + 46 + nameLength));
    entries.push({ name, unixMode: madeBy === MADE_BY_UNIX ? external >>> 16 : undefined, compressedSize, size });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function findEndOfCentralDirectory(view: DataView): number {
  // The record is 22 bytes plus a comment of up to 65535 bytes, at the very end.
  const last = view.byteLength - 22;
  for (let at = last; at >= Math.max(0, last - 65535); at--) {
    if (view.getUint32(at, true) === 0x06054b50) return at;
  }
  return -1;
}
