import { describe, expect, it } from '@jest/globals';
import { parseCargoLock, reachableEntries } from '../../../build/cargo/lockfile.js';

// Cargo.lock as a graph: what one package reaches is what its binary can be built from.
const REGISTRY = 'registry+https://github.com/rust-lang/crates.io-index';

const LOCK = `version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "serde 1.0.200",
 "util",
]

[[package]]
name = "other"
version = "0.1.0"
dependencies = [
 "serde 0.9.15",
]

[[package]]
name = "serde"
version = "0.9.15"
source = "${REGISTRY}"
checksum = "${'a'.repeat(64)}"

[[package]]
name = "serde"
version = "1.0.200"
source = "${REGISTRY}"
checksum = "${'b'.repeat(64)}"
dependencies = [
 "serde_derive",
]

[[package]]
name = "serde_derive"
version = "1.0.200"
source = "${REGISTRY}"
checksum = "${'c'.repeat(64)}"

[[package]]
name = "util"
version = "0.1.0"
`;

const names = (entries: ReturnType<typeof reachableEntries>) => entries?.map((e) => `${e.name} ${e.version}`);

describe('reachableEntries', () => {
  it('follows dependencies named by name, or name and version, transitively, and nothing else', () => {
    expect(names(reachableEntries(parseCargoLock(LOCK), 'app'))).toEqual([
      'app 0.1.0',
      'serde 1.0.200',
      'serde_derive 1.0.200',
      'util 0.1.0',
    ]);
    expect(names(reachableEntries(parseCargoLock(LOCK), 'other'))).toEqual(['other 0.1.0', 'serde 0.9.15']);
  });

  it('keeps source and checksum of registry packages', () => {
    const serde = reachableEntries(parseCargoLock(LOCK), 'other')!.find((e) => e.name === 'serde')!;
    expect(serde).toEqual({ name: 'serde', version: '0.9.15', source: REGISTRY, checksum: 'a'.repeat(64), dependencies: [] });
  });

  it('is undefined for a package the lock does not hold, or a registry package (not a workspace crate)', () => {
    expect(reachableEntries(parseCargoLock(LOCK), 'missing')).toBeUndefined();
    expect(reachableEntries(parseCargoLock(LOCK), 'serde_derive')).toBeUndefined();
  });

  it('is undefined when a dependency names no entry or an ambiguous one (the lock does not describe the workspace)', () => {
    expect(reachableEntries(parseCargoLock(LOCK.replace('"util",', '"nope",')), 'app')).toBeUndefined();
    expect(reachableEntries(parseCargoLock(LOCK.replace('"serde 1.0.200",', '"serde",')), 'app')).toBeUndefined();
  });

  it('reads the checksums of a version 1 lock from [metadata]', () => {
    const v1 = `[[package]]
name = "app"
version = "0.1.0"
dependencies = ["itoa 1.0.9 (${REGISTRY})"]

[[package]]
name = "itoa"
version = "1.0.9"
source = "${REGISTRY}"

[metadata]
"checksum itoa 1.0.9 (${REGISTRY})" = "${'d'.repeat(64)}"
`;
    expect(reachableEntries(parseCargoLock(v1), 'app')?.find((e) => e.name === 'itoa')?.checksum).toBe('d'.repeat(64));
  });

  it('throws a message naming the entry that is malformed', () => {
    expect(() => parseCargoLock('[[package]]\nname = "x"\n')).toThrow('package entry 1 has no name or version');
    expect(() => parseCargoLock('[[package]]\nname = "x"\nversion = "1"\ndependencies = [1]\n')).toThrow(
      'package x 1: dependencies is not a list of strings',
    );
  });
});
