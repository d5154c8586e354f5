/*
 * Every failure the engine reports to a user is a `SweepError`: it names the stage that failed,
 * says what happened, and says what to do about it. The first line is short enough for a
 * terminal; `details` (for example the last lines of cargo's output) follows underneath.
 *
 * Errors are made by the factories below, in one place, so the wording stays consistent and the
 * tests can assert whole messages.
 */
export type Stage =
  | 'config'
  | 'workspace'
  | 'fingerprint'
  | 'inputs'
  | 'lock'
  | 'docker'
  | 'builder-image'
  | 'compile'
  | 'package'
  | 'verify'
  | 'metadata'
  | 'remote-cache'
  | 'engine'
  | 'invoke';

export interface SweepErrorInit {
  readonly stage: Stage;
  /** What went wrong, one sentence. */
  readonly problem: string;
  /** What the user can do about it, one sentence or a command. */
  readonly fix: string;
  /** Output that helps diagnose the failure, shown under the message (e.g. cargo's last lines). */
  readonly details?: string;
  readonly cause?: unknown;
}

export class SweepError extends Error {
  readonly stage: Stage;
  readonly problem: string;
  readonly fix: string;
  readonly details?: string;

  constructor(init: SweepErrorInit) {
    super(`${init.stage}: ${init.problem}`, { cause: init.cause });
    this.name = 'SweepError';
    this.stage = init.stage;
    this.problem = init.problem;
    this.fix = init.fix;
    this.details = init.details;
  }

  /** The one-screen text shown to users: problem, fix, then any details. */
  describe(): string {
    const lines = [`error (${this.stage}): ${this.problem}`, `  fix: ${this.fix}`];
    if (this.details) lines.push('', indent(this.details.trimEnd()));
    return lines.join('\n');
  }
}

export function isSweepError(error: unknown): error is SweepError {
  return error instanceof SweepError;
}

/** Text for any error: a SweepError's own description, or the message of anything else. */
export function describeError(error: unknown): string {
  if (isSweepError(error)) return error.describe();
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  | ${line}`)
    .join('\n');
}

/** Keeps the last `count` lines of a process's output, for error details. */
export function lastLines(text: string, count: number): string {
  const lines = text.trimEnd().split('\n');
  const kept = lines.slice(-count);
  const omitted = lines.length - kept.length;
  return (omitted > 0 ? [`... (${omitted} earlier lines omitted)`, ...kept] : kept).join('\n');
}

/** One problem found in a configuration object (a cdktf.json key, a prop or an env variable). */
export interface ConfigIssue {
  /** Dotted key, e.g. `context.sweep.architecture` or `SWEEP_DOCKER_PULL_POLICY`. */
  readonly key: string;
  readonly got: unknown;
  /** What is accepted, e.g. `one of "x86_64", "arm64"`. */
  readonly expected: string;
}

export function invalidConfig(source: string, issues: readonly ConfigIssue[], fix?: string): SweepError {
  const shown = issues.slice(0, 8);
  const lines = shown.map((i) => `${i.key}: got ${showValue(i.got)}; expected ${i.expected}`);
  if (issues.length > shown.length) lines.push(`and ${issues.length - shown.length} more`);
  return new SweepError({
    stage: 'config',
    problem: `invalid ${source}:\n  ${lines.join('\n  ')}`,
    fix: fix ?? `correct the ${issues.length === 1 ? 'value' : 'values'} above in ${source}`,
  });
}

function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The error as a SweepError: itself, or an unexpected failure that wraps it. */
export function asSweepError(error: unknown): SweepError {
  return isSweepError(error) ? error : unexpectedFailure(error);
}

/** Anything that is not a SweepError reaching the top: a bug, said as one, with its message. */
export function unexpectedFailure(error: unknown): SweepError {
  const message = error instanceof Error ? error.message : String(error);
  return new SweepError({
    stage: 'engine',
    problem: `unexpected failure: ${message}`,
    fix: 'this is a bug in aws-serverless-sweep: report it with the output above',
    details: error instanceof Error && error.stack ? lastLines(error.stack, 8) : undefined,
    cause: error,
  });
}

/** The message of anything thrown. */
export function errorMessage(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
