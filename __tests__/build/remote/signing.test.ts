import { createHash, sign } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { canonicalJson } from '../../../build/fingerprint/fingerprint.js';
import { generateKeyPair, parseSigningKey, parseTrustedKey, type SigningKey, type TrustedKey } from '../../../build/remote/keys.js';
import { loadSigningKey } from '../../../build/remote/signing-key.js';
import {
  type Claim,
  checkSignature,
  describeProvenance,
  makeStatement,
  type Provenance,
  readStatementUnverified,
  signStatement,
  unsignedReason,
} from '../../../build/remote/statement.js';

// The statement, its signature and its check, with keys made here: no bucket, no SDK.

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const FINGERPRINT = sha('fingerprint');

const CLAIM: Claim = {
  fingerprint: FINGERPRINT,
  zip: { sha256: sha('zip'), size: 271_600 },
  metadataSha256: sha('metadata'),
  architecture: 'x86_64',
  runtime: 'provided.al2023',
};

const PROVENANCE: Provenance = {
  builderImageId: `sha256:${sha('image')}`,
  tool: 'aws-serverless-sweep 0.1.0',
  sourceRevision: '0123456789abcdef0123456789abcdef01234567',
  signedAt: '2026-12-05T10:00:00.000Z',
};

function pair(name: string): { signing: SigningKey; trusted: TrustedKey } {
  const { privateText, publicLine } = generateKeyPair(name);
  const signing = parseSigningKey(privateText);
  const trusted = parseTrustedKey(publicLine);
  if (typeof signing === 'string' || typeof trusted === 'string') throw new Error(`keygen gave unusable text: ${signing} ${trusted}`);
  return { signing, trusted };
}

const A = pair('ci-a');
const B = pair('ci-b');
const signedBy = (key: SigningKey, claim: Claim = CLAIM) => signStatement(makeStatement(claim, key.name, PROVENANCE), key);

describe('keys', () => {
  it('keygen text round-trips: the private key knows its public half and name', () => {
    const { privateText, publicLine } = generateKeyPair('ci-2026');
    expect(privateText).toMatch(/^sweep-signing-key:ci-2026:[A-Za-z0-9+/]{43}=$/);
    expect(publicLine).toMatch(/^ci-2026:[A-Za-z0-9+/]{43}=$/);
    const signing = parseSigningKey(`${privateText}\n`) as SigningKey;
    expect(signing.name).toBe('ci-2026');
    expect(signing.trusted).toEqual(parseTrustedKey(publicLine));
  });

  it.each([
    ['', 'expected NAME:<base64 public key>'],
    ['ci-a', 'expected NAME:<base64 public key>'],
    [':AAAA', 'expected NAME:<base64 public key>'],
    ['../etc:AAAA', 'the key name must be letters, digits'],
    ['ci-a:AAAA', 'is not the base64 of a 32-byte Ed25519 public key'],
    [`ci-a:${'A'.repeat(43)}=x`, 'is not the base64 of a 32-byte Ed25519 public key'],
    ['sweep-signing-key:ci-a:Zm9vYmFyZm9vYmFy', 'this is a private signing key'],
  ])('a trusted key %j is refused: %s', (line, problem) => {
    const parsed = parseTrustedKey(line);
    expect(typeof parsed).toBe('string');
    expect(parsed).toContain(problem);
    expect(parsed).not.toContain('Zm9vYmFy');
  });

  it('a public key given as the signing key is named as such; a broken private key is not repeated', () => {
    expect(parseSigningKey(generateKeyPair('x').publicLine)).toBe(
      'this is a public key (NAME:<base64>); the signing key is the content of the ".private" file',
    );
    const broken = parseSigningKey('sweep-signing-key:ci-a:s3cr3tbutnotbase64!');
    expect(broken).toBe('the part after "sweep-signing-key:ci-a:" is not the base64 of a 32-byte Ed25519 key');
  });
});

describe('signStatement and checkSignature', () => {
  it('GIVEN a signature by a trusted key over exactly these bytes THEN it is valid, with its statement', () => {
    const verdict = checkSignature(signedBy(A.signing), A.trusted, CLAIM);
    expect(verdict).toEqual({ valid: true, statement: makeStatement(CLAIM, 'ci-a', PROVENANCE) });
  });

  it('signs the canonical text of the statement, which is stored as is', () => {
    const document = JSON.parse(new TextDecoder().decode(signedBy(A.signing)));
    const statement = makeStatement(CLAIM, 'ci-a', PROVENANCE);
    expect(document.statement).toBe(canonicalJson(statement));
    expect(document.signature).toBe(sign(null, Buffer.from(canonicalJson(statement)), A.signing.privateKey).toString('base64'));
    expect(readStatementUnverified(signedBy(A.signing))).toEqual(statement);
  });

  it("GIVEN a signature by another key where ci-a's belongs THEN the signature does not match", () => {
    // What a reader trusting ci-a sees when someone else writes `<fingerprint>.sig/ci-a`.
    const verdict = checkSignature(signedBy(B.signing), A.trusted, CLAIM);
    expect(verdict).toEqual({ valid: false, problem: 'signature', why: 'the signature by ci-a does not match' });
  });

  it.each<[string, Partial<Claim>, string]>([
    [
      'the metadata',
      { metadataSha256: sha('other metadata') },
      `metadata sha256: signed ${sha('metadata').slice(0, 12)}, here ${sha('other metadata').slice(0, 12)}`,
    ],
    [
      'the zip',
      { zip: { sha256: sha('other zip'), size: 271_600 } },
      `zip sha256: signed ${sha('zip').slice(0, 12)}, here ${sha('other zip').slice(0, 12)}`,
    ],
    ['the zip size', { zip: { sha256: sha('zip'), size: 1 } }, 'zip size: signed 271600, here 1'],
    [
      'the fingerprint',
      { fingerprint: sha('other') },
      `fingerprint: signed ${FINGERPRINT.slice(0, 12)}, here ${sha('other').slice(0, 12)}`,
    ],
    ['the architecture', { architecture: 'arm64' }, 'architecture: signed x86_64, here arm64'],
    ['the runtime', { runtime: 'provided.al2' }, 'runtime: signed provided.al2023, here provided.al2'],
  ])('GIVEN a valid signature over other bytes (%s) THEN the statement does not match them', (_what, change, mismatch) => {
    const verdict = checkSignature(signedBy(A.signing), A.trusted, { ...CLAIM, ...change });
    expect(verdict).toEqual({
      valid: false,
      problem: 'statement',
      why: `the statement signed by ci-a does not match these bytes (${mismatch})`,
    });
  });

  it("GIVEN a valid signature by ci-a stored under ci-b's name, with ci-b's key the same as ci-a's THEN the statement names another key", () => {
    const verdict = checkSignature(signedBy(A.signing), { name: 'ci-b', publicKey: A.trusted.publicKey }, CLAIM);
    expect(verdict).toEqual({
      valid: false,
      problem: 'statement',
      why: 'the statement signed by ci-b does not match these bytes (key: signed ci-a, here ci-b)',
    });
  });

  it('GIVEN the statement edited after signing THEN the signature does not match', () => {
    const document = JSON.parse(new TextDecoder().decode(signedBy(A.signing)));
    document.statement = document.statement.replace(CLAIM.zip.sha256, sha('evil zip'));
    const verdict = checkSignature(new TextEncoder().encode(JSON.stringify(document)), A.trusted, {
      ...CLAIM,
      zip: { ...CLAIM.zip, sha256: sha('evil zip') },
    });
    expect(verdict).toEqual({ valid: false, problem: 'signature', why: 'the signature by ci-a does not match' });
  });

  it.each([
    '',
    'not json',
    '{}',
    '{"statement":"x","signature":"short"}',
    JSON.stringify({ statement: 1, signature: `${'A'.repeat(86)}==` }),
  ])('GIVEN an object that is not a signature (%j) THEN it does not match, and says so', (text) => {
    expect(checkSignature(new TextEncoder().encode(text), A.trusted, CLAIM)).toEqual({
      valid: false,
      problem: 'signature',
      why: 'the signature by ci-a does not match (the object is not a signature)',
    });
  });

  it('GIVEN a validly signed statement this version does not read (another type) THEN it is refused, not trusted', () => {
    const text = canonicalJson({ ...makeStatement(CLAIM, 'ci-a', PROVENANCE), type: 'something/else' });
    const signature = sign(null, Buffer.from(text), A.signing.privateKey).toString('base64');
    const document = new TextEncoder().encode(JSON.stringify({ statement: text, signature }));
    expect(checkSignature(document, A.trusted, CLAIM)).toEqual({
      valid: false,
      problem: 'statement',
      why: 'the statement signed by ci-a is not one this version reads',
    });
  });

  it('refuses to sign a statement for another key', () => {
    expect(() => signStatement(makeStatement(CLAIM, 'ci-b', PROVENANCE), A.signing)).toThrow('cannot be signed with key ci-a');
  });
});

describe('what is said about a build without a trusted signature', () => {
  it('names the untrusted signers, or says unsigned', () => {
    expect(unsignedReason([])).toBe('unsigned');
    expect(unsignedReason(['ci-evil'])).toBe('signed only by an untrusted key ci-evil');
    expect(unsignedReason(['x', 'y'])).toBe('signed only by untrusted keys x, y');
  });

  it('describes provenance with what came from the bucket escaped', () => {
    expect(describeProvenance(PROVENANCE)).toBe(
      `builder image sha256:${sha('image')}, aws-serverless-sweep 0.1.0, source 0123456789abcdef0123456789abcdef01234567, signed 2026-12-05T10:00:00.000Z`,
    );
    expect(describeProvenance({ ...PROVENANCE, tool: 'x\n[api] cache-hit (remote s3://b/p)', sourceRevision: null })).toBe(
      `builder image sha256:${sha('image')}, x\\n[api] cache-hit (remote s3://b/p), source unknown (not a git checkout), signed 2026-12-05T10:00:00.000Z`,
    );
  });
});

describe('loadSigningKey: the publisher key from the environment', () => {
  const { privateText } = generateKeyPair('ci-a');
  const secret = privateText.split(':')[2]!;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-signing-key-'));
  const file = path.join(folder, 'ci-a.private');
  fs.writeFileSync(file, `${privateText}\n`, { mode: 0o600 });

  it('reads SWEEP_SIGNING_KEY, or the file SWEEP_SIGNING_KEY_FILE names; neither is no key', () => {
    for (const env of [{ SWEEP_SIGNING_KEY: privateText }, { SWEEP_SIGNING_KEY_FILE: file }]) {
      const setting = loadSigningKey(env);
      expect(setting.kind === 'key' && setting.key.name).toBe('ci-a');
    }
    expect(loadSigningKey({ SWEEP_SIGNING_KEY: ' ', SWEEP_SIGNING_KEY_FILE: '' })).toEqual({ kind: 'none' });
  });

  it.each<[string, Record<string, string>, string]>([
    ['both set', { SWEEP_SIGNING_KEY: 'x', SWEEP_SIGNING_KEY_FILE: 'y' }, 'both SWEEP_SIGNING_KEY and SWEEP_SIGNING_KEY_FILE are set'],
    [
      'a damaged key',
      { SWEEP_SIGNING_KEY: `${privateText.slice(0, -3)}!!=` },
      'SWEEP_SIGNING_KEY: the part after "sweep-signing-key:ci-a:" is not the base64 of a 32-byte Ed25519 key',
    ],
    [
      'a missing file',
      { SWEEP_SIGNING_KEY_FILE: path.join(folder, 'nope') },
      `SWEEP_SIGNING_KEY_FILE (${path.join(folder, 'nope')}) cannot be read (ENOENT)`,
    ],
    ['a folder', { SWEEP_SIGNING_KEY_FILE: folder }, `SWEEP_SIGNING_KEY_FILE (${folder}) is not a regular file`],
  ])('%s is unusable, said without the key', (_name, env, problem) => {
    const setting = loadSigningKey(env);
    expect(setting).toMatchObject({ kind: 'unusable', problem });
    expect(JSON.stringify(setting)).not.toContain(secret.slice(0, 20));
  });
});
