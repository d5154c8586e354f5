import * as fs from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/*
 * The one zip reader: what a Lambda zip holds, read without trusting the zip. The central
 * directory is parsed first (the entries' names, modes and declared sizes), so a caller can
 * refuse a zip over Lambda's unzipped limit before anything is inflated; an entry is then
 * inflated with its declared size as a hard cap (zlib stops there), so a lying or hostile zip
 * costs at most that much memory, and its length and CRC-32 are checked against the directory.
 * Every defect is a ZipFormatError naming it; callers turn it into their own message.
 *
 * Only what a Lambda zip needs is supported: one disk, no ZIP64, stored or deflated entries, no
 * encryption. A zip is read at positions (end record, directory, the one entry), from memory or
 * from an open file, so a large zip on disk is never loaded whole.
 */

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
/** The end record may be followed by a comment of up to 65535 bytes. */
const MAX_COMMENT = 0xffff;
/** "Made by" host 3: Unix, whose mode is in the high 16 bits of the external attributes. */
const MADE_BY_UNIX = 3;

/** One central-directory entry, as declared. */
export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
  /** Unix mode from the external attributes when the entry was made on Unix, else undefined. */
  readonly unixMode: number | undefined;
}

/** A defect of a zip: truncated, damaged, or using what a Lambda zip never needs. */
export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

/** Where a zip's bytes are read from: memory, or an open file. */
export interface ZipBytes {
  readonly size: number;
  /** `length` bytes at `position`; `what` names them in the error when they run past the end. */
  read(position: number, length: number, what: string): Buffer;
}

/** A zip held in memory. */
export function zipInMemory(bytes: Uint8Array): ZipBytes {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    size: buffer.length,
    read: (position, length, what) => {
      checkRange(position, length, buffer.length, what);
      return buffer.subarray(position, position + length);
    },
  };
}

/** Runs `work` on the zip file at `zipPath`, read at positions; a file that cannot be opened is a ZipFormatError. */
export function withZipFile<T>(zipPath: string, work: (zip: ZipBytes) => T): T {
  let fd: number;
  try {
    fd = fs.openSync(zipPath, 'r');
  } catch (cause) {
    throw new ZipFormatError((cause as Error).message);
  }
  try {
    const size = fs.fstatSync(fd).size;
    return work({
      size,
      read: (position, length, what) => {
        checkRange(position, length, size, what);
        const buffer = Buffer.alloc(length);
        let done = 0;
        while (done < length) {
          const n = fs.readSync(fd, buffer, done, length - done, position + done);
          if (n === 0) throw new ZipFormatError(`truncated: ${what} runs past the end of the file`);
          done += n;
        }
        return buffer;
      },
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** The entries of a zip in memory (throws a ZipFormatError for one that is not a zip). */
export function listZipEntries(bytes: Uint8Array): ZipEntry[] {
  return readCentralDirectory(zipInMemory(bytes));
}

/** What the entries add up to unzipped, as their headers declare. */
export function unzippedSize(entries: readonly ZipEntry[]): number {
  return entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
}

function checkRange(position: number, length: number, size: number, what: string): void {
  if (position < 0 || length < 0 || position + length > size) {
    throw new ZipFormatError(`truncated: ${what} runs past the end of the file (${size} bytes)`);
  }
}

/** Finds the end-of-central-directory record and parses every entry it points to. */
export function readCentralDirectory(zip: ZipBytes): ZipEntry[] {
  const damaged = (reason: string) => new ZipFormatError(reason);
  const fileSize = zip.size;
  if (fileSize < EOCD_SIZE) throw damaged(`not a zip file (${fileSize} bytes, too short for a zip's end record)`);
  const tailLength = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
  const tailStart = fileSize - tailLength;
  const tail = zip.read(tailStart, tailLength, 'end record');
  // Search backwards; the record is genuine only if its comment ends exactly at the file's end
  // (a signature-like sequence inside a comment or data would not).
  let eocd = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE && i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw damaged('no end-of-central-directory record: the file is truncated or not a zip');
  const disk = tail.readUInt16LE(eocd + 4);
  const directoryDisk = tail.readUInt16LE(eocd + 6);
  const entriesOnDisk = tail.readUInt16LE(eocd + 8);
  const entryCount = tail.readUInt16LE(eocd + 10);
  const directorySize = tail.readUInt32LE(eocd + 12);
  const directoryOffset = tail.readUInt32LE(eocd + 16);
  if (entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    throw damaged('ZIP64 archives are not supported (a Lambda zip never needs one)');
  }
  if (disk !== 0 || directoryDisk !== 0 || entriesOnDisk !== entryCount) {
    throw damaged('multi-disk (split) archives are not supported');
  }
  const eocdPosition = tailStart + eocd;
  if (directoryOffset + directorySize > eocdPosition) {
    throw damaged('the central directory overlaps the end record: the file is truncated or damaged');
  }
  const directory = zip.read(directoryOffset, directorySize, 'central directory');
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let index = 0; index < entryCount; index++) {
    if (at + CENTRAL_HEADER_SIZE > directory.length || directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) {
      throw damaged(`central directory entry ${index + 1} of ${entryCount} is missing or damaged`);
    }
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const end = at + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
    if (end > directory.length) throw damaged(`central directory entry ${index + 1} of ${entryCount} is cut short`);
    const madeBy = directory.readUInt8(at + 5);
    entries.push({
      unixMode: madeBy === MADE_BY_UNIX ? directory.readUInt32LE(at + 38) >>> 16 : undefined,
      flags: directory.readUInt16LE(at + 8),
      method: directory.readUInt16LE(at + 10),
      crc32: directory.readUInt32LE(at + 16),
      compressedSize: directory.readUInt32LE(at + 20),
      uncompressedSize: directory.readUInt32LE(at + 24),
      localHeaderOffset: directory.readUInt32LE(at + 42),
      name: directory.toString('utf8', at + CENTRAL_HEADER_SIZE, at + CENTRAL_HEADER_SIZE + nameLength),
    });
    at = end;
  }
  return entries;
}

/** The bytes of one entry, inflated with its declared size as a cap and checked against its CRC-32. */
export function inflateEntry(zip: ZipBytes, entry: ZipEntry): Buffer {
  const damaged = (reason: string) => new ZipFormatError(reason);
  const label = `entry ${entry.name}`;
  if (entry.flags & 0x1) throw damaged(`${label} is encrypted`);
  const local = zip.read(entry.localHeaderOffset, LOCAL_HEADER_SIZE, `${label}'s local header`);
  if (local.readUInt32LE(0) !== LOCAL_SIGNATURE) throw damaged(`${label}'s local header is missing or damaged`);
  const dataStart = entry.localHeaderOffset + LOCAL_HEADER_SIZE + local.readUInt16LE(26) + local.readUInt16LE(28);
  // Sizes come from the central directory: with a data descriptor (flag bit 3) the local header's are 0.
  const compressed = zip.read(dataStart, entry.compressedSize, `${label}'s data`);
  let data: Buffer;
  if (entry.method === 0) {
    data = compressed;
  } else if (entry.method === 8) {
    try {
      // maxOutputLength makes zlib stop at the declared size instead of trusting the stream.
      data = entry.uncompressedSize === 0 ? Buffer.alloc(0) : inflateRawSync(compressed, { maxOutputLength: entry.uncompressedSize });
    } catch (cause) {
      const why = (cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? 'inflates to more than' : 'does not inflate to';
      throw damaged(`${label} ${why} its declared ${entry.uncompressedSize} bytes (${(cause as Error).message})`);
    }
  } else {
    throw damaged(`${label} uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);
  }
  if (data.length !== entry.uncompressedSize) {
    throw damaged(`${label} holds ${data.length} bytes, its header declares ${entry.uncompressedSize}`);
  }
  if (crc32(data) !== entry.crc32) throw damaged(`${label} fails its CRC-32 check`);
  return data;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE), as zip uses; zlib.crc32 needs Node 20.15+, and this project supports all of 20. */
export function crc32(data: Uint8Array): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
