import { createHash } from 'node:crypto';

/** The SHA-256 of `data`, hex: what the engine records for inputs and zips. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The SHA-256 of `data`, raw (its base64 is Lambda's CodeSha256). */
export function sha256Digest(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}
