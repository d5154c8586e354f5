import { SweepError } from '../build/index.js';

/*
 * The app configuration's messages (cdktf.json itself; its keys are checked by invalidConfig).
 */

export function cdktfJsonUnusable(file: string, problem: string, fix: string, cause?: unknown): SweepError {
  return new SweepError({ stage: 'config', problem: `cannot use ${file}: ${problem}`, fix, cause });
}
