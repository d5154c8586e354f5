import { createHash } from 'node:crypto';
import type { CacheCheck } from '../cache/check.js';
import { type ArtifactMetadata, METADATA_SCHEMA_VERSION, parseMetadata, serializeMetadata } from '../cache/metadata.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import { UNZIPPED_LIMIT_BYTES } from '../package/lambda-limits.js';
import { type BinaryFacts, verifyZip } from '../package/verify.js';
import { SweepError } from '../support/errors.js';
import { formatBytes, type Reporter } from '../support/reporter.js';
import { formatDuration } from '../support/stage-timer.js';
import { RemoteCacheError, S3ArtifactStore } from './store.js';

/*
 * The shared artifact cache on S3: the fingerprint is the key, so a zip built and verified on
 * one machine is reused on every other machine with the same inputs, without Docker.
 *
 * Layout: `<prefix>/v<metadata schema>/<fingerprint>.zip` and `.json` (the metadata, written
 * last: it is the commit marker, so a reader never sees metadata without its zip). Objects are
 * only ever created (`If-None-Match: *`), never overwritten.
 *
 * Nothing downloaded is trusted: the metadata must be valid and name the fingerprint asked for,
 * the zip's size and SHA-256 must be the metadata's, and the zip must pass the checks a local
 * build gets (layout, ELF machine, glibc) for this function's runtime. Anything else is discarded
 * with a warning naming what failed, and the artifact is built locally.
 *
 * The remote is never required: any failure to reach it is one warning line, and the run goes on
 * without it (for the rest of the run, so several functions do not each wait for a timeout).
 */
export interface RemoteHit {
  readonly zip: Uint8Array;
  readonly facts: BinaryFacts;
  readonly metadata: ArtifactMetadata;
  readonly elapsedMs: number;
}

export class RemoteCache {
  private unavailable = false;

  private constructor(
    private readonly store: S3ArtifactStore,
    readonly url: string,
    private readonly bucket: string,
    private readonly prefix: string,
    readonly mode: 'read' | 'read-write',
  ) {}

  /** The shared cache these options configure, or undefined when there is none or it is off. */
  static async open(options: ResolvedArtifactOptions, reporter: Reporter): Promise<RemoteCache | undefined> {
    const remote = options.remoteCache;
    if (!remote || remote.mode === 'off') return undefined;
    try {
      const store = await S3ArtifactStore.open(remote, { region: remote.region });
      return new RemoteCache(store, remote.url, remote.bucket, remote.prefix, remote.mode);
    } catch (error) {
      reporter.line(unavailableWarning(remote.url, error));
      return undefined;
    }
  }

  private key(fingerprint: string, extension: 'zip' | 'json'): string {
    const name = `v${METADATA_SCHEMA_VERSION}/${fingerprint}.${extension}`;
    return this.prefix === '' ? name : `${this.prefix}/${name}`;
  }

  private location(fingerprint: string, extension: 'zip' | 'json'): string {
    return `s3://${this.bucket}/${this.key(fingerprint, extension)}`;
  }

  /** Looks the artifact's fingerprint up; a verified download, or undefined (with the reason reported). */
  async lookup(check: CacheCheck, reporter: Reporter): Promise<RemoteHit | undefined> {
    if (this.unavailable) return undefined;
    const started = performance.now();
    const fingerprint = check.fingerprint.value;
    const discard = (what: string) => {
      reporter.line(`warning: remote: discarded ${this.location(fingerprint, 'zip')}: ${what}; building locally`);
      return undefined;
    };
    const attempt = await this.guard(reporter, discard, async () => {
      const metadataBytes = await this.store.get(this.key(fingerprint, 'json'), { maxBytes: 16 * 1024 * 1024 });
      if (metadataBytes === undefined) {
        reporter.line(`remote: ${this.url} has no build of fingerprint ${fingerprint.slice(0, 12)}`);
        return undefined;
      }
      const parsed = parseMetadata(new TextDecoder().decode(metadataBytes));
      if (parsed.status !== 'ok') return discard(`its metadata is ${parsed.status}${'detail' in parsed ? ` (${parsed.detail})` : ''}`);
      const metadata = parsed.metadata;
      if (metadata.fingerprint !== fingerprint) return discard(`its metadata claims fingerprint ${metadata.fingerprint.slice(0, 12)}`);
      if (metadata.zip.size >= UNZIPPED_LIMIT_BYTES) return discard(`its metadata claims a zip of ${metadata.zip.size} bytes`);
      const zip = await this.store.get(this.key(fingerprint, 'zip'), { maxBytes: metadata.zip.size });
      if (zip === undefined) return discard('the zip is missing or larger than its metadata says');
      if (zip.byteLength !== metadata.zip.size)
        return discard(`the zip is ${zip.byteLength} bytes, its metadata says ${metadata.zip.size}`);
      const sha256 = createHash('sha256').update(zip).digest('hex');
      if (sha256 !== metadata.zip.sha256)
        return discard(`the zip's sha256 ${sha256.slice(0, 12)} is not the metadata's ${metadata.zip.sha256.slice(0, 12)}`);
      let facts: BinaryFacts;
      try {
        facts = verifyZip(zip, check.options);
      } catch (error) {
        if (!(error instanceof SweepError)) throw error;
        return discard(`it fails verification: ${error.problem.replace(/; the zip was not committed.*$/, '')}`);
      }
      return { zip, facts, metadata, elapsedMs: performance.now() - started };
    });
    return attempt;
  }

  /** Whether the shared cache holds this fingerprint (one HEAD); undefined when it cannot be reached. */
  async has(fingerprint: string, reporter: Reporter): Promise<boolean | undefined> {
    return this.guard(reporter, undefined, async () => (await this.store.head(this.key(fingerprint, 'json'))) !== undefined);
  }

  /**
   * Uploads a verified artifact: the zip, then its metadata, each only if absent. When the zip is
   * already there with other bytes, the build is not reproducible: that is said, the remote object
   * is left as it is, and its metadata is not touched.
   *
   * Resolves to whether the store now holds this build (uploaded, or already there): a build goes
   * on either way, but `push`, whose only job is the upload, must fail when it did not happen.
   */
  async publish(check: CacheCheck, zip: Uint8Array, metadata: ArtifactMetadata, reporter: Reporter): Promise<boolean> {
    if (this.unavailable) return false;
    const started = performance.now();
    const fingerprint = metadata.fingerprint;
    const published = await this.guard(reporter, undefined, async () => {
      const zipResult = await this.store.putIfAbsent(this.key(fingerprint, 'zip'), zip, { sha256: metadata.zip.sha256 });
      if (zipResult === 'exists') {
        const there = await this.store.head(this.key(fingerprint, 'zip'));
        const theirs = there?.metadata.sha256;
        if (theirs !== metadata.zip.sha256) {
          reporter.line(
            `warning: remote: ${this.location(fingerprint, 'zip')} holds different bytes for this fingerprint (sha256 ${theirs?.slice(0, 12) ?? 'unknown'} there, ${metadata.zip.sha256.slice(0, 12)} here): the build is not reproducible; ${check.name} deploys this machine's verified build and the remote object is left as it is`,
          );
          return false;
        }
      }
      const text = new TextEncoder().encode(serializeMetadata(metadata));
      const metadataResult = await this.store.putIfAbsent(this.key(fingerprint, 'json'), text, {});
      reporter.line(
        zipResult === 'created' || metadataResult === 'created'
          ? `remote: uploaded ${this.location(fingerprint, 'zip')} (${formatBytes(zip.byteLength)}) and its metadata in ${formatDuration(performance.now() - started)}`
          : `remote: already present in ${this.url}`,
      );
      return true;
    });
    return published === true;
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

/** One line: where, what failed, what to do; then that the run goes on. */
function unavailableWarning(url: string, error: unknown): string {
  if (error instanceof RemoteCacheError)
    return `warning: remote cache ${url} unavailable (${error.endpoint}: ${error.reason}; ${error.fix}); continuing without it`;
  return `warning: remote cache ${url} unavailable (${error instanceof Error ? error.message : String(error)}); continuing without it`;
}
