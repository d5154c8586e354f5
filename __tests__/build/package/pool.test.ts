import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { PackagingPool } from '../../../build/package/pool.js';
import { createLambdaZip } from '../../../build/package/zip.js';

// The packaging pool (issue 22): zips made on worker threads are the bytes createLambdaZip makes
// in-process, whatever worker made them and in whatever order they finish.
const BINARY = fileURLToPath(new URL('../../fixtures/elf/x86_64-static', import.meta.url));

// Threshold 0: every binary, small as the fixture is, goes to a worker.
const pool = new PackagingPool(2, 0);
afterAll(() => pool.close());

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('PackagingPool', () => {
  it('makes the same bytes as createLambdaZip, with their SHA-256, for several binaries at once', async () => {
    const base = fs.readFileSync(BINARY);
    const binaries = Array.from({ length: 5 }, (_, i) => {
      const copy = Buffer.concat([base, Buffer.alloc(i * 1000 + 1, i)]);
      return new Uint8Array(copy);
    });
    const zips = await Promise.all(binaries.map((binary) => pool.zip(binary)));
    zips.forEach((packaged, i) => {
      const expected = createLambdaZip(binaries[i]!);
      expect(Buffer.from(packaged.zip).equals(Buffer.from(expected))).toBe(true);
      expect(packaged.sha256.toString('hex')).toBe(sha256(expected));
    });
  });

  it('keeps the caller`s binary intact (it is verified after packaging)', async () => {
    const binary = new Uint8Array(fs.readFileSync(BINARY));
    const before = sha256(binary);
    await pool.zip(binary);
    expect(sha256(binary)).toBe(before);
  });

  it('makes the zips of jobs still waiting when it is closed in-process, with the same bytes', async () => {
    const small = new PackagingPool(1, 0);
    const binary = new Uint8Array(fs.readFileSync(BINARY));
    const jobs = [small.zip(binary), small.zip(binary), small.zip(binary)];
    await small.close();
    for (const packaged of await Promise.all(jobs)) expect(sha256(packaged.zip)).toBe(sha256(createLambdaZip(binary)));
  });
});

describe('PackagingPool: small binaries', () => {
  it('deflates a binary under the threshold in-process (no worker starts), one at or over it on a worker', async () => {
    const binary = new Uint8Array(fs.readFileSync(BINARY));
    const under = new PackagingPool(1, binary.byteLength + 1);
    expect(sha256((await under.zip(binary)).zip)).toBe(sha256(createLambdaZip(binary)));
    expect(under.workers).toBe(0);
    const atThreshold = new PackagingPool(1, binary.byteLength);
    expect(sha256((await atThreshold.zip(binary)).zip)).toBe(sha256(createLambdaZip(binary)));
    expect(atThreshold.workers).toBe(1);
    await Promise.all([under.close(), atThreshold.close()]);
  });
});
