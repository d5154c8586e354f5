import { describe, expect, it } from '@jest/globals';
import { resolveArtifactOptions } from '../../build/options/resolve.js';
import { sweepError } from '../helpers/errors.js';

/**
 * SWEEP_LOCK_TIMEOUT_SECONDS bounds how long a build waits for another process's build lock
 * (foreign-lock.integration.test.ts shows it end to end); unset, build-lock.ts's 30 minutes apply.
 */
describe('trust: SWEEP_LOCK_TIMEOUT_SECONDS', () => {
  const resolve = (value?: string) =>
    resolveArtifactOptions({ projectRoot: '/project' }, { env: value === undefined ? {} : { SWEEP_LOCK_TIMEOUT_SECONDS: value } });

  it('GIVEN a number of seconds WHEN options resolve THEN the lock timeout is that many milliseconds', () => {
    expect(resolve('90').lockTimeoutMs).toBe(90_000);
    expect(resolve('0.5').lockTimeoutMs).toBe(500);
    expect(resolve(' 30 ').lockTimeoutMs).toBe(30_000);
  });

  it('GIVEN it unset or empty WHEN options resolve THEN the engine default applies', () => {
    expect(resolve().lockTimeoutMs).toBeUndefined();
    expect(resolve('').lockTimeoutMs).toBeUndefined();
  });

  it.each(['0', '0.0', '-5', 'soon', '1e3', 'Infinity'])(
    'GIVEN %p WHEN options resolve THEN the error names the variable and what it accepts',
    (value) => {
      const error = sweepError(() => resolve(value));
      expect(error.describe()).toContain('SWEEP_LOCK_TIMEOUT_SECONDS');
      expect(error.describe()).toContain('a number of seconds greater than 0, e.g. 60');
    },
  );
});
