import type * as fs from 'node:fs';
import { z } from 'zod';
import { buildSettingsSchema } from '../fingerprint/fingerprint.js';
import type { FileHashIndex } from '../fingerprint/hash-index.js';
import { writeFileAtomic } from '../support/atomic-write.js';
import { isMissing, NotRegularFileError, readRegularFileWithStat } from '../support/regular-file.js';

/*
 * The metadata written next to the zip in `dist/` (`<name>.json`): what was built, from what,
 * and how long it took. It is the cache's memory: the fast path compares the current fingerprint
 * with the one here and never touches Docker when they match. The shared cache stores the same
 * document next to its zip.
 *
 * It is written last, by rename, only after the zip is complete and verified, so it never claims
 * a build that did not finish. Reading is validated: a missing, unreadable or malformed file is
 * a cache miss with that reason, never a crash. It is never trusted alone: every hit also checks
 * the zip it describes (its hash and layout, read, or vouched for by the hash index while the zip's
 * stat is unchanged: check.ts's inspectZip).
 */
export const METADATA_SCHEMA_VERSION = 2;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const artifactMetadataSchema = z.object({
  schemaVersion: z.literal(METADATA_SCHEMA_VERSION),
  artifact: z.string(),
  fingerprint: hex64,
  settings: buildSettingsSchema,
  /** Relative path -> content hash of every input, sorted by path. */
  // A plain check, not z.record: a workspace of 10,000 files makes a record zod would spend
  // ~15 ms walking on every cache check.
  inputs: z.custom<Record<string, string>>(isStringRecord, { message: 'expected an object of path -> hash strings' }),
  builderImage: z.object({ tag: z.string(), id: z.string() }),
  zip: z.object({
    /** The zip's file name, in the same folder as this metadata. */
    file: z.string(),
    size: z.number().int().nonnegative(),
    sha256: hex64,
    /** Base64 SHA-256: what Lambda reports as CodeSha256 and Terraform's source_code_hash expects. */
    sha256Base64: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
    /**
     * The fingerprint of the build that first produced these exact bytes. A rebuild that gives
     * the same zip (a comment edit, a forced rebuild) keeps it, so whatever is keyed on it, like
     * the stack's `artifact_fingerprint` output, plans no change when the deployed bytes do not.
     */
    originFingerprint: hex64,
  }),
  /** What the verification found in the binary. */
  binary: z.object({
    machine: z.string(),
    linkage: z.enum(['static', 'dynamic']),
    glibcRequired: z.string().nullable(),
    glibcAvailable: z.string(),
    size: z.number().int().nonnegative(),
  }),
  /**
   * Where this zip came from: built here (`build`), or downloaded from the shared cache and
   * verified (`remote`). And which cargo target folder built it: `local`, or `publish`, the one
   * only publishing builds (remote cache mode read-write) use; only those may be pushed.
   */
  origin: z.object({ kind: z.enum(['build', 'remote']), cacheDomain: z.enum(['local', 'publish']), remote: z.string().optional() }),
  builtAt: z.iso.datetime(),
  /** Milliseconds per stage of the run that wrote this metadata, and its total. */
  timingsMs: z.record(z.string(), z.number()),
});

export type ArtifactMetadata = z.infer<typeof artifactMetadataSchema>;

export type MetadataReadResult =
  | { readonly status: 'ok'; readonly metadata: ArtifactMetadata }
  | { readonly status: 'missing' }
  | { readonly status: 'unreadable'; readonly detail: string }
  | { readonly status: 'invalid'; readonly detail: string };

/**
 * Reads and validates the metadata file. With a hash index (hash-index.ts), a file validated
 * before and unchanged since (same size, mtime, ctime and inode, outside the racy window) is not
 * validated again: the rule the index applies to every input, and what keeps a check of 100
 * functions from running the schema 100 times.
 */
export function readMetadata(file: string, index?: FileHashIndex): MetadataReadResult {
  let text: string;
  let stat: fs.Stats;
  try {
    // Only a regular file is read: a FIFO put in its place would block the read forever.
    const read = readRegularFileWithStat(file);
    text = read.bytes.toString('utf8');
    stat = read.stat;
  } catch (error) {
    if (isMissing(error)) return { status: 'missing' };
    if (error instanceof NotRegularFileError) return { status: 'unreadable', detail: 'not a regular file' };
    return { status: 'unreadable', detail: (error as Error).message };
  }
  index?.cover(file);
  if (index?.known(file, stat) === VALIDATED) {
    try {
      return { status: 'ok', metadata: JSON.parse(text) as ArtifactMetadata };
    } catch {
      // Cannot be (the same bytes parsed before): validate below, which says what is wrong.
    }
  }
  const result = parseMetadata(text);
  // Trusted next time only if validation kept the document as it is (it drops unknown keys).
  if (result.status === 'ok' && index && JSON.stringify(result.metadata) === JSON.stringify(JSON.parse(text))) {
    index.remember(file, stat, VALIDATED);
  }
  return result;
}

/** What the hash index holds for a metadata file that passed validation (with this schema). */
const VALIDATED = `validated metadata schema ${METADATA_SCHEMA_VERSION}`;

/** Validates metadata text (from dist/ or from the shared cache). */
export function parseMetadata(text: string): MetadataReadResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { status: 'unreadable', detail: `not JSON (${(error as Error).message})` };
  }
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== METADATA_SCHEMA_VERSION) {
    return { status: 'invalid', detail: `schema version ${JSON.stringify(version)}, this engine reads ${METADATA_SCHEMA_VERSION}` };
  }
  const parsed = artifactMetadataSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problems)` : '';
    return { status: 'invalid', detail: `${first.path.join('.') || 'metadata'}: ${first.message}${more}` };
  }
  return { status: 'ok', metadata: parsed.data };
}

export function writeMetadata(file: string, metadata: ArtifactMetadata): void {
  writeFileAtomic(file, serializeMetadata(metadata));
}

/** The metadata as stored, locally and in the remote cache. */
export function serializeMetadata(metadata: ArtifactMetadata): string {
  return `${JSON.stringify(artifactMetadataSchema.parse(metadata), null, 2)}\n`;
}

function isStringRecord(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const key in value) if (typeof (value as Record<string, unknown>)[key] !== 'string') return false;
  return true;
}
