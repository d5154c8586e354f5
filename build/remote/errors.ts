import { SweepError } from '../support/errors.js';
import { printable } from '../support/printable.js';
import { SAFE_NAME_RULE } from '../support/safe-name.js';

/*
 * The remote room's errors. The remote is never required: every failure to reach or use it is one
 * RemoteCacheError, which the engine reports as one warning line and then carries on.
 */

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
  /** What failed, without where (the url and endpoint say that). */
  readonly reason: string;

  constructor(init: RemoteCacheErrorInit) {
    super({ stage: 'remote-cache', problem: `${init.url} (${init.endpoint}): ${init.problem}`, fix: init.fix, cause: init.cause });
    this.name = 'RemoteCacheError';
    this.kind = init.kind;
    this.url = init.url;
    this.endpoint = init.endpoint;
    this.reason = init.problem;
    this.message = `remote cache ${init.url} (${init.endpoint}): ${init.problem}; ${init.fix}`;
  }
}

/** A remote cache URL that is not `s3://bucket[/prefix]`; `source` names where it came from. */
export function invalidRemoteCacheUrl(url: string, source: string, reason: string): SweepError {
  // An s3:// URL has no place for credentials; if someone put them there, they are not repeated.
  const shown = url.replace(/\/\/[^/@\s]*@/g, '//***@');
  return new SweepError({
    stage: 'config',
    problem: `invalid remote cache URL ${JSON.stringify(shown)} in ${source}: ${reason}`,
    fix: 'use s3://bucket or s3://bucket/prefix (bucket: 3-63 lower-case letters, digits, dots and hyphens), e.g. s3://my-team-cache/sweep',
  });
}

/** A signing key name that cannot name files and signature objects. */
export function unusableKeyName(name: string): SweepError {
  return new SweepError({
    stage: 'config',
    problem: `keygen: the key name ${JSON.stringify(printable(name))} cannot be used: it names the key files and the signature objects`,
    fix: `use ${SAFE_NAME_RULE}, e.g. ci-2026`,
  });
}
