import * as path from 'node:path';
import { describeOrigin, type OptionsOrigin, optionHint } from '../options/origin.js';
import { errorMessage, SweepError } from '../support/errors.js';
import { printable } from '../support/printable.js';
import { SAFE_NAME_RULE } from '../support/safe-name.js';

/*
 * The cache room's messages: artifact names that become file names, two artifacts claiming one zip, and
 * the build lock (`dist/.<name>.lock`).
 */

export function unsafeArtifactName(name: string, origin: OptionsOrigin): SweepError {
  return new SweepError({
    stage: 'config',
    problem: `the artifact name ${JSON.stringify(name)} (from ${describeOrigin(origin)}, or its package's name) cannot be a file name in dist/`,
    fix: `set ${optionHint(origin, 'name')} to ${SAFE_NAME_RULE}`,
  });
}

/**
 * Two artifacts of one app write the same zip with different settings, or zips whose names differ
 * only in case (`caseOnly`), which a case-insensitive file system (macOS, Windows) makes one file.
 */
export function conflictingArtifacts(zip: string, first: OptionsOrigin, second: OptionsOrigin, caseOnly = false): SweepError {
  const where =
    describeOrigin(first) === describeOrigin(second) ? describeOrigin(first) : `${describeOrigin(first)} and ${describeOrigin(second)}`;
  return new SweepError({
    stage: 'config',
    problem: caseOnly
      ? `two artifacts in this app write zips whose names differ only in case (${zip}; ${where}): on a case-insensitive file system they are one file`
      : `two artifacts in this app write ${zip} with different settings (${where})`,
    fix: `give each its own ${optionHint(second, 'name')}${caseOnly ? ', differing in more than case' : ''}`,
  });
}

export function lockNotCreated(dir: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'lock',
    problem: `cannot create the build lock ${printable(dir)}: ${printable(errorMessage(cause))}`,
    fix: `make ${printable(path.dirname(dir))} writable, or set ${optionHint(undefined, 'distDir')} to a writable folder`,
    cause,
  });
}

/**
 * Waited `waited` (e.g. `30 min`) for the lock and gave up. `holder` describes the owner (pid,
 * host, command, since); `otherHost` is its host when that is not this one.
 */
export function lockWaitTimedOut(
  dir: string,
  holder: string,
  waited: string,
  owner: { readonly pid: number; readonly otherHost?: string } | undefined,
): SweepError {
  const remove = `rm -rf ${shellQuote(dir)}`;
  let fix: string;
  if (owner === undefined) {
    fix = `if no build of this artifact is running, remove the lock (${remove}) and run again`;
  } else if (owner.otherHost !== undefined) {
    fix = `a lock held from another host is never taken over automatically (its pid cannot be checked from here): if no build is running on ${printable(owner.otherHost)}, remove the lock (${remove}) and run again`;
  } else {
    fix = `wait for pid ${owner.pid} to finish, or stop it if it hangs (kill ${owner.pid}); a lock whose process is gone is taken over at once`;
  }
  return new SweepError({
    stage: 'lock',
    problem: `gave up waiting for the build lock ${printable(dir)} after ${waited}: it is held by ${holder}`,
    fix,
  });
}

/** A path as one shell word (single quotes), so the printed command can be pasted as is. */
function shellQuote(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${printable(text).replace(/'/g, `'\\''`)}'`;
}
