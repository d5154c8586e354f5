/**
 * A small ELF reader for the pre-deploy check of a Rust Lambda `bootstrap` binary.
 *
 * Lambda runs the binary on a fixed OS image, so two things decide whether it can start at all:
 * the CPU architecture (`e_machine` must match the function's `x86_64`/`arm64`) and the newest
 * glibc symbol version it needs (provided.al2023 ships glibc 2.34, provided.al2 ships 2.26). A
 * mismatch otherwise only shows up after deployment as `Runtime.InvalidEntrypoint` or
 * "version `GLIBC_2.35' not found", so we read both from the file before uploading it.
 *
 * Everything is read through a bounds-checked DataView: the input is whatever the build
 * produced (or a user pointed us at), so a truncated or non-ELF file must end in an
 * {@link ElfFormatError} that says what is wrong, never a RangeError or a silently wrong answer.
 *
 * References: the System V gABI (ELF header, program/section headers, dynamic section) and the
 * LSB "Symbol Versioning" chapter (Elf_Verneed/Elf_Vernaux, SHT_GNU_verneed, DT_VERNEED).
 */

/** CPU architecture from `e_machine`: the two Lambda supports by name, anything else by number. */
export type ElfMachine = 'x86_64' | 'aarch64' | `unknown(${number})`;

/** What {@link readElf} learned about a binary. */
export interface ElfSummary {
  /** ELF class: 32- or 64-bit structures (EI_CLASS). */
  readonly bits: 32 | 64;
  /** Byte order of every multi-byte field (EI_DATA). */
  readonly littleEndian: boolean;
  /** `e_machine`: 62 is x86-64, 183 is AArch64. */
  readonly machine: ElfMachine;
  /**
   * `e_type`, with ET_DYN split in two: an ET_DYN file with a PT_INTERP program header or the
   * DF_1_PIE flag is a position-independent executable (what gcc and rustc produce by default),
   * otherwise it is a shared object. Note that a few shared libraries are also runnable and carry
   * PT_INTERP (glibc's own libc.so.6 does), so they are reported as PIEs; this reader is meant
   * for executables, where the rule is exact.
   */
  readonly fileType: 'executable' | 'position-independent-executable' | 'shared-object' | 'relocatable' | 'core' | `unknown(${number})`;
  /** Contents of PT_INTERP (the dynamic loader path), e.g. `/lib64/ld-linux-x86-64.so.2`. */
  readonly interpreter: string | null;
  /**
   * True when the file needs no dynamic loader and no shared libraries: no PT_INTERP, and either
   * no dynamic section or one without DT_NEEDED entries (a static PIE has a dynamic section only
   * to relocate itself).
   */
  readonly isStaticallyLinked: boolean;
  /** DT_NEEDED entries in file order, e.g. `['libc.so.6', 'libgcc_s.so.1']`. */
  readonly neededLibraries: readonly string[];
  /**
   * Distinct glibc symbol versions the file requires, with their prefix (e.g. `GLIBC_2.34`),
   * sorted ascending by version number. Taken from the version-needs table (.gnu.version_r) of
   * every library (libc, libm, libpthread, libdl, ld-linux, ...): any `GLIBC_<n>.<n>[.<n>...]`
   * name counts; `GLIBC_PRIVATE`, `GLIBC_ABI_*`, `GCC_*` and `GLIBCXX_*` do not, since they are
   * not glibc release numbers.
   */
  readonly glibcVersionsNeeded: readonly string[];
  /** The highest of {@link glibcVersionsNeeded} without the prefix (e.g. `'2.34'`), or null. */
  readonly maxGlibcVersion: string | null;
}

/** The input is not a well-formed ELF file; the message says which part is missing or broken. */
export class ElfFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfFormatError';
  }
}

// ELF constants (System V gABI and GNU extensions).
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;

const ET_REL = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const ET_CORE = 4;

const EM_X86_64 = 62;
const EM_AARCH64 = 183;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
/** e_phnum value meaning "the real count is in section header 0's sh_info". */
const PN_XNUM = 0xffff;

const SHT_STRTAB = 3;
const SHT_DYNAMIC = 6;
const SHT_NOBITS = 8;
const SHT_GNU_VERNEED = 0x6ffffffe;

const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
const DT_FLAGS_1 = 0x6ffffffbn;
const DT_VERNEED = 0x6ffffffen;
const DT_VERNEEDNUM = 0x6fffffffn;
const DF_1_PIE = 0x08000000n;

/** Elf32_Verneed and Elf64_Verneed (and their Vernaux) are the same: five 32/16-bit fields. */
const VERNEED_SIZE = 16;
const VERNAUX_SIZE = 16;

const GLIBC_VERSION = /^GLIBC_(\d+(?:\.\d+)+)$/;

/** A byte range of the file, already checked to lie inside it. */
interface Region {
  readonly offset: number;
  readonly size: number;
}

interface ProgramHeader {
  readonly type: number;
  readonly offset: number;
  readonly vaddr: bigint;
  readonly filesz: number;
}

interface SectionHeader {
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
}

interface DynamicEntry {
  readonly tag: bigint;
  readonly value: bigint;
}

/** Field layout of the two ELF classes: offsets of the fields whose position differs. */
interface Layout {
  readonly bits: 32 | 64;
  readonly ehsize: number;
  readonly phentsize: number;
  readonly shentsize: number;
  readonly dynentsize: number;
}

const LAYOUT32: Layout = { bits: 32, ehsize: 52, phentsize: 32, shentsize: 40, dynentsize: 8 };
const LAYOUT64: Layout = { bits: 64, ehsize: 64, phentsize: 56, shentsize: 64, dynentsize: 16 };

/**
 * Bounds-checked, endian-aware reads. Every accessor checks its own range too, so a bug in the
 * region checks above it still ends in an ElfFormatError rather than a RangeError.
 */
class Reader {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly little: boolean,
    readonly layout: Layout,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  /** Checks that `size` bytes at `offset` are inside the file and returns them as a region. */
  region(offset: number, size: number, what: string): Region {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0) {
      throw new ElfFormatError(`truncated ELF: ${what} at offset ${offset} (${size} bytes) is beyond file size ${this.length}`);
    }
    if (offset + size > this.length) {
      throw new ElfFormatError(
        `truncated ELF: ${what} at offset ${offset} (${size} bytes, ending at ${offset + size}) is beyond file size ${this.length}`,
      );
    }
    return { offset, size };
  }

  u16(offset: number): number {
    this.check(offset, 2);
    return this.view.getUint16(offset, this.little);
  }

  u32(offset: number): number {
    this.check(offset, 4);
    return this.view.getUint32(offset, this.little);
  }

  u64(offset: number): bigint {
    this.check(offset, 8);
    return this.view.getBigUint64(offset, this.little);
  }

  i64(offset: number): bigint {
    this.check(offset, 8);
    return this.view.getBigInt64(offset, this.little);
  }

  /** An Elf32_Addr/Elf64_Addr. Kept as bigint: 64-bit addresses can exceed 2^53. */
  addr(offset: number): bigint {
    return this.layout.bits === 64 ? this.u64(offset) : BigInt(this.u32(offset));
  }

  /**
   * A file offset or size (Elf_Off, or an Elf_Xword size). 64-bit values beyond 2^53 cannot
   * describe anything inside a buffer and would lose precision as numbers, so they are rejected.
   */
  word(offset: number): number {
    if (this.layout.bits === 32) return this.u32(offset);
    const value = this.u64(offset);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ElfFormatError(
        `malformed ELF: offset/size field at offset ${offset} holds 0x${value.toString(16)}, far beyond file size ${this.length}`,
      );
    }
    return Number(value);
  }

  /** A NUL-terminated string at `index` inside string table `table`. */
  string(table: Region, index: number, what: string): string {
    if (index >= table.size) {
      throw new ElfFormatError(
        `malformed ELF: ${what} name offset ${index} is outside its string table (${table.size} bytes at offset ${table.offset})`,
      );
    }
    const start = table.offset + index;
    const end = this.bytes.subarray(start, table.offset + table.size).indexOf(0);
    if (end < 0) {
      throw new ElfFormatError(`malformed ELF: ${what} name at offset ${start} is not NUL-terminated within its string table`);
    }
    return utf8.decode(this.bytes.subarray(start, start + end));
  }

  private check(offset: number, size: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > this.length) {
      throw new ElfFormatError(`truncated ELF: reading ${size} bytes at offset ${offset} is beyond file size ${this.length}`);
    }
  }
}

const utf8 = new TextDecoder('utf-8');

/**
 * Reads the architecture, linkage and glibc requirements of an ELF file.
 *
 * @param bytes the whole file (a Node Buffer works: it is a Uint8Array).
 * @throws ElfFormatError when the bytes are not an ELF file, or a structure the answer depends
 *   on is truncated or points outside the file.
 */
export function readElf(bytes: Uint8Array): ElfSummary {
  const header = readHeader(bytes);
  const { reader } = header;

  // Section headers first: with extended numbering the program header count lives in section 0.
  // (It also means a file cut short in transit, which loses the section header table at its
  // end first, is reported as exactly that.)
  const sections = readSectionHeaders(reader, header);
  const phnum = header.phnum === PN_XNUM && sections.length > 0 ? sections[0]!.info : header.phnum;
  const programs = readProgramHeaders(reader, header.phoff, header.phentsize, phnum);

  const interpreter = readInterpreter(reader, programs);
  const dynamic = readDynamic(reader, programs, sections);
  const dynstr = dynamic.length > 0 ? dynamicStringTable(reader, dynamic, programs, sections) : null;

  const neededLibraries = dynamic
    .filter((entry) => entry.tag === DT_NEEDED)
    .map((entry) => reader.string(requireTable(dynstr), toIndex(entry.value), 'DT_NEEDED'));

  const versionNames = readVersionNeeds(reader, sections, dynamic, dynstr, programs);
  const glibcVersionsNeeded = [...new Set(versionNames.filter((name) => GLIBC_VERSION.test(name)))].sort((a, b) =>
    compareVersions(glibcNumber(a), glibcNumber(b)),
  );
  const highest = glibcVersionsNeeded.at(-1);

  const flags1 = dynamic.find((entry) => entry.tag === DT_FLAGS_1)?.value ?? 0n;
  const isPie = interpreter !== null || (flags1 & DF_1_PIE) !== 0n;

  return {
    bits: reader.layout.bits,
    littleEndian: reader.little,
    machine: machineName(header.machine),
    fileType: fileTypeName(header.type, isPie),
    interpreter,
    isStaticallyLinked: interpreter === null && neededLibraries.length === 0,
    neededLibraries,
    glibcVersionsNeeded,
    maxGlibcVersion: highest === undefined ? null : glibcNumber(highest),
  };
}

/**
 * Compares dotted numeric versions component by component, as numbers: '2.9' < '2.28' < '2.34'.
 * Missing trailing components count as 0, so '2.34' equals '2.34.0'.
 *
 * @returns -1, 0 or 1, usable directly as an Array.prototype.sort comparator.
 * @throws RangeError when either argument is not digits separated by dots (a string compare
 *   would silently get '2.9' vs '2.28' wrong, so garbage is rejected rather than guessed at).
 */
export function compareVersions(a: string, b: string): number {
  const left = versionParts(a);
  const right = versionParts(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i] ?? 0;
    const y = right[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function versionParts(version: string): number[] {
  if (!/^\d+(\.\d+)*$/.test(version)) {
    throw new RangeError(`not a dotted numeric version: '${version}'`);
  }
  return version.split('.').map(Number);
}

function glibcNumber(name: string): string {
  return name.slice('GLIBC_'.length);
}

interface Header {
  readonly reader: Reader;
  readonly type: number;
  readonly machine: number;
  readonly phoff: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shoff: number;
  readonly shentsize: number;
  readonly shnum: number;
}

function readHeader(bytes: Uint8Array): Header {
  if (bytes.byteLength === 0) {
    throw new ElfFormatError('not an ELF file (the file is empty)');
  }
  const magic = bytes.subarray(0, 4);
  if (magic.length < 4 || magic[0] !== 0x7f || magic[1] !== 0x45 || magic[2] !== 0x4c || magic[3] !== 0x46) {
    const shown = Array.from(magic, (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new ElfFormatError(`not an ELF file (first bytes ${shown}; an ELF file starts with 7f 45 4c 46)`);
  }
  if (bytes.byteLength < 6) {
    throw new ElfFormatError(`truncated ELF: file is ${bytes.byteLength} bytes, too short for the ELF identification`);
  }

  const elfClass = bytes[4];
  const layout = elfClass === ELFCLASS32 ? LAYOUT32 : elfClass === ELFCLASS64 ? LAYOUT64 : null;
  if (layout === null) throw new ElfFormatError(`malformed ELF: unknown ELF class ${elfClass} (expected 1 for 32-bit or 2 for 64-bit)`);
  const data = bytes[5];
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) {
    throw new ElfFormatError(`malformed ELF: unknown data encoding ${data} (expected 1 for little-endian or 2 for big-endian)`);
  }
  if (bytes.byteLength < layout.ehsize) {
    throw new ElfFormatError(
      `truncated ELF: file is ${bytes.byteLength} bytes, shorter than the ${layout.ehsize}-byte ELF${layout.bits} header`,
    );
  }

  const reader = new Reader(bytes, data === ELFDATA2LSB, layout);
  // Offsets of e_phoff and later fields shift by the size of e_entry (4 or 8 bytes).
  const is64 = layout.bits === 64;
  const phoff = reader.word(is64 ? 32 : 28);
  const shoff = reader.word(is64 ? 40 : 32);
  const at = is64 ? 54 : 42; // e_phentsize
  const phentsize = reader.u16(at);
  const phnum = reader.u16(at + 2);
  const shentsize = reader.u16(at + 4);
  const shnum = reader.u16(at + 6);

  // Entry sizes larger than ours are allowed by the gABI (we read the prefix we know, and walk
  // the table with the declared stride); smaller ones would make us read the next entry's
  // fields as this one's.
  if (phnum > 0 && phentsize < layout.phentsize) {
    throw new ElfFormatError(
      `malformed ELF: program header entry size ${phentsize} is smaller than the ${layout.phentsize} bytes of an ELF${layout.bits} program header`,
    );
  }
  if (shoff !== 0 && shentsize < layout.shentsize) {
    throw new ElfFormatError(
      `malformed ELF: section header entry size ${shentsize} is smaller than the ${layout.shentsize} bytes of an ELF${layout.bits} section header`,
    );
  }

  return { reader, type: reader.u16(16), machine: reader.u16(18), phoff, phentsize, phnum, shoff, shentsize, shnum };
}

function readSectionHeaders(reader: Reader, header: Header): SectionHeader[] {
  const { shoff, shentsize: entsize } = header;
  // e_shoff 0 means the section headers were stripped (sstrip, some packers): not an error,
  // the dynamic segment still has everything we need.
  if (shoff === 0) return [];
  // With 0xff00 or more sections, e_shnum is 0 and the real count is section 0's sh_size.
  let shnum = header.shnum;
  if (shnum === 0) {
    reader.region(shoff, entsize, 'section header 0');
    shnum = reader.word(shoff + (reader.layout.bits === 64 ? 32 : 20));
    if (shnum === 0) return [];
  }
  const table = reader.region(shoff, shnum * entsize, `section header table (${shnum} entries of ${entsize} bytes)`);

  const is64 = reader.layout.bits === 64;
  const sections: SectionHeader[] = [];
  for (let i = 0; i < shnum; i++) {
    const base = table.offset + i * entsize;
    sections.push({
      type: reader.u32(base + 4),
      offset: reader.word(base + (is64 ? 24 : 16)),
      size: reader.word(base + (is64 ? 32 : 20)),
      link: reader.u32(base + (is64 ? 40 : 24)),
      info: reader.u32(base + (is64 ? 44 : 28)),
    });
  }
  return sections;
}

function readProgramHeaders(reader: Reader, phoff: number, entsize: number, phnum: number): ProgramHeader[] {
  if (phnum === 0) return [];
  const table = reader.region(phoff, phnum * entsize, `program header table (${phnum} entries of ${entsize} bytes)`);

  const is64 = reader.layout.bits === 64;
  const programs: ProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const base = table.offset + i * entsize;
    programs.push(
      is64
        ? {
            type: reader.u32(base),
            offset: reader.word(base + 8),
            vaddr: reader.addr(base + 16),
            filesz: reader.word(base + 32),
          }
        : {
            type: reader.u32(base),
            offset: reader.word(base + 4),
            vaddr: reader.addr(base + 8),
            filesz: reader.word(base + 16),
          },
    );
  }
  return programs;
}

function readInterpreter(reader: Reader, programs: readonly ProgramHeader[]): string | null {
  const interp = programs.find((p) => p.type === PT_INTERP);
  if (!interp) return null;
  const region = reader.region(interp.offset, interp.filesz, 'PT_INTERP segment');
  const raw = reader.bytes.subarray(region.offset, region.offset + region.size);
  // The path is NUL-terminated inside the segment; anything after the NUL is padding.
  const nul = raw.indexOf(0);
  return utf8.decode(nul < 0 ? raw : raw.subarray(0, nul));
}

/**
 * The dynamic table, from PT_DYNAMIC (what the loader uses) or, when there are no program
 * headers, the SHT_DYNAMIC section. Stops at DT_NULL; the table may be padded after it.
 */
function readDynamic(reader: Reader, programs: readonly ProgramHeader[], sections: readonly SectionHeader[]): DynamicEntry[] {
  let region: Region | null = null;
  const segment = programs.find((p) => p.type === PT_DYNAMIC);
  if (segment) {
    region = reader.region(segment.offset, segment.filesz, 'PT_DYNAMIC segment');
  } else {
    const section = sections.find((s) => s.type === SHT_DYNAMIC);
    if (section) region = reader.region(section.offset, section.size, 'SHT_DYNAMIC section');
  }
  if (!region) return [];

  const { dynentsize, bits } = reader.layout;
  const entries: DynamicEntry[] = [];
  for (let at = region.offset; at + dynentsize <= region.offset + region.size; at += dynentsize) {
    const tag = bits === 64 ? reader.i64(at) : BigInt(reader.u32(at) | 0);
    if (tag === DT_NULL) break;
    const value = bits === 64 ? reader.u64(at + 8) : BigInt(reader.u32(at + 4));
    entries.push({ tag, value });
  }
  return entries;
}

/**
 * The dynamic string table that DT_NEEDED (and, in the fallback, verneed) names index into:
 * DT_STRTAB/DT_STRSZ translated to a file offset, or failing that the SHT_DYNAMIC section's
 * linked string table.
 */
function dynamicStringTable(
  reader: Reader,
  dynamic: readonly DynamicEntry[],
  programs: readonly ProgramHeader[],
  sections: readonly SectionHeader[],
): Region | null {
  const strtab = dynamic.find((entry) => entry.tag === DT_STRTAB);
  if (strtab) {
    const mapped = addressToRegion(reader, programs, strtab.value);
    if (mapped) {
      const strsz = dynamic.find((entry) => entry.tag === DT_STRSZ);
      const size = strsz ? Math.min(toIndex(strsz.value), mapped.size) : mapped.size;
      return { offset: mapped.offset, size };
    }
  }
  const section = sections.find((s) => s.type === SHT_DYNAMIC);
  if (section) return linkedStringTable(reader, sections, section.link, 'SHT_DYNAMIC section');
  if (strtab) {
    throw new ElfFormatError(`malformed ELF: DT_STRTAB address 0x${strtab.value.toString(16)} is not inside any PT_LOAD segment`);
  }
  return null;
}

function requireTable(table: Region | null): Region {
  if (!table) throw new ElfFormatError('malformed ELF: the dynamic section has DT_NEEDED entries but no DT_STRTAB string table');
  return table;
}

function linkedStringTable(reader: Reader, sections: readonly SectionHeader[], link: number, owner: string): Region {
  const table = sections[link];
  if (!table || link === 0 || table.type === SHT_NOBITS) {
    throw new ElfFormatError(`malformed ELF: ${owner} links to section ${link}, which is not a string table`);
  }
  if (table.type !== SHT_STRTAB) {
    throw new ElfFormatError(`malformed ELF: ${owner} links to section ${link} of type 0x${table.type.toString(16)}, not a string table`);
  }
  return reader.region(table.offset, table.size, `string table section ${link}`);
}

/**
 * Translates a virtual address to the file bytes that back it, via the PT_LOAD segment that
 * maps it. The region runs to the end of that segment's file image, which bounds any table
 * whose size the dynamic section doesn't state (the verneed table, in the fallback).
 */
function addressToRegion(reader: Reader, programs: readonly ProgramHeader[], address: bigint): Region | null {
  for (const p of programs) {
    if (p.type !== PT_LOAD) continue;
    if (address >= p.vaddr && address < p.vaddr + BigInt(p.filesz)) {
      const delta = Number(address - p.vaddr);
      const segment = reader.region(p.offset, p.filesz, 'PT_LOAD segment');
      return { offset: segment.offset + delta, size: segment.size - delta };
    }
  }
  return null;
}

/**
 * Names of all versions required from shared libraries (vna_name of every Elf_Vernaux).
 *
 * The SHT_GNU_verneed section is used when present (its size is exact and sh_link names its
 * string table). Stripped binaries without section headers still carry the same table in the
 * dynamic segment, found through DT_VERNEED/DT_VERNEEDNUM with names in DT_STRTAB.
 */
function readVersionNeeds(
  reader: Reader,
  sections: readonly SectionHeader[],
  dynamic: readonly DynamicEntry[],
  dynstr: Region | null,
  programs: readonly ProgramHeader[],
): string[] {
  const verneedSections = sections.filter((s) => s.type === SHT_GNU_VERNEED);
  if (verneedSections.length > 0) {
    return verneedSections.flatMap((section) => {
      const table = reader.region(section.offset, section.size, 'SHT_GNU_verneed section');
      const strings = linkedStringTable(reader, sections, section.link, 'SHT_GNU_verneed section');
      // sh_info is the number of Elf_Verneed entries.
      return walkVerneed(reader, table, section.info, strings);
    });
  }

  const verneed = dynamic.find((entry) => entry.tag === DT_VERNEED);
  if (!verneed) return [];
  const count = toIndex(dynamic.find((entry) => entry.tag === DT_VERNEEDNUM)?.value ?? 0n);
  const table = addressToRegion(reader, programs, verneed.value);
  if (!table) {
    throw new ElfFormatError(`malformed ELF: DT_VERNEED address 0x${verneed.value.toString(16)} is not inside any PT_LOAD segment`);
  }
  if (!dynstr) throw new ElfFormatError('malformed ELF: the dynamic section has DT_VERNEED but no DT_STRTAB string table');
  return walkVerneed(reader, table, count, dynstr);
}

/**
 * Walks a version-needs table: a chain of Elf_Verneed (one per library), each with a chain of
 * Elf_Vernaux (one per version). Links are byte offsets relative to the current entry; every
 * entry is checked to lie inside `table`. Links are unsigned, so the walk only moves forward and
 * ends within the table even when the declared counts are corrupt.
 */
function walkVerneed(reader: Reader, table: Region, count: number, strings: Region): string[] {
  const names: string[] = [];
  const end = table.offset + table.size;
  let need = table.offset;
  for (let i = 0; i < count; i++) {
    if (need + VERNEED_SIZE > end) {
      throw new ElfFormatError(
        `malformed ELF: version-needs entry ${i} at offset ${need} is outside the version-needs table (offset ${table.offset}, ${table.size} bytes)`,
      );
    }
    const auxCount = reader.u16(need + 2);
    const file = reader.string(strings, reader.u32(need + 4), 'version-needs file');
    let aux = need + reader.u32(need + 8);
    for (let j = 0; j < auxCount; j++) {
      if (aux + VERNAUX_SIZE > end) {
        throw new ElfFormatError(
          `malformed ELF: version-needs version ${j} of ${file} at offset ${aux} is outside the version-needs table (offset ${table.offset}, ${table.size} bytes)`,
        );
      }
      names.push(reader.string(strings, reader.u32(aux + 8), 'version-needs version'));
      const nextAux = reader.u32(aux + 12);
      if (nextAux === 0) break;
      aux += nextAux;
    }
    const next = reader.u32(need + 12);
    if (next === 0) break;
    need += next;
  }
  return names;
}

/** A dynamic-entry value used as an offset or count; too large for the file means corrupt. */
function toIndex(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

function machineName(machine: number): ElfMachine {
  if (machine === EM_X86_64) return 'x86_64';
  if (machine === EM_AARCH64) return 'aarch64';
  return `unknown(${machine})`;
}

function fileTypeName(type: number, isPie: boolean): ElfSummary['fileType'] {
  switch (type) {
    case ET_REL:
      return 'relocatable';
    case ET_EXEC:
      return 'executable';
    case ET_DYN:
      return isPie ? 'position-independent-executable' : 'shared-object';
    case ET_CORE:
      return 'core';
    default:
      return `unknown(${type})`;
  }
}
