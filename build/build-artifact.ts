import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import { writeFileAtomic } from './atomic-write.js';
import { BuildLock, describeOwner } from './build-lock.js';
import { ensureBuilderImage } from './builder-image.js';
import { type CacheCheck, checkCache } from './check-cache.js';
import { compileInContainer } from './compile.js';
import { DockerClient } from './docker-client.js';
import { type ArtifactRecord, METADATA_SCHEMA_VERSION, writeMetadata } from './metadata.js';
import type { ResolvedArtifactOptions } from './options.js';
import { createLambdaZip } from './package-zip.js';
import { createReporter, formatBytes, type Reporter } from './reporter.js';
import { formatDuration, formatTimings, StageTimer } from './stage-timer.js';
import { describeBinaryFacts, verifyArtifact } from './verify-artifact.js';

/**
 * The whole pipeline for one artifact:
 *
 *   check the cache (fingerprint, metadata, zip)  -> cache-hit: done, no Docker
 *   take the build lock, check again               -> built meanwhile by another process: done
 *   builder image -> compile -> package -> verify -> commit (zip, then metadata)
 *
 * The commit is two renames, zip first and record last, so at every moment the record describes
 * a complete, verified zip or the check sees a mismatch and rebuilds. A build that fails or is
 * killed at any stage leaves the previous zip and record exactly as they were.
 */
export interface ArtifactResult {
  readonly outcome: 'cache-hit' | 'cache-miss';
  /** The `cache-hit` / `cache-miss: ...` line. */
  readonly explanation: string;
  readonly name: string;
  readonly zipPath: string;
  readonly record: ArtifactRecord;
  /** Milliseconds per stage of this run, and its total. */
  readonly timingsMs: Readonly<Record<string, number>>;
}

export interface BuildArtifactOptions {
  /** Where progress goes: a reporter, or a stream for the default one. @default process.stdout */
  readonly reporter?: Reporter;
  readonly output?: Writable;
  readonly signal?: AbortSignal;
}

export async function buildArtifact(options: ResolvedArtifactOptions, run: BuildArtifactOptions = {}): Promise<ArtifactResult> {
  const timer = new StageTimer();
  let check = timer.time('fingerprint', () => checkCache(options));
  const reporter = run.reporter ?? createReporter(check.name, run.output);
  if (check.decision.outcome === 'cache-hit') return reportHit(check, timer.results(), reporter);

  const lock = await timer.timeAsync('lock', () =>
    BuildLock.acquire(check.paths.lock, {
      signal: run.signal,
      onWait: (owner, waitedMs, first) =>
        reporter.line(
          first
            ? `waiting for the build lock: ${check.name} is being built by ${describeOwner(owner)}`
            : `still waiting for the build lock (${formatDuration(waitedMs)}, held by ${describeOwner(owner)})`,
        ),
      onTakeover: (owner) => reporter.line(`took over the build lock left by ${describeOwner(owner)}, which is no longer running`),
    }),
  );
  try {
    if (lock.waited) {
      // Another process held the lock, so it may have built this very artifact meanwhile.
      check = timer.time('fingerprint', () => checkCache(options));
      if (check.decision.outcome === 'cache-hit') return reportHit(check, timer.results(), reporter);
    }
    reporter.line(check.explanation);
    return await coldBuild(check, timer, reporter, run.signal);
  } finally {
    lock.release();
  }
}

async function coldBuild(check: CacheCheck, timer: StageTimer, reporter: Reporter, signal?: AbortSignal): Promise<ArtifactResult> {
  const { options, paths } = check;
  const docker = new DockerClient(options.dockerCommand);

  const image = await timer.timeAsync('builder-image', async () => {
    await docker.ensureEngine();
    return ensureBuilderImage(docker, options, reporter, signal);
  });

  const binaryPath = await timer.timeAsync('compile', () =>
    compileInContainer({
      docker,
      image: image.tag,
      options,
      packageName: check.packageName,
      paths,
      containerName: `sweep-build-${check.name}-${process.pid}`.replace(/[^A-Za-z0-9_.-]/g, '_'),
      reporter,
      signal,
    }),
  );

  const { binary, zip } = timer.time('package', () => {
    const binary = fs.readFileSync(binaryPath);
    return { binary, zip: createLambdaZip(binary) };
  });
  const sha256 = createHash('sha256').update(zip).digest();
  reporter.line(
    `package: ${paths.zipForDisplay} ${formatBytes(zip.byteLength)} (binary ${formatBytes(binary.byteLength)}) sha256 ${sha256.toString('base64')}`,
  );

  const facts = timer.time('verify', () => verifyArtifact(zip, binary, options));
  reporter.line(`verify: ${describeBinaryFacts(facts, options.runtime)}`);

  // Commit: the zip first, then the record that vouches for it.
  signal?.throwIfAborted();
  writeFileAtomic(paths.zip, zip);
  const timingsMs = timer.results();
  const previous = check.metadata.status === 'ok' ? check.metadata.record : undefined;
  const sameBytes = previous?.zip.sha256 === sha256.toString('hex');
  const record: ArtifactRecord = {
    schemaVersion: METADATA_SCHEMA_VERSION,
    artifact: check.name,
    fingerprint: check.fingerprint.value,
    settings: {
      ...check.fingerprint.settings,
      features: [...check.fingerprint.settings.features],
      env: { ...check.fingerprint.settings.env },
    },
    inputs: Object.fromEntries(check.fingerprint.inputs),
    builderImage: { tag: image.tag, id: image.id },
    zip: {
      file: `${check.name}.zip`,
      size: zip.byteLength,
      sha256: sha256.toString('hex'),
      sha256Base64: sha256.toString('base64'),
      mtimeMs: fs.statSync(paths.zip).mtimeMs,
      originFingerprint: sameBytes ? previous.zip.originFingerprint : check.fingerprint.value,
    },
    binary: {
      machine: facts.machine,
      linkage: facts.linkage,
      glibcRequired: facts.glibcRequired,
      glibcAvailable: facts.glibcAvailable,
      size: facts.size,
    },
    builtAt: new Date().toISOString(),
    timingsMs,
  };
  writeMetadata(paths.metadata, record);

  if (options.forceRebuild && previous?.fingerprint === record.fingerprint) {
    reporter.line(
      previous.zip.sha256 === record.zip.sha256
        ? 'reproducible: the forced rebuild gave a byte-identical zip'
        : `not reproducible: the forced rebuild of unchanged inputs gave a different zip (sha256 ${previous.zip.sha256Base64} -> ${record.zip.sha256Base64})`,
    );
  }
  reporter.line(`done: cache-miss, rebuilt ${paths.zipForDisplay}: ${formatTimings(timingsMs)}`);
  return { outcome: 'cache-miss', explanation: check.explanation, name: check.name, zipPath: paths.zip, record, timingsMs };
}

/** Reports a cache hit; shared with the synchronous fast path in ensure-artifact.ts. */
export function reportHit(check: CacheCheck, timingsMs: Readonly<Record<string, number>>, reporter: Reporter): ArtifactResult {
  if (check.metadata.status !== 'ok') throw new Error('a cache hit needs a record');
  const record = check.metadata.record;
  reporter.line(
    `cache-hit: inputs unchanged since ${record.builtAt} (fingerprint ${record.fingerprint.slice(0, 12)}), ${check.paths.zipForDisplay} reused`,
  );
  reporter.line(`done: cache-hit: ${formatTimings(timingsMs)}`);
  return { outcome: 'cache-hit', explanation: check.explanation, name: check.name, zipPath: check.paths.zip, record, timingsMs };
}
