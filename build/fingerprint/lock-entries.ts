import { createHash } from 'node:crypto';
import type { LockedPackage } from '../cargo/lockfile.js';
import { canonicalJson } from './fingerprint.js';

/*
 * Cargo.lock entries as fingerprint inputs, beside the files: `Cargo.lock//<name>` ->
 * `<version> <sha256 of the entry>`, the entry being its name, version, source, checksum and
 * dependencies. The key cannot be a file's path (a walked path never holds an empty segment), so
 * no file can stand in for an entry. A name the reachable set holds in several versions is keyed
 * `Cargo.lock//<name>@<version>` (and with ` (<source>)` where even that repeats).
 *
 * The version is in the value so that a miss can say `core 0.1.0 -> 0.2.0`; the hash covers
 * everything else (a new checksum, source or dependency of the same version is a change too).
 */
export const LOCK_ENTRY_PREFIX = 'Cargo.lock//';

export function lockEntryInputs(entries: readonly LockedPackage[]): Map<string, string> {
  const count = new Map<string, number>();
  const versionCount = new Map<string, number>();
  for (const e of entries) {
    count.set(e.name, (count.get(e.name) ?? 0) + 1);
    versionCount.set(`${e.name}@${e.version}`, (versionCount.get(`${e.name}@${e.version}`) ?? 0) + 1);
  }
  const inputs = new Map<string, string>();
  for (const entry of entries) {
    const { name, version, source, checksum, dependencies } = entry;
    let key = name;
    if (count.get(name)! > 1) key = `${name}@${version}`;
    if (versionCount.get(`${name}@${version}`)! > 1) key = `${key} (${source ?? 'path'})`;
    const hash = createHash('sha256')
      .update(canonicalJson({ name, version, source: source ?? null, checksum: checksum ?? null, dependencies }))
      .digest('hex');
    inputs.set(`${LOCK_ENTRY_PREFIX}${key}`, `${version} ${hash}`);
  }
  return inputs;
}

/** The package name and version of a lock-entry input, or undefined for any other input. */
export function describeLockEntryInput(key: string, value: string | undefined): { name: string; version: string | undefined } | undefined {
  if (!key.startsWith(LOCK_ENTRY_PREFIX)) return undefined;
  const name = key.slice(LOCK_ENTRY_PREFIX.length).replace(/@.*$|\s\(.*\)$/, '');
  return { name, version: value?.split(' ')[0] };
}
