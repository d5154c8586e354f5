// readZipEntry: the central directory is checked before anything is inflated, and a damaged zip
// is one SweepError, never a decompressor's stack trace.
import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { UNZIPPED_LIMIT_BYTES as UNZIPPED_SIZE_LIMIT_BYTES } from '../../build/package/lambda-limits.js';
import { crc32 } from '../../build/package/zip-read.js';
import { SweepError } from '../../build/support/errors.js';
import { readZipEntry } from '../../invoke/zip-entry.js';
import { sweepError } from '../helpers/errors.js';
import { centralEntryOffset, makeZip, tempFiles, withDeclaredSize } from './zip-fixtures.js';

let files: ReturnType<typeof tempFiles>;
beforeEach(() => {
  files = tempFiles();
});
afterEach(() => files.cleanup());

/** Incompressible, so a zip of it is larger than the binary and can be cut in the middle. */
const BINARY = randomBytes(5000);

describe('readZipEntry', () => {
  it('returns the entry of a deflated zip and of a stored one, and undefined for a missing name', () => {
    const deflated = files.write('deflated.zip', makeZip({ bootstrap: BINARY, 'lib/x.so': 'x' }));
    expect(readZipEntry(deflated, 'bootstrap')).toEqual(BINARY);
    const stored = files.write('stored.zip', makeZip({ bootstrap: BINARY }, 0));
    expect(readZipEntry(stored, 'bootstrap')).toEqual(BINARY);
    expect(readZipEntry(stored, 'main')).toBeUndefined();
  });

  it("refuses a zip whose entries add up to Lambda's 250 MB unzipped limit, before inflating any", () => {
    expect(UNZIPPED_SIZE_LIMIT_BYTES).toBe(262_144_000);
    // Two entries just under the limit each, together over it; the declared sizes are lies, so
    // anything that inflated first would fail differently.
    const zip = withDeclaredSize(withDeclaredSize(makeZip({ bootstrap: BINARY, other: 'x' }), 200_000_000, 0), 62_144_000, 1);
    const file = files.write('huge.zip', zip);
    const error = sweepError(() => readZipEntry(file, 'bootstrap'));
    expect(error.stage).toBe('invoke');
    expect(error.problem).toBe(`${file} unzips to 262144000 bytes; Lambda refuses code of 262144000 bytes or more unzipped`);
    // One byte under is fine as far as the limit goes (then the lie about the size is caught).
    const under = files.write('under.zip', withDeclaredSize(makeZip({ bootstrap: BINARY }), UNZIPPED_SIZE_LIMIT_BYTES - 1));
    expect(sweepError(() => readZipEntry(under, 'bootstrap')).problem).toMatch(
      /entry bootstrap holds 5000 bytes, its header declares 262143999/,
    );
  });

  it('stops inflating at the declared size: an entry that inflates to more is damaged, not read', () => {
    // 64 MiB of zeros compresses to ~64 KB; the directory claims 1000 bytes.
    const bomb = deflateRawSync(Buffer.alloc(64 * 1024 * 1024));
    const zip = makeZip({ bootstrap: 'placeholder' }, 6);
    const file = files.write('bomb.zip', replaceData(zip, bomb, 1000));
    const before = process.memoryUsage().arrayBuffers;
    const error = sweepError(() => readZipEntry(file, 'bootstrap'));
    expect(error.problem).toMatch(/entry bootstrap inflates to more than its declared 1000 bytes/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it.each([
    ['empty', Buffer.alloc(0), /not a zip file \(0 bytes/],
    ['not a zip', Buffer.from('just some text, long enough to hold an end record'), /no end-of-central-directory record/],
    ['cut in the middle', makeZip({ bootstrap: BINARY }).subarray(0, 300), /no end-of-central-directory record/],
    ['cut before the end record', makeZip({ bootstrap: BINARY }).subarray(0, -10), /no end-of-central-directory record/],
  ])('gives one clear error for a truncated or foreign file (%s)', (_name, bytes, message) => {
    const file = files.write('bad.zip', bytes);
    const error = sweepError(() => readZipEntry(file, 'bootstrap'));
    expect(error.problem).toMatch(new RegExp(`^cannot read ${escapeRegExp(file)}: `));
    expect(error.problem).toMatch(message);
    expect(error.fix).toBe('rebuild it: FORCE_REBUILD=1 npx sweep-runtime build');
  });

  it('gives one clear error for damaged data, a damaged directory, a bad CRC and an unsupported method', () => {
    const zip = makeZip({ bootstrap: BINARY });
    const cd = centralEntryOffset(zip);
    const cases: Array<[Buffer, RegExp]> = [
      [patch(zip, 30 + 'bootstrap'.length + 2, [0xff, 0xff, 0xff, 0xff]), /entry bootstrap (does not inflate to|fails its CRC-32|holds)/],
      [patch(zip, cd, [0, 0, 0, 0]), /central directory entry 1 of 1 is missing or damaged/],
      [patch(zip, cd + 16, [1, 2, 3, 4]), /entry bootstrap fails its CRC-32 check/],
      [patch(zip, cd + 10, [12, 0]), /compression method 12/],
      [patch(zip, 0, [0, 0, 0, 0]), /local header is missing or damaged/],
      [patch(zip, cd + 8, [1, 0]), /entry bootstrap is encrypted/],
    ];
    for (const [bytes, message] of cases) {
      const file = files.write('damaged.zip', bytes);
      let thrown: unknown;
      try {
        readZipEntry(file, 'bootstrap');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SweepError);
      expect((thrown as SweepError).problem).toMatch(message);
    }
  });

  it('names a missing file', () => {
    expect(sweepError(() => readZipEntry('/nonexistent/app.zip', 'bootstrap')).problem).toMatch(
      /^cannot read \/nonexistent\/app\.zip: ENOENT/,
    );
  });

  it('computes CRC-32 as zip does', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});

function patch(zip: Buffer, offset: number, bytes: number[]): Buffer {
  const copy = Buffer.from(zip);
  Buffer.from(bytes).copy(copy, offset);
  return copy;
}

/**
 * Rebuilds a one-entry deflated zip with `data` as the entry's compressed bytes and
 * `declaredSize` as its unzipped size in both headers (CRC left as is: the size check comes first).
 */
function replaceData(zip: Buffer, data: Buffer, declaredSize: number): Buffer {
  const nameLength = zip.readUInt16LE(26);
  const extraLength = zip.readUInt16LE(28);
  const dataStart = 30 + nameLength + extraLength;
  const oldSize = zip.readUInt32LE(18);
  const local = Buffer.from(zip.subarray(0, dataStart));
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(declaredSize, 22);
  const rest = Buffer.from(zip.subarray(dataStart + oldSize));
  // rest = central directory + end record; fix the sizes and the directory's offset.
  rest.writeUInt32LE(data.length, 20);
  rest.writeUInt32LE(declaredSize, 24);
  const eocd = rest.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  rest.writeUInt32LE(local.length + data.length, eocd + 16);
  return Buffer.concat([local, data, rest]);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
