import type { BuildSettings, Fingerprint } from '../fingerprint/fingerprint.js';
import { canonicalJson } from '../fingerprint/fingerprint.js';
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
  /** Fingerprints differ but no setting or input does: the metadata was written with other framing. */
  | { readonly kind: 'fingerprint-differs' }
  /** A publishing run found a zip a local build made: from cargo caches any build could write. */
  | { readonly kind: 'built-untrusted' };

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
    const inputs = inputChanges(new Map(Object.entries(stored.inputs)), current.inputs);
    if (inputs) reasons.push(inputs);
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

function inputChanges(stored: ReadonlyMap<string, string>, current: ReadonlyMap<string, string>): MissReason | undefined {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [file, hash] of current) {
    const before = stored.get(file);
    if (before === undefined) added.push(file);
    else if (before !== hash) changed.push(file);
  }
  for (const file of stored.keys()) if (!current.has(file)) removed.push(file);
  if (changed.length + added.length + removed.length === 0) return undefined;
  return { kind: 'inputs-changed', changed, added, removed };
}
