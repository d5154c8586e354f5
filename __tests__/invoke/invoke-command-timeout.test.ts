// `sweep-runtime invoke --timeout`: what is accepted matches what the message says.
import { describe, expect, it } from '@jest/globals';
import { parseTimeout } from '../../cli/invoke-command.js';
import { sweepError } from '../helpers/errors.js';

describe('parseTimeout', () => {
  it('accepts seconds greater than 0 and at most 900, in milliseconds; defaults to the configured timeout', () => {
    expect(parseTimeout('0.5', 30)).toBe(500);
    expect(parseTimeout('900', 30)).toBe(900_000);
    expect(parseTimeout(undefined, 30)).toBe(30_000);
  });

  it.each(['0', '-1', '900.5', '901', 'abc', ''])('refuses %j with a message that says what is accepted', (raw) => {
    const error = sweepError(() => parseTimeout(raw, 30));
    expect(error.stage).toBe('config');
    expect(error.problem).toBe(`--timeout ${JSON.stringify(raw)} is not a number of seconds greater than 0 and at most 900`);
  });
});
