import { expect } from '@jest/globals';
import { SweepError } from '../../build/support/errors.js';

/** Runs `run`, which must throw a SweepError, and returns it for assertions on its parts. */
export function sweepError(run: () => unknown): SweepError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SweepError);
    return error as SweepError;
  }
  throw new Error('expected a SweepError, nothing was thrown');
}
