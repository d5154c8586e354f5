import { type Architecture, type LambdaRuntime, RUNTIME_GLIBC } from '../options/schema.js';
import type { SweepError } from '../support/errors.js';
import { printable } from '../support/printable.js';
import { compareVersions, ElfFormatError, type ElfSummary, readElf } from './elf.js';
import { artifactRefused } from './errors.js';
import { exceedsUnzippedLimit, UNZIPPED_LIMIT_BYTES } from './lambda-limits.js';
import { ZIP_ENTRY_MODE, ZIP_ENTRY_NAME } from './zip.js';
import {
  inflateEntry,
  listZipEntries,
  readCentralDirectory,
  unzippedSize,
  type ZipEntry,
  ZipFormatError,
  zipInMemory,
} from './zip-read.js';

/*
 * Checks, before anything is committed, that the zip will start on Lambda: a zip that deploys and
 * then fails with Runtime.InvalidEntrypoint or a glibc error costs a whole deploy loop.
 * - exactly one entry, `bootstrap`, at the root, executable;
 * - an ELF executable for the function's architecture;
 * - no glibc symbol version newer than the runtime's glibc (a static binary needs none).
 */
export interface BinaryFacts {
  readonly machine: string;
  readonly linkage: 'static' | 'dynamic';
  /** Highest GLIBC_x.y symbol version the binary needs; null when static or none. */
  readonly glibcRequired: string | null;
  /** The runtime's glibc. */
  readonly glibcAvailable: string;
  readonly size: number;
  /** Shared libraries beyond glibc and libgcc the binary needs (the runtime may not have them). */
  readonly otherLibraries: readonly string[];
}

const ELF_MACHINE: Record<Architecture, string> = { x86_64: 'x86_64', arm64: 'aarch64' };

/** Libraries every provided.* runtime has: glibc's own and libgcc_s (Rust's unwinder). */
const RUNTIME_LIBRARIES = /^(libc|libm|libdl|libpthread|librt|libutil|libresolv|libgcc_s)\.so\.\d+$|^ld-linux/;

type Expected = { readonly architecture: Architecture; readonly runtime: LambdaRuntime };

/** Checks a zip this process packaged from `binary`. Throws a verify SweepError. */
export function verifyArtifact(zip: Uint8Array, binary: Uint8Array, expected: Expected): BinaryFacts {
  verifyZipLayout(zip);
  return verifyBinary(binary, expected);
}

function verifyBinary(binary: Uint8Array, expected: Expected): BinaryFacts {
  let elf: ElfSummary;
  try {
    elf = readElf(binary);
  } catch (error) {
    if (!(error instanceof ElfFormatError)) throw error;
    throw verifyError(
      `bootstrap is not an ELF executable (${error.message})`,
      'check that the binary target is a Rust `fn main` program built for Linux',
      error,
    );
  }
  const wanted = ELF_MACHINE[expected.architecture];
  if (elf.machine !== wanted) {
    throw verifyError(
      `bootstrap is built for ${elf.machine}, but the function's architecture is ${expected.architecture} (needs ${wanted})`,
      `build for the matching target: set \`architecture\` to the one you deploy, or check the target triple in .cargo/config.toml`,
    );
  }
  if (elf.fileType !== 'executable' && elf.fileType !== 'position-independent-executable') {
    throw verifyError(`bootstrap is a ${elf.fileType}, not an executable`, 'build a binary target (`[[bin]]`), not a library');
  }
  const available = RUNTIME_GLIBC[expected.runtime];
  const required = elf.maxGlibcVersion;
  if (required !== null && compareVersions(required, available) > 0) {
    const symbol = `GLIBC_${required}`;
    throw verifyError(
      `bootstrap needs ${symbol}, but ${expected.runtime} has glibc ${available}`,
      `build on an older base image (toolchain image rust:1-bullseye has glibc 2.31), or build a static binary with a musl target`,
    );
  }
  return {
    machine: elf.machine,
    linkage: elf.isStaticallyLinked ? 'static' : 'dynamic',
    glibcRequired: required,
    glibcAvailable: available,
    size: binary.byteLength,
    otherLibraries: elf.neededLibraries.filter((lib) => !RUNTIME_LIBRARIES.test(lib)),
  };
}

/**
 * The zip's layout problem, or undefined when it is what Lambda runs: exactly one entry,
 * `bootstrap`, at the root, executable. Reads only the central directory, so it is cheap enough
 * for every cache hit.
 */
export function checkZipLayout(zip: Uint8Array): string | undefined {
  let entries: ZipEntry[];
  try {
    entries = listZipEntries(zip);
  } catch (error) {
    return `the zip cannot be read: ${(error as Error).message}`;
  }
  const names = entries.map((e) => e.name);
  if (entries.length !== 1 || names[0] !== ZIP_ENTRY_NAME) {
    return `the zip must hold exactly one entry, ${ZIP_ENTRY_NAME}, at its root; it holds ${names.map(printable).join(', ') || 'nothing'}`;
  }
  const entry = entries[0]!;
  const mode = entry.unixMode;
  if (mode === undefined || (mode & 0o111) !== 0o111) {
    return `${ZIP_ENTRY_NAME} in the zip is not executable (mode ${mode === undefined ? 'unknown' : `0${(mode & 0o7777).toString(8)}`}, want 0${(ZIP_ENTRY_MODE & 0o7777).toString(8)})`;
  }
  const total = unzippedSize(entries);
  if (exceedsUnzippedLimit(total))
    return `${ZIP_ENTRY_NAME} is ${total} bytes unzipped; Lambda refuses code of ${UNZIPPED_LIMIT_BYTES} bytes or more`;
  return undefined;
}

function verifyZipLayout(zip: Uint8Array): void {
  const problem = checkZipLayout(zip);
  if (problem === undefined) return;
  const damaged = problem.startsWith('the zip cannot be read');
  throw verifyError(problem, damaged ? 'run again with FORCE_REBUILD=1' : 'this is a packaging bug: report it with the zip attached');
}

/**
 * The same checks for a zip made elsewhere (the shared cache): layout first (so nothing
 * over-large is inflated), then the binary inside it. Throws a verify SweepError.
 */
export function verifyZip(zip: Uint8Array, expected: Expected): BinaryFacts {
  verifyZipLayout(zip);
  let binary: Buffer;
  try {
    const bytes = zipInMemory(zip);
    const entry = readCentralDirectory(bytes).find((e) => e.name === ZIP_ENTRY_NAME);
    if (!entry) throw new ZipFormatError(`the zip has no ${ZIP_ENTRY_NAME} entry`);
    binary = inflateEntry(bytes, entry);
  } catch (error) {
    if (!(error instanceof ZipFormatError)) throw error;
    throw verifyError(`the zip cannot be read: ${error.message}`, 'the file is damaged; it will be rebuilt', error);
  }
  return verifyBinary(binary, expected);
}

function verifyError(problem: string, fix: string, cause?: unknown): SweepError {
  return artifactRefused(problem, fix, cause);
}

/** `x86_64 ELF, dynamic, needs glibc 2.28 (provided.al2023 has 2.34)` */
export function describeBinaryFacts(facts: BinaryFacts, runtime: LambdaRuntime): string {
  const glibc =
    facts.linkage === 'static' || facts.glibcRequired === null
      ? 'static, needs no glibc'
      : `dynamic, needs glibc ${facts.glibcRequired} (${runtime} has ${facts.glibcAvailable})`;
  const others = facts.otherLibraries.length > 0 ? `; also links ${facts.otherLibraries.join(', ')}: make sure ${runtime} has them` : '';
  return `${facts.machine} ELF, ${glibc}${others}`;
}
