import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { BinaryFacts } from '../package/verify.js';
import { removeAbandonedTemporaries, writeFileAtomic } from '../support/atomic-write.js';
import type { CacheCheck } from './check.js';
import { type ArtifactMetadata, METADATA_SCHEMA_VERSION, writeMetadata } from './metadata.js';

/*
 * Puts a verified zip in dist/ and writes the metadata that vouches for it: the zip first, then
 * the metadata, each to a temporary file renamed into place. At every moment the metadata on disk
 * describes a complete, verified zip, or the check sees a mismatch and builds again; a process
 * killed at any moment leaves the previous zip and metadata as they were.
 *
 * Built here or downloaded from the shared cache, every zip is committed by this one function.
 */
export interface CommitRequest {
  readonly check: CacheCheck;
  readonly zip: Uint8Array;
  /** The zip's SHA-256, when the caller has it already (it is computed here otherwise). */
  readonly sha256?: Buffer;
  readonly facts: BinaryFacts;
  readonly builderImage: ArtifactMetadata['builderImage'];
  readonly origin: ArtifactMetadata['origin'];
  /** For a download: the fingerprint of the build that first produced these bytes, elsewhere. */
  readonly originFingerprint?: string;
  readonly timingsMs: Readonly<Record<string, number>>;
}

export function commitArtifact(request: CommitRequest): ArtifactMetadata {
  const { check, zip, facts } = request;
  const { paths } = check;
  removeAbandonedTemporaries(paths.zip);
  removeAbandonedTemporaries(paths.metadata);
  const digest = request.sha256 ?? createHash('sha256').update(zip).digest();
  const sha256 = digest.toString('hex');
  const previous = check.metadata.status === 'ok' ? check.metadata.metadata : undefined;
  const sameBytes = previous?.zip.sha256 === sha256;

  writeFileAtomic(paths.zip, zip);
  const metadata: ArtifactMetadata = {
    schemaVersion: METADATA_SCHEMA_VERSION,
    artifact: check.name,
    fingerprint: check.fingerprint.value,
    settings: check.fingerprint.settings,
    inputs: Object.fromEntries(check.fingerprint.inputs),
    builderImage: request.builderImage,
    zip: {
      file: path.basename(paths.zip),
      size: zip.byteLength,
      sha256,
      sha256Base64: digest.toString('base64'),
      originFingerprint: sameBytes ? previous.zip.originFingerprint : (request.originFingerprint ?? check.fingerprint.value),
    },
    binary: {
      machine: facts.machine,
      linkage: facts.linkage,
      glibcRequired: facts.glibcRequired,
      glibcAvailable: facts.glibcAvailable,
      size: facts.size,
    },
    origin: request.origin,
    builtAt: new Date().toISOString(),
    timingsMs: { ...request.timingsMs },
  };
  writeMetadata(paths.metadata, metadata);
  return metadata;
}
