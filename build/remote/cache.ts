import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CacheCheck } from '../cache/check.js';
import { type ArtifactMetadata, METADATA_SCHEMA_VERSION, parseMetadata, serializeMetadata } from '../cache/metadata.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import { UNZIPPED_LIMIT_BYTES } from '../package/lambda-limits.js';
import { type BinaryFacts, verifyZip } from '../package/verify.js';
import { SweepError } from '../support/errors.js';
import { printable } from '../support/printable.js';
import { isAlive } from '../support/processes.js';
import { formatBytes, type Reporter } from '../support/reporter.js';
import { formatDuration } from '../support/stage-timer.js';
import type { SigningKey, TrustedKey } from './keys.js';
import { Limiter } from './limiter.js';
import { sourceRevision, toolVersion } from './provenance.js';
import { loadSigningKey, SIGNING_KEY_ENV, SIGNING_KEY_FILE_ENV, type SigningKeySetting } from './signing-key.js';
import {
  type Claim,
  checkSignature,
  makeStatement,
  type Provenance,
  readStatementUnverified,
  signStatement,
  unsignedReason,
} from './statement.js';
import { RemoteCacheError, S3ArtifactStore } from './store.js';

/*
 * The shared artifact cache on S3: the fingerprint is the key, so a zip built and verified on
 * one machine is reused on every other machine with the same inputs, without Docker.
 *
 * Layout, under `<prefix>/v<metadata schema>/`:
 *   <fingerprint>.zip            the zip
 *   <fingerprint>.json           its metadata, written after the zip: the commit marker, so a
 *                                reader never sees metadata without its zip
 *   <fingerprint>.sig/<KEYNAME>  a signature by key KEYNAME (statement.ts), written last; one
 *                                object per key, so a second key can sign the same build later
 * Every object is only ever created (`If-None-Match: *`), never overwritten.
 *
 * Nothing downloaded is trusted: the metadata must be valid and name the fingerprint asked for,
 * the zip's size and SHA-256 must be the metadata's, and the zip must pass the checks a local
 * build gets (layout, ELF machine, glibc) for this function's runtime. With trusted keys set, a
 * valid signature by one of them over exactly these bytes is required too (checked before the zip
 * is downloaded). Anything else is discarded with one warning naming what failed, and the
 * artifact is built locally.
 *
 * Publishing signs with the key in SWEEP_SIGNING_KEY / SWEEP_SIGNING_KEY_FILE, read here, when
 * the first upload is about to happen, in the publishing process only.
 *
 * The remote is never required: any failure to reach it is one warning line, and the run goes on
 * without it (for the rest of the run, so several functions do not each wait for a timeout).
 */
export interface RemoteHit {
  readonly zip: Uint8Array;
  readonly facts: BinaryFacts;
  readonly metadata: ArtifactMetadata;
  readonly elapsedMs: number;
  /** The trusted key whose signature vouched for it; undefined when no keys are trusted. */
  readonly signedBy: string | undefined;
}

/** What `describe` found about one build in the shared cache (for `status --remote`). */
export type RemoteBuildReport = { readonly held: false } | { readonly held: true; readonly signatures: readonly SignatureReport[] };

export interface SignatureReport {
  /** The key name, from the object's key: text from the bucket (escape it to print). */
  readonly key: string;
  /** `trusted`: a valid signature by a trusted key of this build; `invalid`: by a trusted key, but not valid; `untrusted`: not checked. */
  readonly status: 'trusted' | 'invalid' | 'untrusted';
  /** For `invalid`: why (text from the bucket, escape it). */
  readonly why?: string;
  /** Verified for `trusted`, as claimed for `untrusted`. */
  readonly provenance?: Provenance;
}

const MAX_METADATA_BYTES = 16 * 1024 * 1024;
const MAX_SIGNATURE_BYTES = 64 * 1024;
const DOWNLOADS_FOLDER = 'remote-downloads';

let downloadCounter = 0;
/** The caches whose signing problem was said: once per run (per process), however many caches `push` opens. */
const signingReported = new Set<string>();

export class RemoteCache {
  private unavailable = false;
  private unsignedNoticeShown = false;
  private signing: SigningKeySetting | undefined;
  /** Downloaded zips are read into memory for their checks one at a time. */
  private readonly inMemory = new Limiter(1);

  private constructor(
    private readonly store: S3ArtifactStore,
    readonly url: string,
    private readonly bucket: string,
    private readonly prefix: string,
    readonly mode: 'read' | 'read-write',
    readonly trustedKeys: readonly TrustedKey[],
  ) {}

  /** The shared cache these options configure, or undefined when there is none or it is off. */
  static async open(options: ResolvedArtifactOptions, reporter: Reporter): Promise<RemoteCache | undefined> {
    const remote = options.remoteCache;
    if (!remote || remote.mode === 'off') return undefined;
    try {
      const store = await S3ArtifactStore.open(remote, { region: remote.region });
      return new RemoteCache(store, remote.url, remote.bucket, remote.prefix, remote.mode, remote.trustedKeys);
    } catch (error) {
      reporter.line(unavailableWarning(remote.url, error));
      return undefined;
    }
  }

  private key(fingerprint: string, name: 'zip' | 'json' | 'sig/'): string {
    const key = `v${METADATA_SCHEMA_VERSION}/${fingerprint}.${name}`;
    return this.prefix === '' ? key : `${this.prefix}/${key}`;
  }

  private signatureKey(fingerprint: string, keyName: string): string {
    return `${this.key(fingerprint, 'sig/')}${keyName}`;
  }

  private location(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  /**
   * Looks the artifact's fingerprint up. A download that passes every check is handed to
   * `accept` (which commits it) while its bytes are the only zip of this cache in memory, and
   * what `accept` returns is the result; undefined when there is nothing usable (the reason
   * reported).
   */
  async lookup<T>(check: CacheCheck, reporter: Reporter, accept: (hit: RemoteHit) => T): Promise<T | undefined> {
    if (this.unavailable) return undefined;
    const started = performance.now();
    const fingerprint = check.fingerprint.value;
    const zipKey = this.key(fingerprint, 'zip');
    const discard = (what: string) => {
      // Escaped: most of what can fail here is text from the bucket.
      reporter.line(`warning: remote: discarded ${this.location(zipKey)}: ${printable(what)}; building locally`);
      return undefined;
    };
    const trusted = this.trustedKeys;
    return this.guard(reporter, discard, async () => {
      // The signatures of the trusted keys come with the metadata, in parallel.
      const [metadataBytes, documents] = await Promise.all([
        this.store.get(this.key(fingerprint, 'json'), { maxBytes: MAX_METADATA_BYTES }),
        Promise.all(trusted.map((key) => this.store.get(this.signatureKey(fingerprint, key.name), { maxBytes: MAX_SIGNATURE_BYTES }))),
      ]);
      if (metadataBytes === undefined) {
        reporter.line(`remote: ${this.url} has no build of fingerprint ${fingerprint.slice(0, 12)}`);
        return undefined;
      }
      const parsed = parseMetadata(new TextDecoder().decode(metadataBytes));
      if (parsed.status !== 'ok') return discard(`its metadata is ${parsed.status}${'detail' in parsed ? ` (${parsed.detail})` : ''}`);
      const metadata = parsed.metadata;
      if (metadata.fingerprint !== fingerprint) return discard(`its metadata claims fingerprint ${metadata.fingerprint.slice(0, 12)}`);
      if (metadata.zip.size >= UNZIPPED_LIMIT_BYTES) return discard(`its metadata claims a zip of ${metadata.zip.size} bytes`);

      let signedBy: string | undefined;
      if (trusted.length > 0) {
        const claim = claimOf(check.options, metadata, metadataBytes);
        const verdicts = trusted.flatMap((key, i) => {
          const document = documents[i];
          return document === undefined ? [] : [{ key, verdict: checkSignature(document, key, claim) }];
        });
        const valid = verdicts.find((v) => v.verdict.valid);
        if (!valid) {
          const invalid = verdicts.find((v) => !v.verdict.valid);
          if (invalid && !invalid.verdict.valid) return discard(invalid.verdict.why);
          return discard(unsignedReason(await this.signers(fingerprint)));
        }
        signedBy = valid.key.name;
      }

      const file = this.downloadFile(check.options);
      try {
        const downloaded = await this.store.download(zipKey, file, { maxBytes: metadata.zip.size });
        if (downloaded === undefined) return discard('the zip is missing');
        if (downloaded.size !== metadata.zip.size)
          return discard(`the zip is ${downloaded.size} bytes, its metadata says ${metadata.zip.size}`);
        if (downloaded.sha256 !== metadata.zip.sha256)
          return discard(`the zip's sha256 ${downloaded.sha256.slice(0, 12)} is not the metadata's ${metadata.zip.sha256.slice(0, 12)}`);
        return await this.inMemory.run(() => {
          const zip = fs.readFileSync(file);
          let facts: BinaryFacts;
          try {
            facts = verifyZip(zip, check.options);
          } catch (error) {
            if (!(error instanceof SweepError)) throw error;
            return discard(`it fails verification: ${error.problem.replace(/; the zip was not committed.*$/, '')}`);
          }
          if (trusted.length === 0 && !this.unsignedNoticeShown) {
            this.unsignedNoticeShown = true;
            reporter.line(
              `remote: note: downloads from ${this.url} are not signature-checked (no trusted keys; see "Security and trust" in the README)`,
            );
          }
          return accept({ zip, facts, metadata, elapsedMs: performance.now() - started, signedBy });
        });
      } finally {
        fs.rmSync(file, { force: true });
      }
    });
  }

  /** The names of the signature objects the bucket holds for a fingerprint (text from the bucket). */
  private async signers(fingerprint: string): Promise<string[]> {
    const prefix = this.key(fingerprint, 'sig/');
    return (await this.store.list(prefix)).map((key) => key.slice(prefix.length)).filter((name) => name !== '');
  }

  /** Whether the shared cache holds this fingerprint, and who signed it; undefined when it cannot be reached. */
  async describe(check: CacheCheck, reporter: Reporter): Promise<RemoteBuildReport | undefined> {
    if (this.unavailable) return undefined;
    const fingerprint = check.fingerprint.value;
    return this.guard(reporter, undefined, async (): Promise<RemoteBuildReport> => {
      const metadataBytes = await this.store.get(this.key(fingerprint, 'json'), { maxBytes: MAX_METADATA_BYTES });
      if (metadataBytes === undefined) return { held: false };
      const parsed = parseMetadata(new TextDecoder().decode(metadataBytes));
      const claim = parsed.status === 'ok' ? claimOf(check.options, parsed.metadata, metadataBytes) : undefined;
      const signatures: SignatureReport[] = [];
      for (const name of await this.signers(fingerprint)) {
        const document = await this.store.get(this.signatureKey(fingerprint, name), { maxBytes: MAX_SIGNATURE_BYTES });
        if (document === undefined) continue;
        const key = this.trustedKeys.find((k) => k.name === name);
        if (key === undefined) {
          signatures.push({ key: name, status: 'untrusted', provenance: readStatementUnverified(document)?.provenance });
          continue;
        }
        const verdict = claim ? checkSignature(document, key, claim) : { valid: false as const, why: `the metadata is ${parsed.status}` };
        signatures.push(
          verdict.valid
            ? { key: name, status: 'trusted', provenance: verdict.statement.provenance }
            : { key: name, status: 'invalid', why: verdict.why },
        );
      }
      return { held: true, signatures };
    });
  }

  /**
   * Uploads a verified artifact: the zip, then its metadata, then (with a signing key) the
   * signature, each only if absent. Objects already there must be this very build (the zip's
   * bytes, the metadata's claims, a signature of it by this key): otherwise that is said, the
   * remote object is left as it is, and nothing more is written.
   *
   * Resolves to whether the store now holds this build, signed when this process signs (uploaded
   * now, or already there): a build goes on either way, but `push`, whose only job is the
   * upload, must fail when it did not happen.
   */
  async publish(check: CacheCheck, zip: Uint8Array, metadata: ArtifactMetadata, reporter: Reporter): Promise<boolean> {
    if (this.unavailable) return false;
    const signer = this.signer(reporter);
    if (signer === 'refused') return false;
    const started = performance.now();
    const fingerprint = metadata.fingerprint;
    const zipKey = this.key(fingerprint, 'zip');
    const metadataKey = this.key(fingerprint, 'json');
    const published = await this.guard(reporter, undefined, async () => {
      const zipResult = await this.store.putIfAbsent(zipKey, zip, { sha256: metadata.zip.sha256 });
      if (zipResult === 'exists') {
        // The bytes themselves, not the SHA-256 their writer stored with them (which it chose).
        const theirs = await this.sha256Of(zipKey, check.options);
        if (theirs !== metadata.zip.sha256) {
          reporter.line(
            `warning: remote: ${this.location(zipKey)} holds other bytes for this fingerprint (sha256 ${theirs?.slice(0, 12) ?? 'unknown'} there, ${metadata.zip.sha256.slice(0, 12)} here): the build is not reproducible, or someone other than a publisher wrote it; ${check.name} deploys this machine's verified build and the remote object is left as it is`,
          );
          return false;
        }
      }
      let storedMetadata: Uint8Array = new TextEncoder().encode(serializeMetadata(metadata));
      const metadataResult = await this.store.putIfAbsent(metadataKey, storedMetadata, {});
      if (metadataResult === 'exists') {
        const there = await this.store.get(metadataKey, { maxBytes: MAX_METADATA_BYTES });
        const problem = there === undefined ? 'it vanished' : metadataMismatch(there, metadata);
        if (problem !== undefined || there === undefined) {
          reporter.line(
            `warning: remote: ${this.location(metadataKey)} holds other metadata for this fingerprint (${printable(problem ?? '')}): someone other than a publisher wrote it, and readers discard the build; the remote object is left as it is`,
          );
          return false;
        }
        storedMetadata = there; // what readers read, so what a signature must name
      }
      let signature: 'created' | 'exists' | undefined;
      if (signer !== undefined) {
        const claim = claimOf(check.options, metadata, storedMetadata);
        const provenance: Provenance = {
          builderImageId: metadata.builderImage.id,
          tool: toolVersion(),
          sourceRevision: sourceRevision(check.options.projectRoot),
          signedAt: new Date().toISOString(),
        };
        const signatureKey = this.signatureKey(fingerprint, signer.name);
        signature = await this.store.putIfAbsent(signatureKey, signStatement(makeStatement(claim, signer.name, provenance), signer), {});
        if (signature === 'exists') {
          const there = await this.store.get(signatureKey, { maxBytes: MAX_SIGNATURE_BYTES });
          const verdict = there === undefined ? undefined : checkSignature(there, signer.trusted, claim);
          if (!verdict?.valid) {
            reporter.line(
              `warning: remote: ${this.location(signatureKey)} is there and is not ${signer.name}'s signature of this build (${printable(verdict?.why ?? 'it vanished')}): readers that trust ${signer.name} discard the build; remove that object`,
            );
            return false;
          }
        }
      }
      const signedNow = signature === 'created' ? `, signed by ${signer!.name}` : '';
      reporter.line(
        zipResult === 'created' || metadataResult === 'created'
          ? `remote: uploaded ${this.location(zipKey)} (${formatBytes(zip.byteLength)}) and its metadata in ${formatDuration(performance.now() - started)}${signedNow}`
          : `remote: already present in ${this.url}${signature === 'created' ? `; signed it with ${signer!.name}` : ''}`,
      );
      return true;
    });
    return published === true;
  }

  /**
   * The key this process signs with; undefined to upload unsigned (no key, and no trusted keys
   * to satisfy); 'refused' when nothing may be uploaded, said once per run.
   */
  private signer(reporter: Reporter): SigningKey | undefined | 'refused' {
    this.signing ??= loadSigningKey();
    const setting = this.signing;
    const once = (line: string) => {
      if (!signingReported.has(this.url)) reporter.line(line);
      signingReported.add(this.url);
    };
    if (setting.kind === 'unusable') {
      once(`warning: remote: nothing is uploaded to ${this.url}: the signing key is not usable (${setting.problem}); ${setting.fix}`);
      return 'refused';
    }
    if (setting.kind === 'none') {
      if (this.trustedKeys.length === 0) return undefined;
      once(
        `warning: remote: nothing is uploaded to ${this.url}: read-write mode without a signing key (${SIGNING_KEY_ENV} or ${SIGNING_KEY_FILE_ENV}) while trusted keys are set, so every reader would discard the uploads; give this job the publisher's key, or use mode read`,
      );
      return 'refused';
    }
    const key = setting.key;
    if (this.trustedKeys.length > 0 && !this.trustedKeys.some((k) => k.name === key.name && k.publicKey === key.trusted.publicKey)) {
      once(
        `warning: remote: signing with key ${key.name}, which is not among this configuration's trusted keys (or is listed with another public key): readers with this configuration discard what it signs`,
      );
    }
    return key;
  }

  /** The SHA-256 of an object's bytes, streamed through a temporary file; undefined when it is gone. */
  private async sha256Of(key: string, options: ResolvedArtifactOptions): Promise<string | undefined> {
    const file = this.downloadFile(options);
    try {
      return (await this.store.download(key, file, { checkStoredSha256: false }))?.sha256;
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  /**
   * A new file name for a download, in the cache folder (on disk, not in a tmpfs: a zip may be
   * 250 MB), after removing what downloads of processes that are gone left there.
   */
  private downloadFile(options: ResolvedArtifactOptions): string {
    const folder = path.join(options.cacheDir, DOWNLOADS_FOLDER);
    fs.mkdirSync(folder, { recursive: true });
    for (const entry of fs.readdirSync(folder)) {
      const pid = Number(/^(\d+)\.\d+\.part$/.exec(entry)?.[1]);
      if (pid && pid !== process.pid && !isAlive(pid)) fs.rmSync(path.join(folder, entry), { force: true });
    }
    return path.join(folder, `${process.pid}.${downloadCounter++}.part`);
  }

  /**
   * Runs one remote operation. Bytes that do not match what the store recorded for them
   * (`corrupted`) are a bad object: `onCorrupted` decides. Anything else means the store cannot
   * be used: a warning, and the remote is off for the rest of this run.
   */
  private async guard<T>(
    reporter: Reporter,
    onCorrupted: ((what: string) => T) | undefined,
    operation: () => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof RemoteCacheError)) throw error;
      if (error.kind === 'corrupted' && onCorrupted) return onCorrupted(error.reason);
      this.unavailable = true;
      reporter.line(unavailableWarning(this.url, error));
      return undefined;
    }
  }

  close(): void {
    this.store.destroy();
  }
}

/** What a signature of this build must say: the bytes as the metadata (stored as `metadataBytes`) describes them, for these options. */
function claimOf(options: ResolvedArtifactOptions, metadata: ArtifactMetadata, metadataBytes: Uint8Array): Claim {
  return {
    fingerprint: metadata.fingerprint,
    zip: { sha256: metadata.zip.sha256, size: metadata.zip.size },
    metadataSha256: createHash('sha256').update(metadataBytes).digest('hex'),
    architecture: options.architecture,
    runtime: options.runtime,
  };
}

/** How metadata found in the bucket differs from this build's in what readers check; undefined when it does not. */
function metadataMismatch(bytes: Uint8Array, ours: ArtifactMetadata): string | undefined {
  const parsed = parseMetadata(new TextDecoder().decode(bytes));
  if (parsed.status !== 'ok') return `it is ${parsed.status}`;
  const theirs = parsed.metadata;
  if (theirs.fingerprint !== ours.fingerprint) return `fingerprint ${theirs.fingerprint.slice(0, 12)}`;
  if (theirs.zip.sha256 !== ours.zip.sha256 || theirs.zip.size !== ours.zip.size)
    return `a zip of sha256 ${theirs.zip.sha256.slice(0, 12)}, ${theirs.zip.size} bytes; this build's is ${ours.zip.sha256.slice(0, 12)}, ${ours.zip.size} bytes`;
  return undefined;
}

/** One line: where, what failed, what to do; then that the run goes on. */
function unavailableWarning(url: string, error: unknown): string {
  if (error instanceof RemoteCacheError)
    return `warning: remote cache ${url} unavailable (${error.endpoint}: ${error.reason}; ${error.fix}); continuing without it`;
  return `warning: remote cache ${url} unavailable (${printable(error instanceof Error ? error.message : String(error))}); continuing without it`;
}
