// What the Invoke API answers for each way an invocation can end: Lambda's error documents.
import { describe, expect, it } from '@jest/globals';
import { invocationAnswer } from '../../invoke/invoke-api-responses.js';

const ID = 'req-1';
const body = (outcome: Parameters<typeof invocationAnswer>[0]) => JSON.parse(invocationAnswer(outcome)!.body);

describe('invocationAnswer', () => {
  it('passes a response through as it came, with the version', () => {
    expect(invocationAnswer({ kind: 'response', requestId: ID, body: '[1,2]', durationMs: 1 })).toEqual({
      status: 200,
      headers: { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': '$LATEST' },
      body: '[1,2]',
    });
  });

  it("keeps the runtime's own JSON error report, and rebuilds one that is not JSON", () => {
    const report = '{"errorType":"Boom","errorMessage":"m","stackTrace":["a"]}';
    const answer = invocationAnswer({
      kind: 'function-error',
      requestId: ID,
      errorType: 'Boom',
      errorMessage: 'm',
      body: report,
      durationMs: 1,
    });
    expect(answer?.headers['X-Amz-Function-Error']).toBe('Unhandled');
    expect(answer?.body).toBe(report);
    expect(
      body({ kind: 'init-error', errorType: 'Runtime.Panic', errorMessage: 'panicked at main.rs', body: 'panicked at main.rs' }),
    ).toEqual({
      errorType: 'Runtime.Panic',
      errorMessage: 'panicked at main.rs',
    });
  });

  it('reports both timeouts as Sandbox.Timedout with the seconds', () => {
    expect(body({ kind: 'timeout', requestId: ID, timeoutMs: 3000 })).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: 'RequestId: req-1 Error: Task timed out after 3.00 seconds',
    });
    expect(body({ kind: 'init-timeout', requestId: ID, initTimeoutMs: 10_000 }).errorMessage).toBe(
      'RequestId: req-1 Error: Task timed out after 10.00 seconds',
    );
  });

  it.each([
    [3, null, 'Runtime exited with error: exit status 3'],
    [0, null, 'Runtime exited without providing a reason'],
    [null, 'SIGKILL', 'Runtime exited with error: signal: killed'],
    [null, 'SIGSEGV', 'Runtime exited with error: signal: segmentation fault'],
    [null, 'SIGUSR1', 'Runtime exited with error: signal: SIGUSR1'],
  ])('reports an exit (code %j, signal %j) as Runtime.ExitError: %s', (exitCode, signal, reason) => {
    expect(body({ kind: 'exited', requestId: ID, exitCode, signal })).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: req-1 Error: ${reason}`,
    });
  });

  it('leaves a process that never started to the caller (a service error, not the function)', () => {
    expect(invocationAnswer({ kind: 'spawn-failed', requestId: ID, message: 'spawn docker ENOENT' })).toBeUndefined();
  });
});
