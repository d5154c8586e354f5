// Lambda's platform log lines and the 4 KB tail returned with LogType Tail.
import { describe, expect, it } from '@jest/globals';
import { endLine, LOG_TAIL_BYTES, LogTail, reportLine, startLine } from '../../invoke/invocation-log.js';

const ID = '8f5c2a1e-0000-4000-8000-000000000001';

describe('platform lines', () => {
  it('writes START and END as Lambda does', () => {
    expect(startLine(ID)).toBe(`START RequestId: ${ID} Version: $LATEST`);
    expect(endLine(ID)).toBe(`END RequestId: ${ID}`);
  });

  it('writes a warm REPORT with tab-separated fields, billing whole milliseconds rounded up', () => {
    expect(reportLine(ID, { durationMs: 1.234, memorySize: 128, maxMemoryUsedMb: 19 })).toBe(
      `REPORT RequestId: ${ID}\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 19 MB\t`,
    );
  });

  it('bills the init of a cold start (an OS-only runtime) and names a timeout', () => {
    expect(reportLine(ID, { durationMs: 3000, memorySize: 256, initDurationMs: 12.5, status: 'timeout' })).toBe(
      `REPORT RequestId: ${ID}\tDuration: 3000.00 ms\tBilled Duration: 3013 ms\tMemory Size: 256 MB\tInit Duration: 12.50 ms\tStatus: timeout\t`,
    );
  });
});

describe('LogTail', () => {
  it('keeps every line while they fit, each ended by a newline', () => {
    const tail = new LogTail();
    tail.add('one');
    tail.add('two');
    expect(tail.tail().toString('utf8')).toBe('one\ntwo\n');
  });

  it('returns exactly the last 4 KB, cut at a byte boundary, of a longer log', () => {
    const tail = new LogTail();
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${'é'.repeat(10)}`);
    for (const line of lines) tail.add(line);
    const whole = Buffer.from(lines.map((line) => `${line}\n`).join(''));
    expect(tail.tail()).toEqual(whole.subarray(whole.length - LOG_TAIL_BYTES));
  });

  it('keeps the end of one line longer than the tail', () => {
    const tail = new LogTail();
    tail.add('x'.repeat(10_000));
    tail.add('last');
    const text = tail.tail().toString('utf8');
    expect(text.length).toBe(LOG_TAIL_BYTES);
    expect(text.endsWith(`${'x'.repeat(10)}\nlast\n`)).toBe(true);
  });
});
