import { SweepError } from '../support/errors.js';
import { printable } from '../support/printable.js';
import { type OptionsOrigin, optionHint } from './origin.js';

/*
 * The options room's messages (most config errors are `invalidConfig` from support/errors.ts).
 */

/** A dist or cache folder the engine cannot own: the root, a file, a path too long. */
export function unusableFolder(folder: string, source: string, problem: string, origin: OptionsOrigin): SweepError {
  const key = source.endsWith('SWEEP_CACHE_DIR')
    ? 'SWEEP_CACHE_DIR'
    : source.includes('distDir')
      ? optionHint(origin, 'distDir')
      : optionHint(origin, 'cacheDir');
  return new SweepError({
    stage: 'config',
    problem: `cannot use ${printable(folder.length > 200 ? `${folder.slice(0, 100)}...${folder.slice(-60)}` : folder)} as a folder of the engine (from ${source}): ${problem}`,
    fix: `set ${key} to a folder of its own inside the project (the defaults are dist and .cache)`,
  });
}
