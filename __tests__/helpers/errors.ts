import { expect } from '@jest/globals';
import { type Stage, SweepError } from '../../build/support/errors.js';

/** Runs `run`, which must throw an instance of `type`, and returns it for assertions on its parts. */
export function thrown<E extends Error>(run: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
}

/** Runs `run`, which must throw a SweepError (of `stage`, when given), and returns it. */
export function sweepError(run: () => unknown, stage?: Stage): SweepError {
  const error = thrown(run, SweepError);
  if (stage !== undefined) expect(error.stage).toBe(stage);
  return error;
}
