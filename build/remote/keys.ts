import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { isSafeName, SAFE_NAME_RULE } from '../support/safe-name.js';

/*
 * The key pairs that sign the shared cache (Ed25519, node:crypto), as text a person can paste:
 *
 * - a public key is one line `NAME:<base64 of the 32-byte raw key>`: what readers list in
 *   `sweep.artifact.remoteCache.trustedKeys` (or SWEEP_REMOTE_CACHE_TRUSTED_KEYS);
 * - a private key is one line `sweep-signing-key:NAME:<base64 of the 32-byte seed>`: what the
 *   publishing CI keeps in its secret store (SWEEP_SIGNING_KEY). The prefix keeps the two from
 *   being mistaken for each other (a private key pasted into cdktf.json is refused, not shown).
 *
 * The name travels with the key: it names the signature object (`<fingerprint>.sig/NAME`) and is
 * part of what is signed, so one bucket can hold signatures by several keys (rotation).
 * Pure and light: parsing needs no SDK, so the options can check keys without loading the store.
 */

export interface TrustedKey {
  readonly name: string;
  /** The raw 32-byte Ed25519 public key, base64. */
  readonly publicKey: string;
}

export interface SigningKey {
  readonly name: string;
  readonly privateKey: KeyObject;
  /** The matching public key, as a trusted-keys line would hold it. */
  readonly trusted: TrustedKey;
}

export const PRIVATE_KEY_PREFIX = 'sweep-signing-key:';

const RAW_KEY_BYTES = 32;
// DER headers of Ed25519 keys (RFC 8410): what node:crypto needs around the raw 32 bytes.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Why a piece of key text is not usable; never includes the text itself (it may be a secret). */
export type KeyProblem = string;

/** A public key line `NAME:<base64>`, or the problem with it (which never repeats a private key). */
export function parseTrustedKey(line: string): TrustedKey | KeyProblem {
  const text = line.trim();
  if (text.startsWith(PRIVATE_KEY_PREFIX))
    return 'this is a private signing key: it belongs only in the publishing CI\'s secret store; list the ".public" line instead';
  const colon = text.indexOf(':');
  if (colon <= 0) return 'expected NAME:<base64 public key>, as `sweep-runtime keygen` prints it';
  const name = text.slice(0, colon);
  if (!isSafeName(name)) return `the key name must be ${SAFE_NAME_RULE}`;
  const raw = decodeRaw(text.slice(colon + 1));
  if (raw === undefined) return `the part after "${name}:" is not the base64 of a 32-byte Ed25519 public key`;
  return { name, publicKey: raw.toString('base64') };
}

/** The private key text (SWEEP_SIGNING_KEY's value), or the problem with it (never the text). */
export function parseSigningKey(text: string): SigningKey | KeyProblem {
  const trimmed = text.trim();
  if (!trimmed.startsWith(PRIVATE_KEY_PREFIX)) {
    return typeof parseTrustedKey(trimmed) === 'object'
      ? 'this is a public key (NAME:<base64>); the signing key is the content of the ".private" file'
      : `expected ${PRIVATE_KEY_PREFIX}NAME:<base64>, the content of the ".private" file \`sweep-runtime keygen\` writes`;
  }
  const rest = trimmed.slice(PRIVATE_KEY_PREFIX.length);
  const colon = rest.indexOf(':');
  const name = colon > 0 ? rest.slice(0, colon) : '';
  if (!isSafeName(name)) return `the key name must be ${SAFE_NAME_RULE}`;
  const seed = decodeRaw(rest.slice(colon + 1));
  if (seed === undefined) return `the part after "${PRIVATE_KEY_PREFIX}${name}:" is not the base64 of a 32-byte Ed25519 key`;
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  return { name, privateKey, trusted: { name, publicKey: publicKey.toString('base64') } };
}

/** The node:crypto public key of a trusted key. */
export function publicKeyObject(key: TrustedKey): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(key.publicKey, 'base64')]), format: 'der', type: 'spki' });
}

/** A new key pair named `name` (a safe name), as the text of its two files. */
export function generateKeyPair(name: string): { readonly privateText: string; readonly publicLine: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  return {
    privateText: `${PRIVATE_KEY_PREFIX}${name}:${seed.toString('base64')}`,
    publicLine: trustedKeyLine({ name, publicKey: rawPublicKey(publicKey).toString('base64') }),
  };
}

/** `NAME:<base64>` */
export function trustedKeyLine(key: TrustedKey): string {
  return `${key.name}:${key.publicKey}`;
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

function decodeRaw(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === RAW_KEY_BYTES && bytes.toString('base64') === text ? bytes : undefined;
}
