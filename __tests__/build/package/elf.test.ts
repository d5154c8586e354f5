import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { compareVersions, ElfFormatError, type ElfSummary, readElf } from '../../../build/package/elf.js';
import { thrown } from '../../helpers/errors.js';

// Committed binaries, built by __tests__/fixtures/elf/make-fixtures.sh (see the README there).
// Reading files instead of compiling keeps these tests free of cross compilers.
const fixtureDir = fileURLToPath(new URL('../../fixtures/elf/', import.meta.url));
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fixtureDir + name));

// Host binaries are only checked where this project's CI machine's assumptions hold (Debian 12, x86-64).
const onDebianX64 = process.platform === 'linux' && process.arch === 'x64' && existsSync('/etc/debian_version');
const describeOnDebianX64 = onDebianX64 ? describe : describe.skip;

/** What readElf must throw, message included: the message is what the user sees. */
function elfError(bytes: Uint8Array): ElfFormatError {
  return thrown(() => readElf(bytes), ElfFormatError);
}

// Minimal independent accessors for ELF64 little-endian fixtures, used to corrupt them on purpose.
function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface RawSection {
  readonly headerOffset: number;
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

function rawSections64(bytes: Uint8Array): RawSection[] {
  const dv = view(bytes);
  const shoff = Number(dv.getBigUint64(40, true));
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  return Array.from({ length: shnum }, (_, i) => {
    const at = shoff + i * shentsize;
    return {
      headerOffset: at,
      type: dv.getUint32(at + 4, true),
      offset: Number(dv.getBigUint64(at + 24, true)),
      size: Number(dv.getBigUint64(at + 32, true)),
    };
  });
}

/**
 * What `sstrip` does: drop the section header table (it sits at the end of the file) and clear
 * e_shoff/e_shnum/e_shstrndx, leaving only what the loader uses.
 */
function withoutSectionHeaders(original: Uint8Array): Uint8Array {
  const is64 = original[4] === 2;
  const little = original[5] === 1;
  const dv0 = view(original);
  const shoff = is64 ? Number(dv0.getBigUint64(40, little)) : dv0.getUint32(32, little);
  const bytes = original.slice(0, shoff);
  const dv = view(bytes);
  if (is64) {
    dv.setBigUint64(40, 0n, little);
    dv.setUint16(60, 0, little);
    dv.setUint16(62, 0, little);
  } else {
    dv.setUint32(32, 0, little);
    dv.setUint16(48, 0, little);
    dv.setUint16(50, 0, little);
  }
  return bytes;
}

const SHT_PROGBITS = 1;
const SHT_GNU_VERNEED = 0x6ffffffe;

describe('readElf on committed fixtures', () => {
  it('reads a static x86-64 executable (no interpreter, no dynamic section)', () => {
    expect(readElf(fixture('x86_64-static'))).toEqual({
      bits: 64,
      littleEndian: true,
      machine: 'x86_64',
      fileType: 'executable',
      interpreter: null,
      isStaticallyLinked: true,
      neededLibraries: [],
      glibcVersionsNeeded: [],
      maxGlibcVersion: null,
    } satisfies ElfSummary);
  });

  it('reads a static PIE as a static position-independent executable (DF_1_PIE, no PT_INTERP)', () => {
    expect(readElf(fixture('x86_64-static-pie'))).toEqual({
      bits: 64,
      littleEndian: true,
      machine: 'x86_64',
      fileType: 'position-independent-executable',
      interpreter: null,
      isStaticallyLinked: true,
      neededLibraries: [],
      glibcVersionsNeeded: [],
      maxGlibcVersion: null,
    } satisfies ElfSummary);
  });

  it('reads an AArch64 glibc binary (what an arm64 Lambda bootstrap looks like)', () => {
    expect(readElf(fixture('aarch64-dynamic'))).toEqual({
      bits: 64,
      littleEndian: true,
      machine: 'aarch64',
      fileType: 'position-independent-executable',
      interpreter: '/lib/ld-linux-aarch64.so.1',
      isStaticallyLinked: false,
      neededLibraries: ['libc.so.6'],
      // 2.17 is AArch64's baseline; 2.34 is __libc_start_main, needed by anything linked
      // against glibc >= 2.34 - fine on provided.al2023, too new for provided.al2 (2.26).
      glibcVersionsNeeded: ['GLIBC_2.17', 'GLIBC_2.34'],
      maxGlibcVersion: '2.34',
    } satisfies ElfSummary);
  });

  it('reads versions from several libraries, distinct and numerically sorted', () => {
    const summary = readElf(fixture('x86_64-glibc236'));
    expect(summary).toEqual({
      bits: 64,
      littleEndian: true,
      machine: 'x86_64',
      fileType: 'position-independent-executable',
      interpreter: '/lib64/ld-linux-x86-64.so.2',
      isStaticallyLinked: false,
      neededLibraries: ['libm.so.6', 'libc.so.6'],
      // readelf -V lists libm: 2.29, then libc: 2.36, 2.2.5, 2.34. A string sort would put
      // 2.2.5 after 2.29.
      glibcVersionsNeeded: ['GLIBC_2.2.5', 'GLIBC_2.29', 'GLIBC_2.34', 'GLIBC_2.36'],
      maxGlibcVersion: '2.36',
    } satisfies ElfSummary);
    // The case the deploy check exists for: too new even for provided.al2023.
    expect(compareVersions(summary.maxGlibcVersion!, '2.34')).toBe(1);
  });

  it('reads a 32-bit little-endian (i386) binary', () => {
    expect(readElf(fixture('i386-dynamic'))).toEqual({
      bits: 32,
      littleEndian: true,
      machine: 'unknown(3)',
      fileType: 'position-independent-executable',
      interpreter: '/lib/ld-linux.so.2',
      isStaticallyLinked: false,
      neededLibraries: ['libc.so.6'],
      glibcVersionsNeeded: ['GLIBC_2.0', 'GLIBC_2.1.3', 'GLIBC_2.34'],
      maxGlibcVersion: '2.34',
    } satisfies ElfSummary);
  });

  it('reads a 32-bit big-endian (PowerPC) binary', () => {
    expect(readElf(fixture('ppc32be-dynamic'))).toEqual({
      bits: 32,
      littleEndian: false,
      machine: 'unknown(20)',
      fileType: 'position-independent-executable',
      interpreter: '/lib/ld.so.1',
      isStaticallyLinked: false,
      neededLibraries: ['libc.so.6'],
      glibcVersionsNeeded: ['GLIBC_2.0', 'GLIBC_2.1.3', 'GLIBC_2.34'],
      maxGlibcVersion: '2.34',
    } satisfies ElfSummary);
  });

  it('reads a relocatable object (no program headers at all)', () => {
    expect(readElf(fixture('x86_64-relocatable.o'))).toEqual({
      bits: 64,
      littleEndian: true,
      machine: 'x86_64',
      fileType: 'relocatable',
      interpreter: null,
      isStaticallyLinked: true,
      neededLibraries: [],
      glibcVersionsNeeded: [],
      maxGlibcVersion: null,
    } satisfies ElfSummary);
  });

  it('reads a Uint8Array that is a window into a larger buffer (non-zero byteOffset)', () => {
    const bytes = fixture('aarch64-dynamic');
    const backing = new Uint8Array(bytes.length + 13);
    backing.set(bytes, 7);
    expect(readElf(backing.subarray(7, 7 + bytes.length))).toEqual(readElf(bytes));
  });
});

describe('readElf without section headers (stripped with sstrip)', () => {
  it.each(['aarch64-dynamic', 'x86_64-glibc236', 'i386-dynamic', 'ppc32be-dynamic', 'x86_64-static-pie', 'x86_64-static'])(
    '%s: the dynamic segment gives the same answer as the sections',
    (name) => {
      const original = fixture(name);
      const stripped = withoutSectionHeaders(original);
      expect(stripped.length).toBeLessThan(original.length);
      expect(readElf(stripped)).toEqual(readElf(original));
    },
  );

  it('falls back to DT_VERNEED when sections exist but none is SHT_GNU_verneed', () => {
    const bytes = fixture('x86_64-glibc236');
    const verneed = rawSections64(bytes).find((s) => s.type === SHT_GNU_VERNEED)!;
    view(bytes).setUint32(verneed.headerOffset + 4, SHT_PROGBITS, true);
    expect(readElf(bytes).glibcVersionsNeeded).toEqual(['GLIBC_2.2.5', 'GLIBC_2.29', 'GLIBC_2.34', 'GLIBC_2.36']);
  });
});

describeOnDebianX64('readElf on Debian 12 host binaries', () => {
  it.each(['/bin/ls', '/usr/bin/env'])('%s is a dynamic x86-64 PIE needing glibc >= 2.34', (path) => {
    const summary = readElf(readFileSync(path));
    expect(summary).toMatchObject({
      bits: 64,
      littleEndian: true,
      machine: 'x86_64',
      fileType: 'position-independent-executable',
      interpreter: '/lib64/ld-linux-x86-64.so.2',
      isStaticallyLinked: false,
    });
    expect(summary.neededLibraries).toContain('libc.so.6');
    // Everything on bookworm is linked against glibc 2.36, so needs at least __libc_start_main@2.34.
    expect(compareVersions(summary.maxGlibcVersion!, '2.34')).toBeGreaterThanOrEqual(0);
    expect(compareVersions(summary.maxGlibcVersion!, '2.36')).toBeLessThanOrEqual(0);
    // GLIBC_2.2.5 is the x86-64 baseline every libc user needs.
    expect(summary.glibcVersionsNeeded).toContain('GLIBC_2.2.5');
    expect(summary.glibcVersionsNeeded.at(-1)).toBe(`GLIBC_${summary.maxGlibcVersion}`);
    for (const name of summary.glibcVersionsNeeded) expect(name).toMatch(/^GLIBC_\d+(\.\d+)+$/);
    const numbers = summary.glibcVersionsNeeded.map((name) => name.slice('GLIBC_'.length));
    expect([...numbers].sort(compareVersions)).toEqual(numbers);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('reads the running node binary', () => {
    const summary = readElf(readFileSync(process.execPath));
    expect(summary).toMatchObject({ bits: 64, littleEndian: true, machine: 'x86_64' });
    expect(['executable', 'position-independent-executable']).toContain(summary.fileType);
    if (!summary.isStaticallyLinked) {
      expect(summary.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
      expect(summary.neededLibraries).toContain('libc.so.6');
      expect(summary.maxGlibcVersion).not.toBeNull();
    }
  });

  it('rejects a host binary cut short (as by an interrupted download)', () => {
    const ls = new Uint8Array(readFileSync('/bin/ls'));
    expect(elfError(ls.subarray(0, 100)).message).toMatch(
      /^truncated ELF: section header table \(\d+ entries of 64 bytes\) at offset \d+ \(\d+ bytes, ending at \d+\) is beyond file size 100$/,
    );
    expect(elfError(ls.subarray(0, ls.length - 1)).message).toMatch(/^truncated ELF: section header table .* is beyond file size \d+$/);
  });

  it('reads a shared library without PT_INTERP as a shared object', () => {
    const summary = readElf(readFileSync('/lib/x86_64-linux-gnu/libm.so.6'));
    expect(summary).toMatchObject({ fileType: 'shared-object', interpreter: null, isStaticallyLinked: false });
    expect(summary.neededLibraries).toContain('libc.so.6');
  });
});

describe('readElf errors', () => {
  it('rejects a zip file, showing its first bytes', () => {
    const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00]);
    expect(elfError(zip).message).toBe('not an ELF file (first bytes 50 4b 03 04; an ELF file starts with 7f 45 4c 46)');
  });

  it('rejects an empty buffer', () => {
    expect(elfError(new Uint8Array(0)).message).toBe('not an ELF file (the file is empty)');
  });

  it('rejects a file shorter than the magic number', () => {
    expect(elfError(new Uint8Array([0x7f, 0x45])).message).toBe('not an ELF file (first bytes 7f 45; an ELF file starts with 7f 45 4c 46)');
  });

  it('rejects a file shorter than the ELF header', () => {
    expect(elfError(fixture('aarch64-dynamic').subarray(0, 40)).message).toBe(
      'truncated ELF: file is 40 bytes, shorter than the 64-byte ELF64 header',
    );
    expect(elfError(fixture('ppc32be-dynamic').subarray(0, 40)).message).toBe(
      'truncated ELF: file is 40 bytes, shorter than the 52-byte ELF32 header',
    );
  });

  it('rejects the first 100 bytes of a real binary, naming the missing table', () => {
    expect(elfError(fixture('x86_64-glibc236').subarray(0, 100)).message).toBe(
      'truncated ELF: section header table (28 entries of 64 bytes) at offset 3032 (1792 bytes, ending at 4824) is beyond file size 100',
    );
  });

  it('rejects a stripped binary whose segments are cut off', () => {
    const stripped = withoutSectionHeaders(fixture('aarch64-dynamic'));
    // PT_INTERP is at offset 0x200, 27 bytes (readelf -l).
    expect(elfError(stripped.subarray(0, 0x210)).message).toBe(
      'truncated ELF: PT_INTERP segment at offset 512 (27 bytes, ending at 539) is beyond file size 528',
    );
  });

  it('rejects an unknown ELF class or byte order', () => {
    const badClass = fixture('x86_64-static');
    badClass[4] = 3;
    expect(elfError(badClass).message).toBe('malformed ELF: unknown ELF class 3 (expected 1 for 32-bit or 2 for 64-bit)');
    const badData = fixture('x86_64-static');
    badData[5] = 0;
    expect(elfError(badData).message).toBe('malformed ELF: unknown data encoding 0 (expected 1 for little-endian or 2 for big-endian)');
  });

  it('rejects a 64-bit offset no buffer can reach', () => {
    const bytes = fixture('x86_64-static');
    view(bytes).setBigUint64(40, 0xffff_ffff_ffff_0000n, true); // e_shoff
    expect(elfError(bytes).message).toBe(
      'malformed ELF: offset/size field at offset 40 holds 0xffffffffffff0000, far beyond file size 512',
    );
  });

  it('rejects a version name pointing outside the string table', () => {
    const bytes = fixture('aarch64-dynamic');
    const sections = rawSections64(bytes);
    const verneed = sections.find((s) => s.type === SHT_GNU_VERNEED)!;
    const dv = view(bytes);
    const firstAux = verneed.offset + dv.getUint32(verneed.offset + 8, true); // vn_aux
    dv.setUint32(firstAux + 8, 0xffffff, true); // vna_name
    const dynstr = sections[view(bytes).getUint32(verneed.headerOffset + 40, true)]!; // sh_link
    expect(elfError(bytes).message).toBe(
      `malformed ELF: version-needs version name offset 16777215 is outside its string table (${dynstr.size} bytes at offset ${dynstr.offset})`,
    );
  });

  it('rejects a version-needs section whose sh_link is not a string table', () => {
    const bytes = fixture('aarch64-dynamic');
    const sections = rawSections64(bytes);
    const verneed = sections.find((s) => s.type === SHT_GNU_VERNEED)!;
    const dynamicIndex = sections.findIndex((s) => s.type === 6); // SHT_DYNAMIC
    view(bytes).setUint32(verneed.headerOffset + 40, dynamicIndex, true);
    expect(elfError(bytes).message).toBe(
      `malformed ELF: SHT_GNU_verneed section links to section ${dynamicIndex} of type 0x6, not a string table`,
    );
  });

  it('never throws anything but ElfFormatError on corrupted input', () => {
    // Deterministic fuzzing: overwrite a few random bytes (biased to the headers, where the
    // offsets live) of each fixture and check that readElf either answers or explains.
    const names = [
      'x86_64-static',
      'x86_64-static-pie',
      'x86_64-glibc236',
      'x86_64-relocatable.o',
      'aarch64-dynamic',
      'i386-dynamic',
      'ppc32be-dynamic',
    ];
    const originals = names.map(fixture);
    let seed = 0x5eed;
    const random = (limit: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % limit;
    };
    let errors = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = originals[i % originals.length]!.slice();
      for (let j = 0; j <= random(4); j++) {
        bytes[random(2) === 0 ? random(64) : random(bytes.length)] = random(256);
      }
      try {
        readElf(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(ElfFormatError);
        errors++;
      }
    }
    // Sanity check that the corruption actually reached the parser's failure paths.
    expect(errors).toBeGreaterThan(100);
  });

  it('is an Error with its own name', () => {
    const error = elfError(new Uint8Array(0));
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ElfFormatError');
  });
});

describe('compareVersions', () => {
  it.each([
    ['2.9', '2.28', -1],
    ['2.28', '2.34', -1],
    ['2.34', '2.28', 1],
    ['2.34', '2.34', 0],
    ['2.34', '2.34.0', 0],
    ['2.2.5', '2.3', -1],
    ['2.3.4', '2.3', 1],
    ['2.26', '2.3.4', 1],
    ['10.0', '9.99', 1],
    ['2', '2.0.0', 0],
  ])('compareVersions(%s, %s) is %d', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });

  it('sorts glibc versions numerically', () => {
    expect(['2.34', '2.2.5', '2.28', '2.9', '2.17', '2.3'].sort(compareVersions)).toEqual(['2.2.5', '2.3', '2.9', '2.17', '2.28', '2.34']);
  });

  it.each(['GLIBC_2.34', '', '2..3', '2.x', ' 2.34', '2.34.'])('rejects %j as not a dotted numeric version', (bad) => {
    expect(() => compareVersions(bad, '2.34')).toThrow(RangeError);
    expect(() => compareVersions('2.34', bad)).toThrow(`not a dotted numeric version: '${bad}'`);
  });
});
