import { type Stage, SweepError } from '../support/errors.js';

/*
 * The engine room's messages: a run in which artifacts failed, and the engine's child process.
 */

/**
 * One error for a run in which artifacts failed. A failure shared by several artifacts (no Docker
 * engine, a cargo error in their shared run) is told once, as it is; a failure of one artifact
 * names it; several different failures are listed, each named.
 */
export function artifactsFailed(failures: ReadonlyMap<string, SweepError>): SweepError {
  const byError = new Map<SweepError, string[]>();
  for (const [name, error] of failures) byError.set(error, [...(byError.get(error) ?? []), name]);
  const groups = [...byError];
  if (groups.length === 1) {
    const [error, names] = groups[0]!;
    // Shared by several, or of an artifact nothing names yet (its check failed): told as it is.
    if (names.length > 1 || names[0] === '') return error;
    return new SweepError({
      stage: error.stage,
      problem: `${names[0]}: ${error.problem}`,
      fix: error.fix,
      details: error.details,
      cause: error,
    });
  }
  return new SweepError({
    stage: groups[0]![0].stage,
    problem: `${failures.size} artifacts failed: ${[...failures].map(([name, error]) => `${name} (${error.stage})`).join(', ')}; the others are committed`,
    fix: 'see each error below',
    details: groups.map(([error, names]) => `[${names.join(', ')}] ${error.describe()}`).join('\n\n'),
  });
}

export function engineProcessFailed(what: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'engine',
    problem: `the build process failed: ${what}`,
    fix: 'run `npx sweep-runtime build` to see the build on its own; the previous zips and metadata are unchanged',
    cause,
  });
}

/** The error the engine's child process reported, as the SweepError it was. */
export function errorFromEngineProcess(error: { stage: string; problem: string; fix: string; details?: string }): SweepError {
  return new SweepError({ ...error, stage: error.stage as Stage });
}

/** The run was cancelled (Ctrl-C, SIGTERM, or the process that started it is gone). */
export function buildInterrupted(cause: unknown): SweepError {
  return new SweepError({
    stage: 'engine',
    problem: 'the build was interrupted',
    fix: 'run again; the previous zip and metadata are unchanged',
    cause,
  });
}

/** An artifact the run ended without an outcome for: a bug, said as one. */
export function missingOutcome(name: string): SweepError {
  return new SweepError({
    stage: 'engine',
    problem: `the run ended without a result or an error for ${name}`,
    fix: 'this is a bug in aws-serverless-sweep: report it with the output above; the previous zip and metadata are unchanged',
  });
}

/** The engine's child process answered for another number of artifacts than it was asked for. */
export function wrongResultCount(asked: number, answered: number): SweepError {
  return engineProcessFailed(`it was asked for ${asked} artifacts and answered for ${answered}`, undefined);
}

/** A build whose sources kept changing while cargo compiled them: nothing was committed. */
export function sourcesKeptChanging(rounds: number, changed: readonly string[]): SweepError {
  return new SweepError({
    stage: 'compile',
    problem: `the sources changed during each of ${rounds} compiles (last: ${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ` and ${changed.length - 3} more` : ''}), so no zip was committed: one built from sources that no longer exist would be stored under their fingerprint`,
    fix: 'run again once the edits have settled; the previous zip and metadata are unchanged',
  });
}
