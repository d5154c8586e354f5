import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { zipSync } from 'fflate';
import type { Architecture, LambdaRuntime } from '../../../build/options/schema.js';
import { type BinaryFacts, describeBinaryFacts, verifyArtifact } from '../../../build/package/verify.js';
import { createLambdaZip } from '../../../build/package/zip.js';
import type { SweepError } from '../../../build/support/errors.js';
import { sweepError } from '../../helpers/errors.js';

// The committed ELF fixtures (see __tests__/fixtures/elf/README.md), zipped the way a build zips.
const fixtureDir = fileURLToPath(new URL('../../fixtures/elf/', import.meta.url));
const elf = (name: string): Uint8Array => new Uint8Array(readFileSync(fixtureDir + name));

const NOT_RECORDED = '; the zip was not committed, the previous one is unchanged';
const PACKAGING_BUG = 'this is a packaging bug: report it with the zip attached';

function verify(name: string, architecture: Architecture, runtime: LambdaRuntime): BinaryFacts {
  const binary = elf(name);
  return verifyArtifact(createLambdaZip(binary), binary, { architecture, runtime });
}

function verifyError(run: () => unknown): SweepError {
  return sweepError(run, 'verify');
}

describe('verifyArtifact: binaries that will start', () => {
  it('passes a static x86_64 binary for provided.al2023, needing no glibc', () => {
    const facts = verify('x86_64-static', 'x86_64', 'provided.al2023');
    expect(facts).toEqual({
      machine: 'x86_64',
      linkage: 'static',
      glibcRequired: null,
      glibcAvailable: '2.34',
      size: 512,
      otherLibraries: [],
    });
    expect(describeBinaryFacts(facts, 'provided.al2023')).toBe('x86_64 ELF, static, needs no glibc');
  });

  it('passes a static x86_64 binary for provided.al2 too', () => {
    expect(verify('x86_64-static', 'x86_64', 'provided.al2')).toMatchObject({ linkage: 'static', glibcAvailable: '2.26' });
  });

  it('passes a static PIE', () => {
    expect(verify('x86_64-static-pie', 'x86_64', 'provided.al2023')).toMatchObject({
      machine: 'x86_64',
      linkage: 'static',
      glibcRequired: null,
    });
  });

  it('passes the aarch64 binary for arm64 on provided.al2023, which has the glibc 2.34 it needs', () => {
    const facts = verify('aarch64-dynamic', 'arm64', 'provided.al2023');
    expect(facts).toEqual({
      machine: 'aarch64',
      linkage: 'dynamic',
      glibcRequired: '2.34',
      glibcAvailable: '2.34',
      size: 4688,
      otherLibraries: [],
    });
    expect(describeBinaryFacts(facts, 'provided.al2023')).toBe('aarch64 ELF, dynamic, needs glibc 2.34 (provided.al2023 has 2.34)');
  });
});

describe('verifyArtifact: binaries that would not start', () => {
  it('refuses a binary needing GLIBC_2.36 for provided.al2023, saying what it needs, what the runtime has and what to do', () => {
    const error = verifyError(() => verify('x86_64-glibc236', 'x86_64', 'provided.al2023'));
    expect(error.message).toBe(`verify: bootstrap needs GLIBC_2.36, but provided.al2023 has glibc 2.34${NOT_RECORDED}`);
    expect(error.fix).toBe(
      'build on an older base image (toolchain image rust:1-bullseye has glibc 2.31), or build a static binary with a musl target',
    );
  });

  it('refuses the aarch64 binary for provided.al2, which has glibc 2.26', () => {
    const error = verifyError(() => verify('aarch64-dynamic', 'arm64', 'provided.al2'));
    expect(error.message).toBe(`verify: bootstrap needs GLIBC_2.34, but provided.al2 has glibc 2.26${NOT_RECORDED}`);
  });

  it('refuses an aarch64 binary for an x86_64 function, naming both', () => {
    const error = verifyError(() => verify('aarch64-dynamic', 'x86_64', 'provided.al2023'));
    expect(error.message).toBe(
      `verify: bootstrap is built for aarch64, but the function's architecture is x86_64 (needs x86_64)${NOT_RECORDED}`,
    );
    expect(error.fix).toBe(
      'build for the matching target: set `architecture` to the one you deploy, or check the target triple in .cargo/config.toml',
    );
  });

  it('refuses an x86_64 binary for an arm64 function', () => {
    const error = verifyError(() => verify('x86_64-static', 'arm64', 'provided.al2023'));
    expect(error.message).toBe(
      `verify: bootstrap is built for x86_64, but the function's architecture is arm64 (needs aarch64)${NOT_RECORDED}`,
    );
  });

  it('refuses an i386 binary, naming its machine', () => {
    const error = verifyError(() => verify('i386-dynamic', 'x86_64', 'provided.al2023'));
    expect(error.message).toBe(
      `verify: bootstrap is built for unknown(3), but the function's architecture is x86_64 (needs x86_64)${NOT_RECORDED}`,
    );
  });

  it('refuses a relocatable object file', () => {
    const error = verifyError(() => verify('x86_64-relocatable.o', 'x86_64', 'provided.al2023'));
    expect(error.message).toBe(`verify: bootstrap is a relocatable, not an executable${NOT_RECORDED}`);
    expect(error.fix).toBe('build a binary target (`[[bin]]`), not a library');
  });

  it('refuses a file that is not ELF', () => {
    const script = new TextEncoder().encode('#!/bin/sh\necho hello\n');
    const error = verifyError(() =>
      verifyArtifact(createLambdaZip(script), script, { architecture: 'x86_64', runtime: 'provided.al2023' }),
    );
    expect(error.message.startsWith('verify: bootstrap is not an ELF executable (')).toBe(true);
    expect(error.message.endsWith(`)${NOT_RECORDED}`)).toBe(true);
    expect(error.fix).toBe('check that the binary target is a Rust `fn main` program built for Linux');
  });
});

describe('verifyArtifact: the zip layout', () => {
  const binary = elf('x86_64-static');
  const expected = { architecture: 'x86_64', runtime: 'provided.al2023' } as const;
  const unixExecutable = { os: 3, attrs: (0o100755 << 16) >>> 0 };

  it('refuses a zip with two entries, naming them', () => {
    const zip = zipSync({ bootstrap: [binary, unixExecutable], 'README.md': [new Uint8Array([1]), unixExecutable] });
    const error = verifyError(() => verifyArtifact(zip, binary, expected));
    expect(error.message).toBe(
      `verify: the zip must hold exactly one entry, bootstrap, at its root; it holds bootstrap, README.md${NOT_RECORDED}`,
    );
    expect(error.fix).toBe(PACKAGING_BUG);
  });

  it('refuses a zip whose one entry is not at the root', () => {
    const zip = zipSync({ 'target/bootstrap': [binary, unixExecutable] });
    expect(verifyError(() => verifyArtifact(zip, binary, expected)).message).toBe(
      `verify: the zip must hold exactly one entry, bootstrap, at its root; it holds target/bootstrap${NOT_RECORDED}`,
    );
  });

  it('refuses an empty zip', () => {
    expect(verifyError(() => verifyArtifact(zipSync({}), binary, expected)).message).toBe(
      `verify: the zip must hold exactly one entry, bootstrap, at its root; it holds nothing${NOT_RECORDED}`,
    );
  });

  it('refuses a bootstrap entry that is not executable', () => {
    const zip = zipSync({ bootstrap: [binary, { os: 3, attrs: (0o100644 << 16) >>> 0 }] });
    const error = verifyError(() => verifyArtifact(zip, binary, expected));
    expect(error.message).toBe(`verify: bootstrap in the zip is not executable (mode 0644, want 0755)${NOT_RECORDED}`);
    expect(error.fix).toBe(PACKAGING_BUG);
  });

  it('refuses a bootstrap executable only by its owner (Lambda runs it as another user)', () => {
    const zip = zipSync({ bootstrap: [binary, { os: 3, attrs: (0o100700 << 16) >>> 0 }] });
    expect(verifyError(() => verifyArtifact(zip, binary, expected)).message).toBe(
      `verify: bootstrap in the zip is not executable (mode 0700, want 0755)${NOT_RECORDED}`,
    );
  });

  it('refuses an entry with no Unix mode (made on MS-DOS)', () => {
    const zip = zipSync({ bootstrap: [binary, { os: 0 }] });
    expect(verifyError(() => verifyArtifact(zip, binary, expected)).message).toBe(
      `verify: bootstrap in the zip is not executable (mode unknown, want 0755)${NOT_RECORDED}`,
    );
  });

  it('refuses bytes that are not a zip', () => {
    const error = verifyError(() => verifyArtifact(binary, binary, expected));
    expect(error.message).toBe(
      `verify: the zip cannot be read: no end-of-central-directory record: the file is truncated or not a zip${NOT_RECORDED}`,
    );
    expect(error.fix).toBe('run again with FORCE_REBUILD=1');
  });
});

describe('describeBinaryFacts', () => {
  it('names libraries beyond glibc that the runtime may not have', () => {
    const facts: BinaryFacts = {
      machine: 'x86_64',
      linkage: 'dynamic',
      glibcRequired: '2.28',
      glibcAvailable: '2.34',
      size: 1,
      otherLibraries: ['libssl.so.3', 'libcrypto.so.3'],
    };
    expect(describeBinaryFacts(facts, 'provided.al2023')).toBe(
      'x86_64 ELF, dynamic, needs glibc 2.28 (provided.al2023 has 2.34); also links libssl.so.3, libcrypto.so.3: make sure provided.al2023 has them',
    );
  });
});
