import type { CacheCheck, CacheHit } from '../cache/check.js';
import type { Reporter } from '../support/reporter.js';
import { formatTimings, type StageName, StageTimer } from '../support/stage-timer.js';
import type { ArtifactResult } from './result.js';

/*
 * The lines and timings of a hit, wherever in a run it is found: at the first check, after a
 * build lock was waited for, or after a compile whose sources went back to those of the zip.
 */

/** A timer that counts the check's own time (measured, perhaps, in another process). */
export function timerFor(check: CacheCheck): StageTimer {
  return new StageTimer<StageName>({ fingerprint: Object.values(check.stepsMs).reduce((sum, ms) => sum + ms, 0) });
}

export function reportHit(check: CacheHit, timer: StageTimer, reporter: Reporter): ArtifactResult {
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
