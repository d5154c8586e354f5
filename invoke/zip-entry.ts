/**
 * Reads one entry out of a Lambda zip without trusting the zip. The central directory is read
 * first and the sum of every entry's declared size is checked against Lambda's unzipped limit
 * before anything is inflated; the entry is then inflated with its declared size as a hard cap
 * (zlib stops there), so a lying or hostile zip costs at most that much memory. Its length and
 * CRC-32 are checked against the directory. Every defect is one SweepError naming it, never a
 * stack trace from deep inside a decompressor.
 *
 * Only what a Lambda zip needs is supported: one disk, no ZIP64, stored or deflated entries, no
 * encryption. The file is read with positioned reads (end record, directory, the one entry), so
 * a large zip is never loaded whole.
 */
import * as fs from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { zipDamaged, zipTooLargeUnzipped } from './errors.js';
import { UNZIPPED_SIZE_LIMIT_BYTES } from './limits.js';

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
/** The end record may be followed by a comment of up to 65535 bytes. */
const MAX_COMMENT = 0xffff;

/** One central-directory entry, as declared. */
export interface ZipEntryInfo {
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

export interface ReadZipEntryOptions {
  /** Refuse the zip when its entries add up to this many bytes or more. Default: Lambda's limit. */
  readonly unzippedLimitBytes?: number;
}

/**
 * The bytes of entry `name`, or undefined when the zip (checked whole) has no such entry.
 * Throws a SweepError for a zip over the unzipped limit or one that is truncated or damaged.
 */
export function readZipEntry(zipPath: string, name: string, options: ReadZipEntryOptions = {}): Buffer | undefined {
  const limit = options.unzippedLimitBytes ?? UNZIPPED_SIZE_LIMIT_BYTES;
  const damaged = (reason: string) => zipDamaged(zipPath, reason);
  let fd: number;
  try {
    fd = fs.openSync(zipPath, 'r');
  } catch (cause) {
    throw damaged((cause as Error).message);
  }
  try {
    const fileSize = fs.fstatSync(fd).size;
    const entries = readCentralDirectory(fd, fileSize, damaged);
    const total = entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
    if (total >= limit) throw zipTooLargeUnzipped(zipPath, total, limit);
    const entry = entries.find((e) => e.name === name);
    if (!entry) return undefined;
    return inflateEntry(fd, fileSize, entry, damaged);
  } finally {
    fs.closeSync(fd);
  }
}

type Damaged = (reason: string) => Error;

function readAt(fd: number, position: number, length: number, fileSize: number, damaged: Damaged, what: string): Buffer {
  if (position < 0 || length < 0 || position + length > fileSize) {
    throw damaged(`truncated: ${what} runs past the end of the file (${fileSize} bytes)`);
  }
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) throw damaged(`truncated: ${what} runs past the end of the file`);
    done += n;
  }
  return buffer;
}

/** Finds the end-of-central-directory record and parses every entry it points to. */
function readCentralDirectory(fd: number, fileSize: number, damaged: Damaged): ZipEntryInfo[] {
  if (fileSize < EOCD_SIZE) throw damaged(`not a zip file (${fileSize} bytes, too short for a zip's end record)`);
  const tailLength = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
  const tailStart = fileSize - tailLength;
  const tail = readAt(fd, tailStart, tailLength, fileSize, damaged, 'end record');
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
  const directory = readAt(fd, directoryOffset, directorySize, fileSize, damaged, 'central directory');
  const entries: ZipEntryInfo[] = [];
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
    entries.push({
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

function inflateEntry(fd: number, fileSize: number, entry: ZipEntryInfo, damaged: Damaged): Buffer {
  const label = `entry ${entry.name}`;
  if (entry.flags & 0x1) throw damaged(`${label} is encrypted`);
  const local = readAt(fd, entry.localHeaderOffset, LOCAL_HEADER_SIZE, fileSize, damaged, `${label}'s local header`);
  if (local.readUInt32LE(0) !== LOCAL_SIGNATURE) throw damaged(`${label}'s local header is missing or damaged`);
  const dataStart = entry.localHeaderOffset + LOCAL_HEADER_SIZE + local.readUInt16LE(26) + local.readUInt16LE(28);
  // Sizes come from the central directory: with a data descriptor (flag bit 3) the local header's are 0.
  const compressed = readAt(fd, dataStart, entry.compressedSize, fileSize, damaged, `${label}'s data`);
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
