import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { type ArtifactMetadata, METADATA_SCHEMA_VERSION, readMetadata, writeMetadata } from '../../../build/cache/metadata.js';

const hash = (c: string) => c.repeat(64);

function validRecord(): ArtifactMetadata {
  return {
    schemaVersion: 2,
    artifact: 'sweep-lambda',
    fingerprint: hash('a'),
    settings: {
      engine: 1,
      package: 'sweep-lambda',
      binary: 'bootstrap',
      target: 'x86_64-unknown-linux-gnu',
      profile: 'release',
      features: ['trace'],
      runtime: 'provided.al2023',
      toolchainImage: 'rust:1-bullseye',
      builderRecipe: hash('b'),
      env: { RUSTFLAGS: '-C target-cpu=x86-64-v2' },
    },
    inputs: { 'Cargo.lock': hash('1'), 'crates/sweep-lambda/src/main.rs': hash('2') },
    builderImage: { tag: 'sweep-builder:rust-1-bullseye-bbbbbbbb', id: `sha256:${hash('c')}` },
    zip: {
      file: 'sweep-lambda.zip',
      size: 123456,
      sha256: hash('d'),
      sha256Base64: `${'3'.repeat(43)}=`,
      originFingerprint: hash('9'),
    },
    binary: { machine: 'x86_64', linkage: 'dynamic', glibcRequired: '2.28', glibcAvailable: '2.34', size: 400000 },
    origin: { kind: 'build', cacheDomain: 'local' },
    builtAt: '2026-11-25T14:42:01.000Z',
    timingsMs: { fingerprint: 12.5, compile: 40210, total: 41000 },
  };
}

let temp: string;
let file: string;
beforeEach(() => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-metadata-'));
  file = path.join(temp, 'dist', 'sweep-lambda.json');
});
afterEach(() => {
  fs.rmSync(temp, { recursive: true, force: true });
});

function writeJson(value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
}

describe('metadata: round trip', () => {
  it('reads back exactly the record it wrote, into a folder it creates', () => {
    // GIVEN a valid record (with a fractional mtime, which must survive exactly)
    const record = validRecord();
    // WHEN written and read
    writeMetadata(file, record);
    // THEN the same record comes back
    expect(readMetadata(file)).toEqual({ status: 'ok', metadata: record });
  });

  it('writes pretty JSON ending in a newline and leaves no temporary file', () => {
    writeMetadata(file, validRecord());
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toBe(`${JSON.stringify(validRecord(), null, 2)}\n`);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['sweep-lambda.json']);
  });

  it('accepts a static binary with no glibc requirement', () => {
    const record = { ...validRecord(), binary: { ...validRecord().binary, linkage: 'static' as const, glibcRequired: null } };
    writeMetadata(file, record);
    expect(readMetadata(file)).toEqual({ status: 'ok', metadata: record });
  });

  it('is schema version 2', () => {
    expect(METADATA_SCHEMA_VERSION).toBe(2);
  });
});

describe('metadata: reading a bad record', () => {
  it('a missing file is status missing', () => {
    expect(readMetadata(file)).toEqual({ status: 'missing' });
  });

  it("text that is not JSON is unreadable, with the parser's words", () => {
    writeJson('{"schemaVersion": 1,');
    let parserMessage = '';
    try {
      JSON.parse('{"schemaVersion": 1,');
    } catch (error) {
      parserMessage = (error as Error).message;
    }
    expect(readMetadata(file)).toEqual({ status: 'unreadable', detail: `not JSON (${parserMessage})` });
  });

  it('a FIFO in place of the file is unreadable and never opened (opening it would block forever)', () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    execFileSync('mkfifo', [file]);
    expect(readMetadata(file)).toEqual({ status: 'unreadable', detail: 'not a regular file' });
  });

  it('a folder in place of the file is unreadable', () => {
    fs.mkdirSync(file, { recursive: true });
    expect(readMetadata(file)).toEqual({ status: 'unreadable', detail: 'not a regular file' });
  });

  it('another schema version is invalid, naming the version', () => {
    writeJson({ ...validRecord(), schemaVersion: 1 });
    expect(readMetadata(file)).toEqual({ status: 'invalid', detail: 'schema version 1, this engine reads 2' });
  });

  it('a schema version given as a string is invalid, shown quoted', () => {
    writeJson({ ...validRecord(), schemaVersion: '2' });
    expect(readMetadata(file)).toEqual({ status: 'invalid', detail: 'schema version "2", this engine reads 2' });
  });

  it('JSON null is invalid, not a crash', () => {
    writeJson('null');
    expect(readMetadata(file).status).toBe('invalid');
  });

  it('a field of the wrong type is invalid, naming the field', () => {
    writeJson({ ...validRecord(), zip: { ...validRecord().zip, size: '123456' } });
    expect(readMetadata(file)).toEqual({ status: 'invalid', detail: 'zip.size: Invalid input: expected number, received string' });
  });

  it('a nested settings field of the wrong type names its path', () => {
    writeJson({ ...validRecord(), settings: { ...validRecord().settings, features: 'trace' } });
    expect(readMetadata(file)).toEqual({ status: 'invalid', detail: 'settings.features: Invalid input: expected array, received string' });
  });

  it('a missing field is invalid, naming the field and counting the other problems', () => {
    const { fingerprint: _dropped, builtAt: _alsoDropped, ...rest } = validRecord();
    writeJson(rest);
    expect(readMetadata(file)).toEqual({
      status: 'invalid',
      detail: 'fingerprint: Invalid input: expected string, received undefined (and 1 more problems)',
    });
  });

  it('a fingerprint that is not 64 hex digits is invalid', () => {
    writeJson({ ...validRecord(), fingerprint: 'A'.repeat(64) });
    const result = readMetadata(file);
    expect(result.status).toBe('invalid');
    expect(result.status === 'invalid' && result.detail.startsWith('fingerprint: ')).toBe(true);
  });
});

describe('metadata: writing', () => {
  it('refuses an invalid record and leaves the previous file untouched', () => {
    // GIVEN a good record on disk
    writeMetadata(file, validRecord());
    const before = fs.readFileSync(file);
    // WHEN a record with a bad field is written
    const bad = { ...validRecord(), zip: { ...validRecord().zip, sha256: 'not-a-hash' } };
    expect(() => writeMetadata(file, bad)).toThrow(/sha256/);
    // THEN the file is byte-identical and no temporary file is left
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['sweep-lambda.json']);
  });

  it('refuses a record with another schema version and creates nothing', () => {
    expect(() => writeMetadata(file, { ...validRecord(), schemaVersion: 1 } as unknown as ArtifactMetadata)).toThrow();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('replaces the previous record with a new valid one', () => {
    writeMetadata(file, validRecord());
    const next = { ...validRecord(), fingerprint: hash('f') };
    writeMetadata(file, next);
    expect(readMetadata(file)).toEqual({ status: 'ok', metadata: next });
  });
});
