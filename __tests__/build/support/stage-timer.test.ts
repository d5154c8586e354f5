import { describe, expect, it } from '@jest/globals';
import { formatTimings } from '../../../build/support/stage-timer.js';

describe('formatTimings: the stages that mattered, for a progress line', () => {
  it('leaves out a stage under 5 ms and under 1% of the total, keeping the total', () => {
    expect(
      formatTimings({ fingerprint: 2.3, lock: 0.1, 'builder-image': 62, features: 1.7, compile: 453, package: 136, verify: 2, total: 879 }),
    ).toBe('builder-image 62 ms, compile 453 ms, package 136 ms, total 879 ms');
  });

  it('keeps a small stage that is a large part of a small total (a cache hit)', () => {
    expect(formatTimings({ fingerprint: 5.4, total: 5.5 })).toBe('fingerprint 5.4 ms, total 5.5 ms');
    expect(formatTimings({ fingerprint: 1.2, lock: 0.01, total: 1.4 })).toBe('fingerprint 1.2 ms, total 1.4 ms');
  });

  it('keeps a stage of 5 ms or more however long the total', () => {
    expect(formatTimings({ fingerprint: 5, compile: 60_000, total: 61_000 })).toBe(
      'fingerprint 5.0 ms, compile 1 min 0 s, total 1 min 1 s',
    );
  });
});
