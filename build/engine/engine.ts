import { type CacheCheck, checkCache, isHit } from '../cache/check.js';
import { conflictingArtifacts } from '../cache/errors.js';
import { BuildLock, describeOwner } from '../cache/lock.js';
import { type CargoWorkspace, readCargoWorkspace } from '../cargo/workspace.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import { asSweepError, isSweepError, type SweepError } from '../support/errors.js';
import { createReporter, type Output, type Reporter } from '../support/reporter.js';
import { formatDuration, type StageTimer } from '../support/stage-timer.js';
import { artifactsFailed, buildInterrupted, missingOutcome } from './errors.js';
import { reportHit, timerFor } from './report.js';
import type { ArtifactResult, Settled } from './result.js';

export type { ArtifactResult, Settled } from './result.js';

/*
 * The engine's one entry: make sure each artifact's zip in dist/ is current and verified, doing
 * as little as possible:
 *
 *   check each artifact (fingerprint, metadata, zip)   -> cache-hit: done, no Docker, no network
 *   take the misses' build locks, check again if waited -> built meanwhile by another process: done
 *   look each miss up in the shared cache               -> verified download: committed, no Docker
 *   build the rest, batched (build-misses.ts)           -> committed, published in read-write mode
 *
 * The check and the rest are two halves: the synchronous entry for constructs (sync.ts) checks
 * in its own process and hands the misses' checks to a child that runs `ensureMisses`, so each
 * artifact is fingerprinted once per run. The cold parts (Docker, the AWS SDK) are loaded only
 * when a run needs them, so a hit costs what the check costs. Every artifact ends in a result or
 * an error of its own: a function whose package does not exist, or whose build fails, is named,
 * and the others are still checked, built and committed.
 */
export interface EngineRun {
  /** Where progress goes. @default process.stdout */
  readonly output?: Output;
  readonly signal?: AbortSignal;
}

/** Ensures every artifact; throws one error naming each that failed (the others are committed). */
export async function ensureArtifacts(list: readonly ResolvedArtifactOptions[], run: EngineRun = {}): Promise<ArtifactResult[]> {
  const { labels, settled } = await settleArtifacts(list, run);
  return resultsOrThrow({ labels }, settled);
}

/** Every artifact's end, in the list's order (its result or its own error), and how each is named. */
export async function settleArtifacts(
  list: readonly ResolvedArtifactOptions[],
  run: EngineRun = {},
): Promise<{ readonly labels: readonly string[]; readonly settled: Settled[] }> {
  const reporterFor = (prefix: string) => createReporter(prefix, run.output);
  const checked = checkAndReportHits(list, reporterFor);
  const outcomes = checked.misses.length > 0 ? await ensureMisses(checked.misses, { reporterFor, signal: run.signal }) : new Map();
  return { labels: checked.labels, settled: checked.settle(outcomes) };
}

/** The one-artifact form of {@link ensureArtifacts}. */
export async function ensureArtifact(options: ResolvedArtifactOptions, run: EngineRun = {}): Promise<ArtifactResult> {
  const [result] = await ensureArtifacts([options], run);
  return result!;
}

/** The results in the list's order, or one error naming every artifact that failed. */
export function resultsOrThrow(checked: Pick<CheckedArtifacts, 'labels'>, settled: readonly Settled[]): ArtifactResult[] {
  throwIfAnyFailed(checked.labels, (i) => settled[i]!.error);
  return settled.map((one) => one.result!);
}

function throwIfAnyFailed(labels: readonly string[], errorAt: (index: number) => SweepError | undefined): void {
  const failures = new Map<string, SweepError>();
  labels.forEach((label, i) => {
    const error = errorAt(i);
    if (error) failures.set(label, error);
  });
  if (failures.size > 0) throw artifactsFailed(failures);
}

/**
 * How an artifact is named in a failure: its name once its check has named it; before that (its
 * package may not even exist) what its options say, or '' when they name nothing.
 */
function artifactLabel(options: ResolvedArtifactOptions, check: CacheCheck | SweepError): string {
  if (!isSweepError(check)) return check.name;
  return options.name ?? (options.origin.kind === 'context' ? options.origin.function : undefined) ?? options.package ?? '';
}

/**
 * Checks every artifact, reading each workspace's manifests once. A check that fails (a package
 * that does not exist, a manifest that does not parse) is that artifact's error.
 */
export function checkAll(list: readonly ResolvedArtifactOptions[]): (CacheCheck | SweepError)[] {
  const workspaces = new Map<string, CargoWorkspace | SweepError>();
  const workspaceOf = (options: ResolvedArtifactOptions): CargoWorkspace => {
    let workspace = workspaces.get(options.workspace);
    if (workspace === undefined) {
      workspace = attempt(() => readCargoWorkspace(options.workspace, options.origin));
      workspaces.set(options.workspace, workspace);
    }
    if (isSweepError(workspace)) throw workspace;
    return workspace;
  };
  return list.map((options) => attempt(() => checkCache(options, { workspace: workspaceOf(options) })));
}

/** A zip an artifact of this run (or of an earlier run of the same app) writes, by its lower-cased path. */
export interface ZipClaim {
  readonly zip: string;
  readonly fingerprint: string;
  readonly origin: ResolvedArtifactOptions['origin'];
}

/** {@link checkAll} for callers that need every check: one error names each artifact whose check failed. */
export function checkAllOrThrow(list: readonly ResolvedArtifactOptions[]): CacheCheck[] {
  const checks = checkAll(list);
  throwIfAnyFailed(
    list.map((options, i) => artifactLabel(options, checks[i]!)),
    (i) => {
      const check = checks[i]!;
      return isSweepError(check) ? check : undefined;
    },
  );
  return checks as CacheCheck[];
}

/** What {@link checkAndReportHits} found. */
export interface CheckedArtifacts {
  /** Per artifact of the list: its check, or the error that stopped it. */
  readonly checks: readonly (CacheCheck | SweepError)[];
  /** Per artifact of the list: how a failure of it is named. */
  readonly labels: readonly string[];
  /** One check per zip that missed, in the list's order. */
  readonly misses: readonly CacheCheck[];
  /** Every artifact's end, given the misses' outcomes by zip path. */
  settle(outcomes: ReadonlyMap<string, Settled>): Settled[];
}

/**
 * The in-process half of a run: checks every artifact, keeps one per zip (artifacts that write
 * the same zip must be the same artifact: a different fingerprint, or a name that differs only in
 * case, which a case-insensitive file system makes one file, is an error, also against `claimed`,
 * the zips an earlier run of this app built), prints notes and reports the hits.
 */
export function checkAndReportHits(
  list: readonly ResolvedArtifactOptions[],
  reporterFor: (prefix: string) => Reporter,
  claimed: Map<string, ZipClaim> = new Map(),
): CheckedArtifacts {
  const checks = checkAll(list);
  const hits = new Map<string, Settled>();
  const misses: CacheCheck[] = [];
  for (const check of checks) {
    if (isSweepError(check)) continue;
    const key = check.paths.zip.toLowerCase();
    const earlier = claimed.get(key);
    if (earlier !== undefined) {
      const caseOnly = earlier.zip !== check.paths.zip;
      if (caseOnly || earlier.fingerprint !== check.fingerprint.value) {
        throw conflictingArtifacts(check.paths.zipForDisplay, earlier.origin, check.options.origin, caseOnly);
      }
      continue; // the same artifact asked for twice: one check, one result
    }
    claimed.set(key, { zip: check.paths.zip, fingerprint: check.fingerprint.value, origin: check.options.origin });
    for (const note of check.notes) reporterFor(check.name).line(`note: ${note}`);
    if (isHit(check)) hits.set(check.paths.zip, { result: reportHit(check, timerFor(check), reporterFor(check.name)) });
    else misses.push(check);
  }
  return {
    checks,
    labels: list.map((options, i) => artifactLabel(options, checks[i]!)),
    misses,
    settle: (outcomes) =>
      checks.map((check) =>
        isSweepError(check)
          ? { error: check }
          : (hits.get(check.paths.zip) ?? outcomes.get(check.paths.zip) ?? { error: missingOutcome(check.name) }),
      ),
  };
}

export interface MissContext {
  readonly reporterFor: (prefix: string) => Reporter;
  readonly signal?: AbortSignal;
}

/**
 * The other half: takes each miss's build lock, then the shared cache, then builds what is left.
 * Resolves to every miss's end by zip path; never rejects for one artifact's failure.
 */
export async function ensureMisses(misses: readonly CacheCheck[], context: MissContext): Promise<Map<string, Settled>> {
  const { reporterFor } = context;
  const outcomes = new Map<string, Settled>();
  const timers = new Map<string, StageTimer>();
  const timerOf = (check: CacheCheck): StageTimer => {
    const known = timers.get(check.paths.zip);
    if (known) return known;
    const timer = timerFor(check);
    timers.set(check.paths.zip, timer);
    return timer;
  };
  const locks: BuildLock[] = [];
  let lookup: import('../remote/lookup.js').RemoteLookup | undefined;
  try {
    // Locks in one global order (by path), so two processes building overlapping sets cannot deadlock.
    const current = new Map<string, CacheCheck>();
    for (const check of [...misses].sort((a, b) => (a.paths.lock < b.paths.lock ? -1 : 1))) {
      const reporter = reporterFor(check.name);
      const timer = timerOf(check);
      try {
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
        const now = lock.waited ? timer.time('fingerprint', () => checkCache(check.options)) : check;
        if (isHit(now)) outcomes.set(check.paths.zip, { result: reportHit(now, timer, reporter) });
        else current.set(check.paths.zip, now);
      } catch (error) {
        outcomes.set(check.paths.zip, { error: context.signal?.aborted ? buildInterrupted(error) : asSweepError(error) });
      }
    }
    // Back to the caller's order (the locks were taken in path order).
    let pending = misses.flatMap((miss) => current.get(miss.paths.zip) ?? []);
    for (const check of pending) reporterFor(check.name).line(check.explanation);
    if (pending.some((check) => check.options.remoteCache && check.options.remoteCache.mode !== 'off')) {
      const { lookUpRemotely } = await import('../remote/lookup.js');
      lookup = await lookUpRemotely(pending, { reporterFor, timerOf });
      for (const [zip, result] of lookup.hits) outcomes.set(zip, { result });
      pending = [...lookup.remaining];
    }
    if (pending.length > 0) {
      const { buildMisses } = await import('./build-misses.js');
      const remoteOf = lookup?.remoteOf ?? (() => undefined);
      for (const outcome of await buildMisses(pending, { reporterFor, timerOf, remote: remoteOf, signal: context.signal })) {
        outcomes.set(outcome.check.paths.zip, outcome.settled);
      }
    }
  } finally {
    for (const lock of locks) lock.release();
    lookup?.close();
  }
  return outcomes;
}

function attempt<T>(work: () => T): T | SweepError {
  try {
    return work();
  } catch (error) {
    return asSweepError(error);
  }
}
