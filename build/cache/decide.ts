import type { BuildSettings, Fingerprint } from '../fingerprint/fingerprint.js';
import { canonicalJson } from '../fingerprint/fingerprint.js';
import { describeLockEntryInput } from '../fingerprint/lock-entries.js';
import type { MetadataReadResult } from './metadata.js';
import type { CacheDomain } from './paths.js';

/*
 * The cache decision, and nothing else: a pure function of what is known (the current
 * fingerprint, the stored metadata, the state of the zip, the force flag), so every path through
 * it is a unit test.
 */
export type ZipState =
  | { readonly state: 'matches' | 'missing' | 'differs' }
  /** The bytes are the ones described, but the file is not a zip Lambda can run (or not a file). */
  | { readonly state: 'invalid'; readonly detail: string };

export type MissReason =
  | { readonly kind: 'forced'; readonly source: string }
  | { readonly kind: 'no-metadata' }
  | { readonly kind: 'metadata-unusable'; readonly status: 'unreadable' | 'invalid'; readonly detail: string }
  | { readonly kind: 'zip-missing' }
  | { readonly kind: 'zip-differs' }
  | { readonly kind: 'zip-invalid'; readonly detail: string }
  | { readonly kind: 'setting-changed'; readonly setting: keyof BuildSettings; readonly from: unknown; readonly to: unknown }
  | {
      readonly kind: 'inputs-changed';
      readonly changed: readonly string[];
      readonly added: readonly string[];
      readonly removed: readonly string[];
    }
  /** Cargo.lock entries the function reaches (lock-entries.ts) that changed, came or went: by package. */
  | {
      readonly kind: 'lock-changed';
      readonly changed: readonly LockChange[];
      readonly added: readonly LockedVersion[];
      readonly removed: readonly LockedVersion[];
    }
  /** Fingerprints differ but no setting or input does: the metadata was written with other framing. */
  | { readonly kind: 'fingerprint-differs' }
  /** A publishing run found a zip a local build made: from cargo caches any build could write. */
  | { readonly kind: 'built-untrusted' };

export interface LockedVersion {
  readonly name: string;
  readonly version: string | undefined;
}

/** A package whose lock entry changed: its version from -> to (equal when its source, checksum or dependencies changed). */
export interface LockChange {
  readonly name: string;
  readonly from: string | undefined;
  readonly to: string | undefined;
}

export type Decision = { readonly outcome: 'cache-hit' } | { readonly outcome: 'cache-miss'; readonly reasons: readonly MissReason[] };

export interface DecisionInput {
  readonly current: Fingerprint;
  readonly metadata: MetadataReadResult;
  /** The zip's state against the metadata; irrelevant when there is no usable metadata. */
  readonly zip: ZipState;
  /** Why a rebuild is forced (e.g. `FORCE_REBUILD=1`), or undefined when it is not. */
  readonly forcedBy: string | undefined;
  /**
   * The cache domain this run builds in (artifact-paths.ts). A publishing run does not reuse a
   * zip built in the local domain: it is what publishing builds' own caches exist to avoid.
   * @default 'local'
   */
  readonly domain?: CacheDomain;
}

export function decide({ current, metadata, zip, forcedBy, domain = 'local' }: DecisionInput): Decision {
  const reasons: MissReason[] = [];
  if (forcedBy !== undefined) reasons.push({ kind: 'forced', source: forcedBy });

  if (metadata.status === 'missing') {
    reasons.push({ kind: 'no-metadata' });
    return { outcome: 'cache-miss', reasons };
  }
  if (metadata.status !== 'ok') {
    reasons.push({ kind: 'metadata-unusable', status: metadata.status, detail: metadata.detail });
    return { outcome: 'cache-miss', reasons };
  }

  const stored = metadata.metadata;
  if (zip.state === 'missing') reasons.push({ kind: 'zip-missing' });
  if (zip.state === 'differs') reasons.push({ kind: 'zip-differs' });
  if (zip.state === 'invalid') reasons.push({ kind: 'zip-invalid', detail: zip.detail });
  if (domain === 'publish' && stored.origin.cacheDomain === 'local') reasons.push({ kind: 'built-untrusted' });

  if (stored.fingerprint !== current.value) {
    const before = reasons.length;
    reasons.push(...inputChanges(new Map(Object.entries(stored.inputs)), current.inputs));
    reasons.push(...settingChanges(stored.settings, current.settings));
    if (reasons.length === before) reasons.push({ kind: 'fingerprint-differs' });
  }

  return reasons.length === 0 ? { outcome: 'cache-hit' } : { outcome: 'cache-miss', reasons };
}

function settingChanges(stored: BuildSettings, current: BuildSettings): MissReason[] {
  const keys = Object.keys(current) as (keyof BuildSettings)[];
  return keys
    .filter((key) => canonicalJson(stored[key]) !== canonicalJson(current[key]))
    .map((key) => ({ kind: 'setting-changed', setting: key, from: stored[key], to: current[key] }));
}

function inputChanges(stored: ReadonlyMap<string, string>, current: ReadonlyMap<string, string>): MissReason[] {
  const files = { changed: [] as string[], added: [] as string[], removed: [] as string[] };
  const lock = { changed: [] as LockChange[], added: [] as LockedVersion[], removed: [] as LockedVersion[] };
  for (const [key, hash] of current) {
    const before = stored.get(key);
    const entry = describeLockEntryInput(key, hash);
    if (before === hash) continue;
    if (entry && before === undefined) lock.added.push({ name: entry.name, version: entry.version });
    else if (entry) lock.changed.push({ name: entry.name, from: describeLockEntryInput(key, before)?.version, to: entry.version });
    else if (before === undefined) files.added.push(key);
    else files.changed.push(key);
  }
  for (const [key, hash] of stored) {
    if (current.has(key)) continue;
    const entry = describeLockEntryInput(key, hash);
    if (entry) lock.removed.push({ name: entry.name, version: entry.version });
    else files.removed.push(key);
  }
  const reasons: MissReason[] = [];
  if (files.changed.length + files.added.length + files.removed.length > 0) reasons.push({ kind: 'inputs-changed', ...files });
  if (lock.changed.length + lock.added.length + lock.removed.length > 0) reasons.push({ kind: 'lock-changed', ...lock });
  return reasons;
}
