import { errorMessage, SweepError } from '../support/errors.js';
import { printable } from '../support/printable.js';

/*
 * The fingerprint room's messages: walking and hashing the input files. `relative` is the path relative
 * to the workspace root, as the `cache-miss:` line shows it.
 */

export function unreadableInputFolder(relative: string, absolute: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'inputs',
    problem: `cannot list the folder ${printable(relative || '.')} in a crate folder: ${printable(errorMessage(cause))}`,
    fix: `make ${printable(absolute)} readable and searchable by this user (chmod u+rx), or move it out of the crate folder; every file in a crate folder is an input`,
    cause,
  });
}

export function unreadableInputFile(relative: string, absolute: string, cause: unknown): SweepError {
  return new SweepError({
    stage: 'inputs',
    problem: `cannot read the input file ${printable(relative)}: ${printable(errorMessage(cause))}`,
    fix: `make ${printable(absolute)} readable by this user (chmod u+r), or move it out of the crate folder; every file in a crate folder is an input`,
    cause,
  });
}

export function tooManyInputs(limit: number, crateFolders: readonly string[]): SweepError {
  const folders = crateFolders.map((f) => printable(f || '.')).join(', ');
  return new SweepError({
    stage: 'inputs',
    problem: `the crate folders (${folders}) hold more than ${limit.toLocaleString('en-US')} input files; the walk stopped there`,
    fix: 'move generated files, data and vendored trees out of the crate folders (or into a folder named `target`), and remove symlinks that repeat folders',
  });
}
