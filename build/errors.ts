/**
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
  | 'lock'
  | 'docker'
  | 'builder-image'
  | 'compile'
  | 'package'
  | 'verify'
  | 'metadata'
  | 'invoke'
  | 'remote-cache';

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

// ---------------------------------------------------------------------------------------------
// Remote artifact cache (S3). The remote is never required: every failure to reach or use it is
// one RemoteCacheError, which the engine reports as one warning line and then carries on.

/** What went wrong with the remote cache, so the engine (and tests) can tell the cases apart. */
export type RemoteCacheErrorKind =
  /** no connection: refused, DNS, no route, TLS handshake, or no connection within the timeout */
  | 'unreachable'
  /** no credentials found, or the server does not accept them (unknown key, bad signature, expired) */
  | 'credentials'
  /** the credentials are valid but lack a permission on the bucket or key */
  | 'access-denied'
  | 'no-bucket'
  /** connected, but the answer did not come within the time allowed */
  | 'timeout'
  /** the bytes did not survive the trip (Content-MD5 rejected by the server, or SHA-256 mismatch after download) */
  | 'corrupted'
  /** the server does not implement what the cache needs (conditional writes) */
  | 'unsupported'
  /** the endpoint answered, but not like an S3 server */
  | 'invalid-response'
  /** the settings for reaching the remote are unusable (e.g. an endpoint that is not an http(s) URL) */
  | 'config'
  | 'other';

export interface RemoteCacheErrorInit {
  readonly kind: RemoteCacheErrorKind;
  /** The remote cache URL, `s3://bucket/prefix`. */
  readonly url: string;
  /** Where requests go: the custom endpoint URL, or `AWS S3 (<region>)`. */
  readonly endpoint: string;
  readonly problem: string;
  readonly fix: string;
  readonly cause?: unknown;
}

/**
 * A failure of the remote cache. Its `message` is one line (where, what, what to do) so that it
 * can be shown as a single warning; `describe()` gives the usual two-line SweepError text.
 */
export class RemoteCacheError extends SweepError {
  readonly kind: RemoteCacheErrorKind;
  readonly url: string;
  readonly endpoint: string;

  constructor(init: RemoteCacheErrorInit) {
    super({ stage: 'remote-cache', problem: `${init.url} (${init.endpoint}): ${init.problem}`, fix: init.fix, cause: init.cause });
    this.name = 'RemoteCacheError';
    this.kind = init.kind;
    this.url = init.url;
    this.endpoint = init.endpoint;
    this.message = `remote cache ${init.url} (${init.endpoint}): ${init.problem}; ${init.fix}`;
  }
}

export function isRemoteCacheError(error: unknown): error is RemoteCacheError {
  return error instanceof RemoteCacheError;
}

/** A remote cache URL that is not `s3://bucket[/prefix]`; `source` names where it came from. */
export function invalidRemoteCacheUrl(url: string, source: string, reason: string): SweepError {
  return new SweepError({
    stage: 'config',
    problem: `invalid remote cache URL ${JSON.stringify(url)} in ${source}: ${reason}`,
    fix: 'use s3://bucket or s3://bucket/prefix (bucket: 3-63 lower-case letters, digits, dots and hyphens), e.g. s3://my-team-cache/sweep',
  });
}
