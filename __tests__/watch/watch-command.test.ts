import { describe, expect, it } from '@jest/globals';
import { parsePort } from '../../cli/watch-command.js';

describe('watch --port', () => {
  it('GIVEN no --port THEN 9001, where the AWS CLI examples point', () => {
    expect(parsePort(undefined)).toBe(9001);
  });

  it.each([
    ['0', 0],
    ['9002', 9002],
    ['65535', 65535],
  ])('GIVEN --port %s THEN %d', (raw, port) => {
    expect(parsePort(raw)).toBe(port);
  });

  it.each(['65536', '-1', '90.5', 'http', '', '0x1f'])('GIVEN --port %j THEN an error naming the flag and the range', (raw) => {
    expect(() => parsePort(raw)).toThrow(
      expect.objectContaining({
        problem: `--port ${JSON.stringify(raw)} is not a port number from 0 to 65535`,
        fix: 'e.g. --port 9001 (the default), or --port 0 for any free port',
      }),
    );
  });
});
