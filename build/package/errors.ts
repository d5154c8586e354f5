import { SweepError } from '../support/errors.js';

/*
 * The package room's messages: a zip that fails the checks before deploy.
 */

/** A zip that fails the checks before deploy: never committed. */
export function artifactRefused(problem: string, fix: string, cause?: unknown): SweepError {
  return new SweepError({ stage: 'verify', problem: `${problem}; the zip was not committed, the previous one is unchanged`, fix, cause });
}
