import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { readElf } from '../../../build/package/elf.js';

/**
 * The ELF reader (build/package/elf.ts) against binutils' readelf, on the ELF files of the machine the
 * test runs on: for each, the machine, the interpreter, the shared libraries needed and the glibc
 * symbol versions needed must be what readelf says. This is what backs the checks before deploy.
 */
const FOLDERS = ['/usr/bin', '/usr/sbin', '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/libexec'];
const MAX_FILES = 1500;

describe('readElf agrees with readelf on this machine', () => {
  it('for every ELF file in /usr/bin, /usr/sbin and the system library folders (up to 1,500)', async () => {
    const files = elfFiles();
    expect(files.length).toBeGreaterThan(100);
    const mismatches: string[] = [];
    const reports = await readelfAll(files);
    for (const file of files) {
      const ours = readElf(fs.readFileSync(file));
      const theirs = parseReadelf(reports.get(file) ?? '');
      const compare = (what: string, a: unknown, b: unknown) => {
        if (JSON.stringify(a) !== JSON.stringify(b))
          mismatches.push(`${file}: ${what}: ours ${JSON.stringify(a)}, readelf ${JSON.stringify(b)}`);
      };
      compare('machine', ours.machine, theirs.machine);
      compare('interpreter', ours.interpreter, theirs.interpreter);
      compare('needed libraries', ours.neededLibraries, theirs.needed);
      compare('glibc versions', [...ours.glibcVersionsNeeded].sort(), [...theirs.glibcVersions].sort());
    }
    expect(mismatches).toEqual([]);
  });
});

function elfFiles(): string[] {
  const found: string[] = [];
  for (const folder of FOLDERS) {
    let entries: string[];
    try {
      entries = fs.readdirSync(folder).sort();
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (found.length >= MAX_FILES) return found;
      const file = path.join(folder, entry);
      const stat = fs.lstatSync(file);
      if (!stat.isFile() || stat.size < 64 || stat.size > 50 * 1024 * 1024) continue;
      const head = Buffer.alloc(4);
      const fd = fs.openSync(file, 'r');
      try {
        fs.readSync(fd, head, 0, 4, 0);
      } finally {
        fs.closeSync(fd);
      }
      if (head.toString('latin1') === '\x7fELF') found.push(file);
    }
  }
  return found;
}

const MACHINES: Record<string, string> = { 'Advanced Micro Devices X86-64': 'x86_64', AArch64: 'aarch64' };

/** readelf's report of each file, 100 files per call (readelf heads each with `File: <path>`). */
async function readelfAll(files: readonly string[]): Promise<Map<string, string>> {
  const reports = new Map<string, string>();
  for (let i = 0; i < files.length; i += 100) {
    const batch = files.slice(i, i + 100);
    const { stdout } = await execa('readelf', ['-h', '-l', '-d', '-V', '--wide', ...batch], { reject: false });
    // With one file readelf prints no `File:` heading.
    if (batch.length === 1) {
      reports.set(batch[0]!, stdout);
      continue;
    }
    const parts = stdout.split(/^File: /m).slice(1);
    for (const part of parts) {
      const newline = part.indexOf('\n');
      reports.set(part.slice(0, newline).trim(), part.slice(newline + 1));
    }
  }
  return reports;
}

function parseReadelf(stdout: string) {
  const machineName = /^\s*Machine:\s+(.*)$/m.exec(stdout)?.[1]?.trim() ?? '';
  const machine = MACHINES[machineName] ?? `unknown(${machineName})`;
  const interpreter = /\[Requesting program interpreter: (.*)\]/.exec(stdout)?.[1] ?? null;
  const needed = [...stdout.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]!);
  // Only the version-needs section counts (not the version definitions a library exports).
  const needsSection = /Version needs section '\.gnu\.version_r'[\s\S]*?(?=\n\S|\n*$)/.exec(stdout)?.[0] ?? '';
  const glibcVersions = [...new Set([...needsSection.matchAll(/Name: (GLIBC_\d+(?:\.\d+)+)\b/g)].map((m) => m[1]!))];
  return { machine, interpreter, needed, glibcVersions };
}
