import * as fs from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-write.js';

/**
 * The record written next to the zip in `dist/` (`<name>.json`): what was built, from what, and
 * how long it took. It is the cache's memory: the fast path compares the current fingerprint with
 * the one here and never touches Docker when they match.
 *
 * It is written last, by rename, only after the zip is complete and verified, so it never claims
 * a build that did not finish. Reading is validated: a missing, unreadable or malformed record is
 * a cache miss with that reason, never a crash.
 */
export const METADATA_SCHEMA_VERSION = 1;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const buildSettingsSchema = z.object({
  engine: z.number().int(),
  package: z.string(),
  binary: z.string(),
  target: z.string(),
  profile: z.string(),
  features: z.array(z.string()),
  runtime: z.string(),
  toolchainImage: z.string(),
  builderRecipe: z.string(),
  env: z.record(z.string(), z.string()),
});

export const artifactRecordSchema = z.object({
  schemaVersion: z.literal(METADATA_SCHEMA_VERSION),
  artifact: z.string(),
  fingerprint: hex64,
  settings: buildSettingsSchema,
  /** Relative path -> content hash of every input, sorted by path. */
  inputs: z.record(z.string(), z.string()),
  builderImage: z.object({ tag: z.string(), id: z.string() }),
  zip: z.object({
    /** The zip's file name, in the same folder as this record. */
    file: z.string(),
    size: z.number().int().nonnegative(),
    sha256: hex64,
    /** Base64 SHA-256: what Lambda reports as CodeSha256 and Terraform's source_code_hash expects. */
    sha256Base64: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
    /** The zip's mtime when it was written; while it is unchanged the hash is trusted unread. */
    mtimeMs: z.number(),
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
  builtAt: z.iso.datetime(),
  /** Milliseconds per stage of the build that wrote this record, and its total. */
  timingsMs: z.record(z.string(), z.number()),
});

export type ArtifactRecord = z.infer<typeof artifactRecordSchema>;

export type MetadataReadResult =
  | { readonly status: 'ok'; readonly record: ArtifactRecord }
  | { readonly status: 'missing' }
  | { readonly status: 'unreadable'; readonly detail: string }
  | { readonly status: 'invalid'; readonly detail: string };

export function readMetadata(file: string): MetadataReadResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
    return { status: 'unreadable', detail: (error as Error).message };
  }
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
  const parsed = artifactRecordSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problems)` : '';
    return { status: 'invalid', detail: `${first.path.join('.') || 'record'}: ${first.message}${more}` };
  }
  return { status: 'ok', record: parsed.data };
}

export function writeMetadata(file: string, record: ArtifactRecord): void {
  writeFileAtomic(file, `${JSON.stringify(artifactRecordSchema.parse(record), null, 2)}\n`);
}
