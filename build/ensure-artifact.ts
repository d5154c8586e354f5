import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type ArtifactResult, reportHit } from './build-artifact.js';
import { checkCache } from './check-cache.js';
import { SweepError } from './errors.js';
import type { ArtifactOptions, ResolvedArtifactOptions } from './options.js';
import { createReporter, type Reporter } from './reporter.js';
import { StageTimer } from './stage-timer.js';

/**
 * The synchronous entry point, for the CDKTF construct (constructors cannot await):
 *
 * - the cache check runs here, in-process: a hit costs a stat per input and starts nothing;
 * - on a miss, `sweep-runtime build` runs in a child process with the same options, its output
 *   streamed as it happens, and the result is read back from the record it wrote.
 *
 * So the construct, `sweep-runtime build` and the benchmark all take the same path. Given a
 * memo (the construct keeps one per app), an artifact is built at most once per fingerprint: two
 * constructs for the same artifact, or a forced rebuild, do not build twice.
 */
const CLI_ENTRY = fileURLToPath(new URL('../cli/sweep-runtime.mjs', import.meta.url));

/** Results already produced, by zip path. */
export type ArtifactMemo = Map<string, { readonly fingerprint: string; readonly result: ArtifactResult }>;

export interface EnsureOptions {
  /** Where progress goes; by default stdout. A custom reporter gets the child's output when it ends. */
  readonly reporter?: Reporter;
  readonly memo?: ArtifactMemo;
}

export function ensureArtifactSync(options: ResolvedArtifactOptions, ensure: EnsureOptions = {}): ArtifactResult {
  const timer = new StageTimer();
  const check = timer.time('fingerprint', () => checkCache(options));
  const reporter = ensure.reporter ?? createReporter(check.name);

  const earlier = ensure.memo?.get(check.paths.zip);
  if (earlier) {
    if (earlier.fingerprint === check.fingerprint.value) return earlier.result;
    throw new SweepError({
      stage: 'config',
      problem: `two artifacts in this app write ${check.paths.zipForDisplay} with different settings`,
      fix: 'give each RuntimeArtifact its own `name`',
    });
  }

  let result: ArtifactResult;
  if (check.decision.outcome === 'cache-hit') {
    result = reportHit(check, timer.results(), reporter);
  } else {
    runBuildProcess(options, check.name, ensure.reporter);
    // The child committed a verified zip and its record: the same check, unforced, now hits.
    const after = checkCache(options, { ignoreForce: true });
    if (after.decision.outcome !== 'cache-hit' || after.metadata.status !== 'ok') {
      throw new SweepError({
        stage: 'metadata',
        problem: `the build of ${check.name} finished, but its record does not match the inputs (${after.explanation})`,
        fix: 'an input changed during the build: run again',
      });
    }
    const record = after.metadata.record;
    result = {
      outcome: 'cache-miss',
      explanation: check.explanation,
      name: check.name,
      zipPath: after.paths.zip,
      record,
      timingsMs: record.timingsMs,
    };
  }
  ensure.memo?.set(check.paths.zip, { fingerprint: check.fingerprint.value, result });
  return result;
}

function runBuildProcess(options: ResolvedArtifactOptions, name: string, reporter: Reporter | undefined): void {
  const request: ArtifactOptions = {
    projectRoot: options.projectRoot,
    workspace: options.workspace,
    package: options.package,
    binary: options.binary,
    name: options.name,
    architecture: options.architecture,
    runtime: options.runtime,
    profile: options.profile,
    features: options.features,
    toolchainImage: options.toolchainImage,
    pullPolicy: options.pullPolicy,
    forceRebuild: options.forceRebuild,
    distDir: options.distDir,
    cacheDir: options.cacheDir,
  };
  const child = spawnSync(process.execPath, [CLI_ENTRY, 'build', '--options-json', JSON.stringify(request)], {
    // Progress streams straight through; under cdktf the app's stdout is shown as is.
    stdio: reporter ? 'pipe' : ['ignore', 'inherit', 'inherit'],
    encoding: 'utf8',
    env: process.env,
  });
  if (reporter) {
    for (const line of `${child.stdout ?? ''}${child.stderr ?? ''}`.split('\n')) {
      if (line !== '') reporter.line(line.replace(/^\[[^\]]+\] /, ''));
    }
  }
  if (child.error) {
    throw new SweepError({
      stage: 'compile',
      problem: `could not start the build process: ${child.error.message}`,
      fix: 'check that node can run cli/sweep-runtime.mjs (npm ci installs tsx)',
      cause: child.error,
    });
  }
  if (child.status !== 0) {
    throw new SweepError({
      stage: 'compile',
      problem: `the build of ${name} failed${child.signal ? ` (killed by ${child.signal})` : ''}; its error is shown above`,
      fix: 'fix what the error above says, then run again; the previous zip and metadata are unchanged',
      details: reporter ? `${child.stderr ?? ''}`.trim() || undefined : undefined,
    });
  }
}
