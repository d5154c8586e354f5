import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { unzipSync, zipSync } from 'fflate';
import { createLambdaZip, ZIP_ENTRY_MODE, ZIP_ENTRY_NAME } from '../../../build/package/zip.js';
import { listZipEntries, ZipFormatError } from '../../../build/package/zip-read.js';
import { sha256Hex as sha256 } from '../../helpers/hash.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ELF_STATIC = path.join(REPO_ROOT, '__tests__/fixtures/elf/x86_64-static');
const binary = () => new Uint8Array(fs.readFileSync(ELF_STATIC));

let temp: string;
const savedTz = process.env.TZ;
beforeEach(() => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-zip-'));
});
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
  fs.rmSync(temp, { recursive: true, force: true });
});

/** The zip of the static ELF fixture made by a fresh `node` process running in `tz`. */
async function zipInChildProcess(tz: string): Promise<Buffer> {
  const script = [
    `import { readFileSync } from 'node:fs';`,
    `import { createLambdaZip } from ${JSON.stringify(path.join(REPO_ROOT, 'build/package/zip.ts'))};`,
    `process.stdout.write(Buffer.from(createLambdaZip(readFileSync(${JSON.stringify(ELF_STATIC)}))).toString('base64'));`,
  ].join('\n');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, TZ: tz, NODE_OPTIONS: '' },
  });
  return Buffer.from(stdout, 'base64');
}

function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('createLambdaZip: reproducible bytes', () => {
  it('gives byte-identical zips for the same binary', () => {
    const one = createLambdaZip(binary());
    const two = createLambdaZip(binary());
    expect(Buffer.from(one).equals(Buffer.from(two))).toBe(true);
  });

  it('gives a different zip for a different binary', () => {
    const other = binary();
    other[other.length - 1] ^= 0xff;
    expect(sha256(createLambdaZip(other))).not.toBe(sha256(createLambdaZip(binary())));
  });

  it('is pinned: the zip of the x86_64-static fixture has this SHA-256', () => {
    // The zip's hash is Lambda's CodeSha256 and Terraform's source_code_hash: if it changes for
    // the same binary (an fflate upgrade, another level or timestamp), every function redeploys.
    expect(sha256(createLambdaZip(binary()))).toBe('19345abcb80e6ef30734fe450f2a32441beea1de21218e7d61c204fde2345de8');
  });

  it('is byte-identical when made in processes with different timezones', async () => {
    // GIVEN two fresh processes, TZ=America/Los_Angeles and TZ=Asia/Kolkata (a child process is
    // the honest test: a process reads its timezone when it starts)
    const [west, east] = await Promise.all([zipInChildProcess('America/Los_Angeles'), zipInChildProcess('Asia/Kolkata')]);
    // THEN both zips are the same bytes, and the same as this process's
    expect(west.equals(east)).toBe(true);
    expect(west.equals(Buffer.from(createLambdaZip(binary())))).toBe(true);
  }, 20_000);

  it("is byte-identical when this process's TZ changes between calls", () => {
    process.env.TZ = 'Pacific/Kiritimati';
    const plus14 = createLambdaZip(binary());
    process.env.TZ = 'Pacific/Pago_Pago';
    const minus11 = createLambdaZip(binary());
    expect(Buffer.from(plus14).equals(Buffer.from(minus11))).toBe(true);
  });
});

describe('createLambdaZip: layout', () => {
  it('has one entry, bootstrap, made on Unix with mode 0100755', () => {
    const entries = listZipEntries(createLambdaZip(binary()));
    expect(entries).toEqual([expect.objectContaining({ name: 'bootstrap', unixMode: 0o100755, method: 8, uncompressedSize: 512 })]);
    expect(ZIP_ENTRY_NAME).toBe('bootstrap');
    expect(ZIP_ENTRY_MODE).toBe(0o100755);
  });

  it('stamps the entry 1980-01-01 00:00 in DOS time, in the local header and the central directory', () => {
    const zip = Buffer.from(createLambdaZip(binary()));
    // Local file header: signature PK\3\4, DOS time at 10..11, DOS date at 12..13
    expect(zip.readUInt32LE(0)).toBe(0x04034b50);
    expect(zip.readUInt16LE(10)).toBe(0x0000); // 00:00:00
    expect(zip.readUInt16LE(12)).toBe((0 << 9) | (1 << 5) | 1); // 1980 (year 0), January, day 1 = 0x0021
    // Central directory entry: DOS time at 12..13, date at 14..15
    const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    expect(central).toBeGreaterThan(0);
    expect(zip.readUInt16LE(central + 12)).toBe(0x0000);
    expect(zip.readUInt16LE(central + 14)).toBe(0x0021);
  });

  it('reads back to the same bytes with an independent reader', () => {
    // GIVEN the zip on disk
    const file = path.join(temp, 'sweep.zip');
    fs.writeFileSync(file, createLambdaZip(binary()));
    if (hasCommand('unzip') && hasCommand('zipinfo')) {
      // THEN Info-ZIP lists one executable Unix entry dated 1980-01-01 00:00 and extracts the binary
      const listing = execFileSync('zipinfo', [file], { encoding: 'utf8' });
      expect(listing).toMatch(/^-rwxr-xr-x +\d\.\d unx +512 b- def\S +80-Jan-01 00:00 bootstrap$/m);
      expect(listing).toContain('number of entries: 1');
      const extracted = execFileSync('unzip', ['-p', file, 'bootstrap']);
      expect(extracted.equals(Buffer.from(binary()))).toBe(true);
    } else {
      const files = unzipSync(new Uint8Array(fs.readFileSync(file)));
      expect(Object.keys(files)).toEqual(['bootstrap']);
      expect(Buffer.from(files.bootstrap!).equals(Buffer.from(binary()))).toBe(true);
    }
  });

  it('round-trips through fflate too', () => {
    const files = unzipSync(createLambdaZip(binary()));
    expect(Object.keys(files)).toEqual(['bootstrap']);
    expect(Buffer.from(files.bootstrap!).equals(Buffer.from(binary()))).toBe(true);
  });

  it('zips an empty binary', () => {
    expect(listZipEntries(createLambdaZip(new Uint8Array()))).toEqual([
      expect.objectContaining({ name: 'bootstrap', unixMode: 0o100755, uncompressedSize: 0 }),
    ]);
  });
});

describe('listZipEntries (the one zip reader, build/package/zip-read.ts)', () => {
  it('lists two entries with their names, sizes and Unix modes (undefined when not made on Unix)', () => {
    // GIVEN a zip with a Unix entry and an entry whose "made by" is MS-DOS
    const zip = zipSync({
      'config.json': [new TextEncoder().encode('{"a":1}'), { os: 3, attrs: (0o100644 << 16) >>> 0, level: 0 }],
      'dir/readme.txt': [new TextEncoder().encode('hello hello hello hello'), { os: 0, level: 6 }],
    });
    // THEN both are listed in order
    expect(listZipEntries(zip)).toEqual([
      expect.objectContaining({ name: 'config.json', unixMode: 0o100644, method: 0, compressedSize: 7, uncompressedSize: 7 }),
      expect.objectContaining({ name: 'dir/readme.txt', unixMode: undefined, method: 8, uncompressedSize: 23 }),
    ]);
  });

  it('reads a zip that sits inside a larger buffer (a subarray)', () => {
    const zip = createLambdaZip(binary());
    const padded = new Uint8Array(zip.length + 16);
    padded.set(zip, 16);
    expect(listZipEntries(padded.subarray(16)).map((e) => e.name)).toEqual(['bootstrap']);
  });

  it('reads a zip with an archive comment', () => {
    const zip = Buffer.from(createLambdaZip(binary()));
    const comment = Buffer.from('built by sweep');
    const withComment = Buffer.concat([zip, comment]);
    withComment.writeUInt16LE(comment.length, zip.length - 2);
    expect(listZipEntries(new Uint8Array(withComment)).map((e) => e.name)).toEqual(['bootstrap']);
  });

  it('refuses a file that is not a zip', () => {
    expect(() => listZipEntries(binary())).toThrow(
      new ZipFormatError('no end-of-central-directory record: the file is truncated or not a zip'),
    );
    expect(() => listZipEntries(new Uint8Array(5))).toThrow(
      new ZipFormatError("not a zip file (5 bytes, too short for a zip's end record)"),
    );
  });

  it('refuses a zip whose central directory is damaged', () => {
    // GIVEN the central directory signature overwritten
    const zip = Buffer.from(createLambdaZip(binary()));
    const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    zip.writeUInt32LE(0, central);
    expect(() => listZipEntries(new Uint8Array(zip))).toThrow(new ZipFormatError('central directory entry 1 of 1 is missing or damaged'));
  });
});
