import type { CacheCheck } from '../cache/check.js';
import { commitArtifact } from '../cache/commit.js';
import type { ArtifactResult } from '../engine/result.js';
import { formatBytes, type Reporter } from '../support/reporter.js';
import { formatDuration, formatTimings, type StageTimer } from '../support/stage-timer.js';
import { RemoteCache } from './cache.js';

/*
 * The shared-cache step of the engine: every miss is looked up in its shared cache (in
 * parallel); what downloads and verifies is committed to dist/ like a build and is a hit, the
 * rest is left to build. A forced rebuild skips the lookup: it asks for a build. The caches
 * opened here stay open for the run, to publish what is built afterwards.
 */
export interface RemoteLookupContext {
  readonly reporterFor: (prefix: string) => Reporter;
  readonly timerOf: (check: CacheCheck) => StageTimer;
}

export interface RemoteLookup {
  /** Verified downloads, committed, by zip path. */
  readonly hits: ReadonlyMap<string, ArtifactResult>;
  /** The misses still to build, in the caller's order. */
  readonly remaining: readonly CacheCheck[];
  /** The shared cache of an artifact, open, for publishing its build (read-write mode). */
  remoteOf(check: CacheCheck): RemoteCache | undefined;
  close(): void;
}

export async function lookUpRemotely(misses: readonly CacheCheck[], context: RemoteLookupContext): Promise<RemoteLookup> {
  const opened = new Map<string, Promise<RemoteCache | undefined>>();
  const remotes = new Map<string, RemoteCache | undefined>();
  const hits = new Map<string, ArtifactResult>();
  const remaining = new Set<CacheCheck>();
  await Promise.all(
    misses.map(async (check) => {
      const reporter = context.reporterFor(check.name);
      const settings = check.options.remoteCache;
      if (!settings || settings.mode === 'off') {
        remaining.add(check);
        return;
      }
      const key = JSON.stringify(settings);
      if (!opened.has(key)) opened.set(key, RemoteCache.open(check.options, reporter));
      const remote = await opened.get(key)!;
      remotes.set(check.paths.zip, remote);
      if (!remote || check.options.forceRebuild) {
        remaining.add(check);
        return;
      }
      const timer = context.timerOf(check);
      // Committed while its bytes are the only downloaded zip in memory (see RemoteCache.lookup).
      const committed = await timer.timeAsync('remote', () =>
        remote.lookup(check, reporter, (hit) => ({
          hit,
          metadata: commitArtifact({
            check,
            zip: hit.zip,
            // Hashed while it downloaded and found equal to the metadata's: not hashed again.
            sha256: Buffer.from(hit.metadata.zip.sha256, 'hex'),
            facts: hit.facts,
            // Kept as the publisher's provenance; nothing ever runs the image it names.
            builderImage: hit.metadata.builderImage,
            origin: { kind: 'remote', cacheDomain: hit.metadata.origin.cacheDomain, remote: remote.url },
            originFingerprint: hit.metadata.zip.originFingerprint,
            timingsMs: timer.results(),
          }),
        })),
      );
      if (!committed) {
        remaining.add(check);
        return;
      }
      const { hit, metadata } = committed;
      const timingsMs = timer.results();
      const signed = hit.signedBy === undefined ? '' : `, signed by ${hit.signedBy}`;
      reporter.line(`cache-hit (remote ${remote.url}, ${formatBytes(hit.zip.byteLength)} in ${formatDuration(hit.elapsedMs)}${signed})`);
      reporter.line(`done: cache-hit (remote), ${check.paths.zipForDisplay} verified and committed: ${formatTimings(timingsMs)}`);
      hits.set(check.paths.zip, {
        outcome: 'cache-hit',
        via: 'remote',
        explanation: check.explanation,
        name: check.name,
        zipPath: check.paths.zip,
        metadata,
        timingsMs,
      });
    }),
  );
  return {
    hits,
    // The caller's order, whatever order the lookups finished in.
    remaining: misses.filter((check) => remaining.has(check)),
    remoteOf: (check) => remotes.get(check.paths.zip),
    close: () => {
      for (const remote of new Set(remotes.values())) remote?.close();
    },
  };
}
