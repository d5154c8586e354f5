import { sign, verify } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../fingerprint/fingerprint.js';
import { ARCHITECTURES, RUNTIMES } from '../options/schema.js';
import { printable } from '../support/printable.js';
import { publicKeyObject, type SigningKey, type TrustedKey } from './keys.js';

/*
 * What a signature in the shared cache vouches for: a statement naming the exact bytes of one
 * build (the fingerprint, the zip's SHA-256 and size, the SHA-256 of the metadata document as
 * stored, the architecture and runtime), the key that signs, and where the build came from
 * (builder image ID, this tool's version, the source revision, the time). The signature is
 * Ed25519 over the statement's canonical JSON text (sorted keys, no spaces).
 *
 * Stored as `{"statement": "<that text>", "signature": "<base64>"}`: the reader verifies the
 * signature over the text exactly as stored, and only then reads it, so the encoding never has
 * to be reproduced to check it. A reader trusts nothing in the statement that it can check
 * itself: every byte-level claim is compared with what it downloaded and with its own settings.
 */

export const STATEMENT_TYPE = 'aws-serverless-sweep/artifact';
export const STATEMENT_VERSION = 1;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

const statementSchema = z
  .object({
    type: z.literal(STATEMENT_TYPE),
    version: z.literal(STATEMENT_VERSION),
    key: z.string().max(200),
    fingerprint: hex64,
    zip: z.object({ sha256: hex64, size: z.number().int().nonnegative() }).strict(),
    metadata: z.object({ sha256: hex64 }).strict(),
    architecture: z.enum(ARCHITECTURES),
    runtime: z.enum(RUNTIMES),
    provenance: z
      .object({
        builderImageId: z.string().max(200),
        tool: z.string().max(200),
        sourceRevision: z.string().max(200).nullable(),
        signedAt: z.iso.datetime(),
      })
      .strict(),
  })
  .strict();

export type Statement = z.infer<typeof statementSchema>;
export type Provenance = Statement['provenance'];

/** What the bytes are, as a reader knows them without the statement (or a publisher about to sign). */
export interface Claim {
  readonly fingerprint: string;
  readonly zip: { readonly sha256: string; readonly size: number };
  /** SHA-256 (hex) of the metadata document's bytes as stored. */
  readonly metadataSha256: string;
  readonly architecture: Statement['architecture'];
  readonly runtime: Statement['runtime'];
}

export function makeStatement(claim: Claim, keyName: string, provenance: Provenance): Statement {
  return {
    type: STATEMENT_TYPE,
    version: STATEMENT_VERSION,
    key: keyName,
    fingerprint: claim.fingerprint,
    zip: { sha256: claim.zip.sha256, size: claim.zip.size },
    metadata: { sha256: claim.metadataSha256 },
    architecture: claim.architecture,
    runtime: claim.runtime,
    provenance,
  };
}

/** The signature object's bytes: the statement's canonical text and its Ed25519 signature. */
export function signStatement(statement: Statement, key: SigningKey): Uint8Array {
  if (statement.key !== key.name) throw new TypeError(`a statement for key ${statement.key} cannot be signed with key ${key.name}`);
  const text = canonicalJson(statementSchema.parse(statement));
  const signature = sign(null, Buffer.from(text, 'utf8'), key.privateKey).toString('base64');
  return new TextEncoder().encode(`${JSON.stringify({ statement: text, signature })}\n`);
}

export type SignatureVerdict =
  | { readonly valid: true; readonly statement: Statement }
  /** `signature`: not made by this key (or not a signature at all); `statement`: a valid signature of something else. */
  | { readonly valid: false; readonly problem: 'signature' | 'statement'; readonly why: string };

const documentSchema = z.object({ statement: z.string().max(16 * 1024), signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/) });

/**
 * Whether `document` (a signature object's bytes) is `key`'s signature of exactly `claim`.
 * `why` is one phrase for a warning line; it may hold text from the document: escape it to print.
 */
export function checkSignature(document: Uint8Array, key: TrustedKey, claim: Claim): SignatureVerdict {
  const by = `by ${key.name}`;
  let parsed: z.infer<typeof documentSchema>;
  try {
    parsed = documentSchema.parse(JSON.parse(new TextDecoder().decode(document)));
  } catch {
    return { valid: false, problem: 'signature', why: `the signature ${by} does not match (the object is not a signature)` };
  }
  const signature = Buffer.from(parsed.signature, 'base64');
  if (!verify(null, Buffer.from(parsed.statement, 'utf8'), publicKeyObject(key), signature)) {
    return { valid: false, problem: 'signature', why: `the signature ${by} does not match` };
  }
  let statement: Statement;
  try {
    statement = statementSchema.parse(JSON.parse(parsed.statement));
  } catch {
    return { valid: false, problem: 'statement', why: `the statement signed ${by} is not one this version reads` };
  }
  const mismatch = firstMismatch(statement, key, claim);
  if (mismatch) return { valid: false, problem: 'statement', why: `the statement signed ${by} does not match these bytes (${mismatch})` };
  return { valid: true, statement };
}

function firstMismatch(statement: Statement, key: TrustedKey, claim: Claim): string | undefined {
  const short = (value: string) => value.slice(0, 12);
  const differs = (what: string, signed: string | number, here: string | number, show: (v: string) => string = short) =>
    signed === here ? undefined : `${what}: signed ${show(String(signed))}, here ${show(String(here))}`;
  return (
    differs('key', statement.key, key.name, String) ??
    differs('fingerprint', statement.fingerprint, claim.fingerprint) ??
    differs('metadata sha256', statement.metadata.sha256, claim.metadataSha256) ??
    differs('zip sha256', statement.zip.sha256, claim.zip.sha256) ??
    differs('zip size', statement.zip.size, claim.zip.size, String) ??
    differs('architecture', statement.architecture, claim.architecture, String) ??
    differs('runtime', statement.runtime, claim.runtime, String)
  );
}

/**
 * Why a build without a valid signature by a trusted key is discarded, when no trusted key's
 * signature was there at all: `signers` are the names of the signature objects the bucket holds
 * (text from the bucket: escape the result to print it).
 */
export function unsignedReason(signers: readonly string[]): string {
  if (signers.length === 0) return 'unsigned';
  const names = signers.join(', ');
  return signers.length === 1 ? `signed only by an untrusted key ${names}` : `signed only by untrusted keys ${names}`;
}

/** The statement of a signature object, without checking who signed it (for showing an untrusted key's claims). */
export function readStatementUnverified(document: Uint8Array): Statement | undefined {
  try {
    return statementSchema.parse(JSON.parse(documentSchema.parse(JSON.parse(new TextDecoder().decode(document))).statement));
  } catch {
    return undefined;
  }
}

/** `builder image sha256:0c70…, aws-serverless-sweep 0.1.0, source 1a2b3c4d…, signed 2026-…`, escaped. */
export function describeProvenance(provenance: Provenance): string {
  return [
    `builder image ${printable(provenance.builderImageId)}`,
    printable(provenance.tool),
    `source ${provenance.sourceRevision === null ? 'unknown (not a git checkout)' : printable(provenance.sourceRevision)}`,
    `signed ${printable(provenance.signedAt)}`,
  ].join(', ');
}
