import { type CacheCheck, type CacheHit, checkCache, isHit } from '../cache/check.js';
import { conflictingArtifacts } from '../cache/errors.js';
import { BuildLock, describeOwner } from '../cache/lock.js';
import type { CargoWorkspace } from '../cargo/workspace.js';
import { readCargoWorkspace } from '../cargo/workspace.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import type { RemoteCache } from '../remote/cache.js';
import type { SweepError } from '../support/errors.js';
import { createReporter, formatBytes, type Output, type Reporter } from '../support/reporter.js';
import { formatDuration, formatTimings, StageTimer } from '../support/stage-timer.js';
import type { ArtifactResult } from './result.js';

export type { ArtifactResult } from './result.js';

import { artifactsFailed } from './errors.js';

/*
 * The engine's one entry: make sure each artifact's zip in dist/ is current and verified, doing
 * as little as possible:
 *
 *   check each artifact (fingerprint, metadata, zip)   -> cache-hit: done, no Docker, no network
 *   take the misses' build locks, check again         -> built meanwhile by another process: done
 *   look each miss up in the shared cache             -> verified download: committed, no Docker
 *   build the rest, batched (build-batch.ts)          -> committed, published in read-write mode
 *
 * The cold parts (Docker, the AWS SDK) are loaded only when a run needs them, so a hit costs
 * what the check costs. Every artifact ends in a result or an error of its own; when any failed,
 * the others are still committed and one error names each failure.
 */

export interface EngineRun {
  /** Where progress goes. @default process.stdout */
  readonly output?: Output;
  readonly signal?: AbortSignal;
}

export async function ensureArtifacts(list: readonly ResolvedArtifactOptions[], run: EngineRun = {}): Promise<ArtifactResult[]> {
  const reporterFor = (prefix: string) => createReporter(prefix, run.output);
  const { checks, timers, results, misses } = checkAndReportHits(list, reporterFor);
  const timerOf = (check: CacheCheck) => timers.get(check.paths.zip)!;
  const failures = new Map<string, SweepError>();
  if (misses.length > 0) await ensureMisses(misses, { reporterFor, timerOf, results, failures, signal: run.signal });
  if (failures.size > 0) throw artifactsFailed(failures);
  return checks.map((check) => results.get(check.paths.zip)!);
}

/** The one-artifact form of {@link ensureArtifacts}. */
export async function ensureArtifact(options: ResolvedArtifactOptions, run: EngineRun = {}): Promise<ArtifactResult> {
  const [result] = await ensureArtifacts([options], run);
  return result!;
}

/** Checks every artifact, reading each workspace's manifests once; times the checks. */
export function checkAll(list: readonly ResolvedArtifactOptions[], timers?: Map<string, StageTimer>): CacheCheck[] {
  const workspaces = new Map<string, CargoWorkspace>();
  return list.map((options) => {
    const timer = new StageTimer();
    const check = timer.time('fingerprint', () => {
      const workspace = workspaces.get(options.workspace) ?? readCargoWorkspace(options.workspace, options.origin);
      workspaces.set(options.workspace, workspace);
      return checkCache(options, { workspace });
    });
    timers?.set(check.paths.zip, timer);
    return check;
  });
}

/** What {@link checkAndReportHits} found: every check, and per zip a hit's result or a miss to build. */
export interface CheckedArtifacts {
  readonly checks: readonly CacheCheck[];
  readonly timers: ReadonlyMap<string, StageTimer>;
  /** Results by zip path; the hits' so far. */
  readonly results: Map<string, ArtifactResult>;
  /** One check per zip that missed. */
  readonly misses: readonly CacheCheck[];
}

/**
 * The in-process half of a run, shared by the engine and its synchronous entry: checks every
 * artifact, keeps one per zip (artifacts that write the same zip must be the same artifact: a
 * different fingerprint is an error, also against `claimed`, the zips an earlier run of this app
 * built), prints notes and reports the hits.
 */
export function checkAndReportHits(
  list: readonly ResolvedArtifactOptions[],
  reporterFor: (prefix: string) => Reporter,
  claimed: Map<string, string> = new Map(),
): CheckedArtifacts {
  const timers = new Map<string, StageTimer>();
  const checks = checkAll(list, timers);
  const results = new Map<string, ArtifactResult>();
  const misses: CacheCheck[] = [];
  const first = new Map<string, CacheCheck>();
  for (const check of checks) {
    const earlier = first.get(check.paths.zip);
    const fingerprint = earlier?.fingerprint.value ?? claimed.get(check.paths.zip);
    if (fingerprint !== undefined && fingerprint !== check.fingerprint.value) {
      throw conflictingArtifacts(check.paths.zipForDisplay, (earlier ?? check).options.origin, check.options.origin);
    }
    claimed.set(check.paths.zip, check.fingerprint.value);
    if (earlier) continue;
    first.set(check.paths.zip, check);
    for (const note of check.notes) reporterFor(check.name).line(`note: ${note}`);
    if (isHit(check)) results.set(check.paths.zip, reportHit(check, timers.get(check.paths.zip)!, reporterFor(check.name)));
    else misses.push(check);
  }
  return { checks, timers, results, misses };
}

function reportHit(check: CacheHit, timer: StageTimer, reporter: Reporter): ArtifactResult {
  const { metadata } = check.metadata;
  const timingsMs = timer.results();
  const source = metadata.origin.kind === 'remote' ? `, downloaded from ${metadata.origin.remote}` : '';
  reporter.line(
    `cache-hit: inputs unchanged since ${metadata.builtAt}${source} (fingerprint ${metadata.fingerprint.slice(0, 12)}), ${check.paths.zipForDisplay} reused`,
  );
  reporter.line(`done: cache-hit: ${formatTimings(timingsMs)}`);
  return {
    outcome: 'cache-hit',
    via: 'local',
    explanation: check.explanation,
    name: check.name,
    zipPath: check.paths.zip,
    metadata,
    timingsMs,
  };
}

interface MissContext {
  readonly reporterFor: (prefix: string) => Reporter;
  readonly timerOf: (check: CacheCheck) => StageTimer;
  readonly results: Map<string, ArtifactResult>;
  readonly failures: Map<string, SweepError>;
  readonly signal?: AbortSignal;
}

async function ensureMisses(misses: readonly CacheCheck[], context: MissContext): Promise<void> {
  const { reporterFor, timerOf, results } = context;
  // Locks in one global order (by path), so two processes building overlapping sets cannot deadlock.
  const ordered = [...misses].sort((a, b) => (a.paths.lock < b.paths.lock ? -1 : 1));
  const locks: BuildLock[] = [];
  const remotes = new Map<string, RemoteCache | undefined>();
  try {
    let pending: CacheCheck[] = [];
    for (const check of ordered) {
      const reporter = reporterFor(check.name);
      const timer = timerOf(check);
      const lock = await timer.timeAsync('lock', () =>
        BuildLock.acquire(check.paths.lock, {
          signal: context.signal,
          timeoutMs: check.options.lockTimeoutMs,
          onWait: (owner, waitedMs, first) =>
            reporter.line(
              first
                ? `waiting for the build lock: ${check.name} is being built by ${describeOwner(owner)}`
                : `still waiting for the build lock (${formatDuration(waitedMs)}, held by ${describeOwner(owner)})`,
            ),
          onTakeover: (owner) => reporter.line(`took over the build lock left by ${describeOwner(owner)}, which is no longer running`),
        }),
      );
      locks.push(lock);
      // Another process held the lock, so it may have built this very artifact meanwhile.
      const current = lock.waited ? timer.time('fingerprint', () => checkCache(check.options)) : check;
      if (isHit(current)) results.set(check.paths.zip, reportHit(current, timer, reporter));
      else pending.push(current);
    }
    if (pending.length === 0) return;
    // Back to the caller's order (the locks were taken in path order).
    pending = misses.map((miss) => pending.find((check) => check.paths.zip === miss.paths.zip)).filter((check) => check !== undefined);
    for (const check of pending) reporterFor(check.name).line(check.explanation);

    pending = await downloadFromRemote(pending, remotes, context);
    if (pending.length === 0) return;

    const { buildMisses } = await import('./build-misses.js');
    const outcomes = await buildMisses(pending, {
      reporterFor,
      timerOf,
      remote: (check) => remotes.get(check.paths.zip),
      signal: context.signal,
    });
    for (const outcome of outcomes) {
      if ('result' in outcome) results.set(outcome.check.paths.zip, outcome.result);
      else context.failures.set(outcome.check.name, outcome.error);
    }
  } finally {
    for (const lock of locks) lock.release();
    for (const remote of new Set(remotes.values())) remote?.close();
  }
}

/**
 * Looks every miss up in its shared cache (in parallel); commits what verifies, returns the
 * rest. A forced rebuild skips the lookup: it asks for a build.
 */
async function downloadFromRemote(
  misses: readonly CacheCheck[],
  remotes: Map<string, RemoteCache | undefined>,
  context: MissContext,
): Promise<CacheCheck[]> {
  const configured = misses.filter((check) => check.options.remoteCache && check.options.remoteCache.mode !== 'off');
  if (configured.length === 0) return [...misses];
  const { RemoteCache } = await import('../remote/cache.js');
  const { commitArtifact } = await import('../cache/commit.js');
  const opened = new Map<string, Promise<RemoteCache | undefined>>();
  const remaining: CacheCheck[] = [];
  await Promise.all(
    misses.map(async (check) => {
      const reporter = context.reporterFor(check.name);
      const timer = context.timerOf(check);
      const settings = check.options.remoteCache;
      if (!settings || settings.mode === 'off') {
        remaining.push(check);
        return;
      }
      const key = JSON.stringify(settings);
      if (!opened.has(key)) opened.set(key, RemoteCache.open(check.options, reporter));
      const remote = await opened.get(key)!;
      remotes.set(check.paths.zip, remote);
      if (!remote || check.options.forceRebuild) {
        remaining.push(check);
        return;
      }
      const hit = await timer.timeAsync('remote', () => remote.lookup(check, reporter));
      if (!hit) {
        remaining.push(check);
        return;
      }
      const metadata = commitArtifact({
        check,
        zip: hit.zip,
        facts: hit.facts,
        builderImage: hit.metadata.builderImage,
        origin: { kind: 'remote', cacheDomain: hit.metadata.origin.cacheDomain, remote: remote.url },
        originFingerprint: hit.metadata.zip.originFingerprint,
        timingsMs: timer.results(),
      });
      const timingsMs = timer.results();
      reporter.line(`cache-hit (remote ${remote.url}, ${formatBytes(hit.zip.byteLength)} in ${formatDuration(hit.elapsedMs)})`);
      reporter.line(`done: cache-hit (remote), ${check.paths.zipForDisplay} verified and committed: ${formatTimings(timingsMs)}`);
      context.results.set(check.paths.zip, {
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
  // Keep the caller's order, whatever order the lookups finished in.
  return misses.filter((check) => remaining.includes(check));
}
