// FunctionPool with the looping fake runtime (fake-warm-runtime.ts): warm starts reuse the
// process, concurrency gets separate environments up to the cap, crashes and timeouts discard an
// environment, and new code applies to the next invocation, never as a mix.
import * as fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FunctionPool, type FunctionPoolConfig, type LocalFunction, type PoolInvocation } from '../../invoke/function-pool.js';
import { LOG_TAIL_BYTES } from '../../invoke/invocation-log.js';
import { fakeMetadata } from './fake-runtime.js';
import { CONFIGURED_BUILDER_IMAGE, type WarmAnswer, warmCode } from './fake-warm-runtime.js';
import { makeZip, tempFiles } from './zip-fixtures.js';

let files: ReturnType<typeof tempFiles>;
const pools: FunctionPool[] = [];
beforeEach(() => {
  files = tempFiles();
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  files.cleanup();
});

const FUNCTION: LocalFunction = {
  key: 'fake',
  functionName: 'fake-deployed',
  memorySize: 128,
  timeoutSeconds: 10,
  environment: {},
  reservedConcurrency: null,
};

function makePool(fn: Partial<LocalFunction> = {}, config: Partial<FunctionPoolConfig> = {}): FunctionPool {
  const pool = new FunctionPool({ function: { ...FUNCTION, ...fn }, code: warmCode(files.write, 'v1'), region: 'eu-west-1', ...config });
  pools.push(pool);
  return pool;
}

type Completed = Extract<PoolInvocation, { kind: 'completed' }>;

function completed(result: PoolInvocation): Completed {
  if (result.kind !== 'completed') throw new Error(`expected a completed invocation, got ${JSON.stringify(result)}`);
  return result;
}

/** The fake runtime's answer to a completed invocation that ended in a response. */
function answer(result: PoolInvocation): WarmAnswer {
  const { outcome } = completed(result);
  if (outcome.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(outcome)}`);
  return JSON.parse(outcome.body) as WarmAnswer;
}

const invoke = (pool: FunctionPool, event: unknown, options = {}) => pool.invoke(JSON.stringify(event), options);

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('FunctionPool', () => {
  it('reuses the process for a warm start: one environment, the same pid, its count going on', async () => {
    const pool = makePool();
    const first = await invoke(pool, { n: 1 });
    const second = await invoke(pool, { n: 2 });

    expect(completed(first).coldStart).toBe(true);
    expect(completed(second).coldStart).toBe(false);
    expect(answer(second).pid).toBe(answer(first).pid);
    expect([answer(first).count, answer(second).count]).toEqual([1, 2]);
    expect(completed(second).environmentId).toBe(completed(first).environmentId);
    expect(pool.environmentInfo).toEqual([
      { id: completed(first).environmentId, pid: answer(first).pid, codeVersion: pool.codeVersion, invocations: 2, idle: true },
    ]);
  });

  it('passes the configured name and the invoked ARN, and hands the event over as it came', async () => {
    const pool = makePool();
    const plain = answer(await invoke(pool, ['not', 'an', 'object']));
    expect(plain.event).toEqual(['not', 'an', 'object']);
    expect(plain.functionName).toBe('fake-deployed');
    expect(plain.arn).toBe('arn:aws:lambda:eu-west-1:000000000000:function:fake-deployed');
    const qualified = answer(
      await invoke(
        pool,
        {},
        { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fake-deployed:$LATEST', clientContext: '{"a":1}' },
      ),
    );
    expect(qualified.arn).toBe('arn:aws:lambda:eu-west-1:123456789012:function:fake-deployed:$LATEST');
    expect(qualified.clientContext).toBe('{"a":1}');
  });

  it('gives concurrent invocations separate environments, each with its own unpacked copy of the zip', async () => {
    const pool = makePool();
    const [a, b] = await Promise.all([invoke(pool, { sleepMs: 300 }), invoke(pool, { sleepMs: 300 })]);
    expect(answer(a).pid).not.toBe(answer(b).pid);
    expect(answer(a).taskRoot).not.toBe(answer(b).taskRoot);
    expect(pool.environmentInfo).toHaveLength(2);
    // Both are warm now: a third invocation starts nothing.
    expect(completed(await invoke(pool, {})).coldStart).toBe(false);
    expect(pool.environmentInfo).toHaveLength(2);
  });

  it('throttles beyond the reserved concurrency, and queues an invocation that asks to wait', async () => {
    const pool = makePool({ reservedConcurrency: 1 });
    const slow = invoke(pool, { sleepMs: 400 });
    // Admitted synchronously: the slot is taken before invoke() first awaits.
    await expect(invoke(pool, {})).resolves.toMatchObject({ kind: 'throttled', limit: 1, reserved: true });
    const queued = invoke(pool, { n: 'queued' }, { queue: true });

    const [first, later] = [answer(await slow), answer(await queued)];
    expect(later.pid).toBe(first.pid);
    expect(later.count).toBe(2);
    expect(pool.environmentInfo).toHaveLength(1);
  });

  it('caps at the default concurrency without a reservation, saying it is not reserved', async () => {
    const pool = makePool({}, { defaultConcurrency: 1 });
    const slow = invoke(pool, { sleepMs: 300 });
    await expect(invoke(pool, {})).resolves.toMatchObject({ kind: 'throttled', limit: 1, reserved: false });
    await slow;
  });

  it('throttles everything, queued or not, at a reserved concurrency of 0 (a stopped function)', async () => {
    const pool = makePool({ reservedConcurrency: 0 });
    await expect(invoke(pool, {})).resolves.toMatchObject({ kind: 'throttled', limit: 0 });
    await expect(invoke(pool, {}, { queue: true })).resolves.toMatchObject({ kind: 'throttled', limit: 0 });
    expect(pool.environmentInfo).toEqual([]);
  });

  it('discards an environment whose process crashed; the next invocation is a cold start in a new process', async () => {
    const pool = makePool();
    const before = answer(await invoke(pool, {}));
    const crash = completed(await invoke(pool, { exit: 3 }));
    expect(crash.outcome).toMatchObject({ kind: 'exited', exitCode: 3, signal: null });
    await pool.settled();
    expect(pool.environmentInfo).toEqual([]);
    expect(fs.existsSync(before.taskRoot)).toBe(false);

    const after = await invoke(pool, {});
    expect(completed(after).coldStart).toBe(true);
    expect(answer(after).pid).not.toBe(before.pid);
  });

  it('discards an environment that timed out, stopping its process', async () => {
    const pool = makePool({ timeoutSeconds: 0.3 });
    const warm = answer(await invoke(pool, {}));
    const timedOut = completed(await invoke(pool, { hang: true }));
    expect(timedOut.outcome).toMatchObject({ kind: 'timeout', timeoutMs: 300 });
    await pool.settled();
    expect(isRunning(warm.pid)).toBe(false);
    expect(pool.environmentInfo).toEqual([]);
  });

  it('forgets an environment whose process ended while idle; the next invocation starts another', async () => {
    const pool = makePool();
    const first = answer(await invoke(pool, {}));
    process.kill(first.pid, 'SIGKILL');
    while (pool.environmentInfo.length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await invoke(pool, {});
    expect(completed(second).coldStart).toBe(true);
    expect(answer(second).pid).not.toBe(first.pid);
  });

  it('returns a failed init to the invocation that started it, and does not keep that environment', async () => {
    const pool = makePool({ environment: { FAKE_INIT_ERROR: 'TABLE is not set' } });
    const result = completed(await invoke(pool, {}));
    expect(result.outcome).toMatchObject({ kind: 'init-error', errorType: 'Runtime.ConfigInvalid', errorMessage: 'TABLE is not set' });
    await pool.settled();
    expect(pool.environmentInfo).toEqual([]);
  });

  it('ends an init that outlasts its budget as init-timeout, logged as Lambda logs it, and discards that environment', async () => {
    const pool = makePool({ environment: { FAKE_INIT_SLEEP_MS: '60000' } }, { initTimeoutMs: 300 });
    const result = completed(await invoke(pool, {}));
    expect(result.outcome).toMatchObject({ kind: 'init-timeout', initTimeoutMs: 300 });
    expect(result.logTail.toString('utf8')).toContain('\nINIT_REPORT Init Duration: 300.00 ms\tPhase: init\tStatus: timeout\n');
    await pool.settled();
    expect(pool.environmentInfo).toEqual([]);
  });

  it('keeps an environment after a function error: the runtime reported it and goes on', async () => {
    const pool = makePool();
    const failed = completed(await invoke(pool, { fail: 'no such item' }));
    expect(failed.outcome).toMatchObject({ kind: 'function-error', errorType: 'Boom', errorMessage: 'no such item' });
    const next = await invoke(pool, {});
    expect(completed(next).coldStart).toBe(false);
    expect(answer(next).count).toBe(2);
  });

  it('says so when the process cannot be started at all (a docker command that does not exist)', async () => {
    const pool = makePool({}, { runner: { inContainer: true, dockerCommand: '/nonexistent/docker' } });
    // The image this machine's configuration names, not the one the (possibly downloaded) metadata names.
    expect(pool.runsOn).toBe(CONFIGURED_BUILDER_IMAGE);
    expect(pool.runsOn).not.toBe(fakeMetadata().builderImage.tag);
    const result = completed(await invoke(pool, {}));
    expect(result.outcome).toMatchObject({ kind: 'spawn-failed', message: 'spawn /nonexistent/docker ENOENT' });
    await pool.settled();
    expect(pool.environmentInfo).toEqual([]);
  });

  describe('new code (hot reload)', () => {
    it('runs the next invocation on the new code while an invocation in flight finishes on the old, then retires the old', async () => {
      const pool = makePool();
      // Two warm environments of v1.
      const [a, b] = (await Promise.all([invoke(pool, { sleepMs: 200 }), invoke(pool, { sleepMs: 200 })])).map(answer);
      const inFlight = invoke(pool, { sleepMs: 500 });
      const v1 = pool.codeVersion;

      await pool.replaceCode(warmCode(files.write, 'v2'));
      // The idle v1 environment is gone at once, with its task root.
      const busyOld = [a!, b!].find((x) => isRunning(x.pid))!;
      const idleOld = [a!, b!].find((x) => x !== busyOld)!;
      expect(fs.existsSync(idleOld.taskRoot)).toBe(false);

      const fresh = await invoke(pool, {});
      expect(answer(fresh).label).toBe('v2');
      expect(completed(fresh).coldStart).toBe(true);
      expect(completed(fresh).codeVersion).toBeGreaterThan(v1);

      const old = await inFlight;
      expect(answer(old).label).toBe('v1');
      expect(answer(old).pid).toBe(busyOld.pid);
      await pool.settled();
      expect(isRunning(busyOld.pid)).toBe(false);
      expect(fs.existsSync(busyOld.taskRoot)).toBe(false);
      expect(pool.environmentInfo.map((env) => env.codeVersion)).toEqual([pool.codeVersion]);
    });

    it('keeps the current code when the new zip cannot run', async () => {
      const pool = makePool();
      const broken = files.write('broken.zip', makeZip({ other: 'no bootstrap here' }));
      await expect(
        pool.replaceCode({ zipPath: broken, metadata: fakeMetadata(), builderImage: CONFIGURED_BUILDER_IMAGE }),
      ).rejects.toMatchObject({
        name: 'SweepError',
        problem: `${broken} has no bootstrap entry`,
      });
      expect(answer(await invoke(pool, {})).label).toBe('v1');
    });
  });

  describe('logs', () => {
    it("frames the function's lines with START, END and REPORT; a cold start's tail has its init lines and Init Duration", async () => {
      const lines: string[] = [];
      const pool = makePool({ environment: { FAKE_INIT_LOG: 'init says hello' } }, { onLog: (line) => lines.push(line) });
      const cold = completed(await invoke(pool, { log: ['one', 'two'], stderr: 'on stderr' }));
      const tail = cold.logTail.toString('utf8').split('\n');
      expect(tail[0]).toBe(`START RequestId: ${cold.requestId} Version: $LATEST`);
      expect(tail.slice(1, 5)).toEqual(['init says hello', 'one', 'two', 'on stderr']);
      expect(tail[5]).toBe(`END RequestId: ${cold.requestId}`);
      expect(tail[6]).toMatch(
        new RegExp(
          `^REPORT RequestId: ${cold.requestId}\\tDuration: \\d+\\.\\d\\d ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: \\d+\\.\\d\\d ms\\t$`,
        ),
      );
      expect(tail[7]).toBe('');
      expect(lines).toEqual(tail.slice(0, 7));

      const warm = completed(await invoke(pool, { log: ['three'] }));
      const warmTail = warm.logTail.toString('utf8');
      expect(warmTail).not.toContain('init says hello');
      expect(warmTail).not.toContain('Init Duration');
      expect(warmTail).toContain('\nthree\n');
    });

    it('keeps the last 4 KB, ending with the REPORT line', async () => {
      const pool = makePool();
      const many = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(60)}`);
      const result = completed(await invoke(pool, { log: many }));
      expect(result.logTail.length).toBe(LOG_TAIL_BYTES);
      const text = result.logTail.toString('utf8');
      expect(text).toContain(`line 199 ${'x'.repeat(60)}\nEND RequestId: ${result.requestId}\nREPORT RequestId: ${result.requestId}\t`);
      expect(text).not.toContain('START');
    });

    it('says a timeout in the log as Lambda does', async () => {
      const pool = makePool({ timeoutSeconds: 0.3 });
      const result = completed(await invoke(pool, { hang: true }));
      const text = result.logTail.toString('utf8');
      expect(text).toMatch(new RegExp(`\\n\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${result.requestId} Task timed out after 0\\.30 seconds\\n`));
      expect(text).toMatch(/\tStatus: timeout\t\n$/);
    });
  });

  it('close() stops every environment, refuses new invocations and rejects queued ones', async () => {
    const pool = new FunctionPool({
      function: { ...FUNCTION, reservedConcurrency: 1 },
      code: warmCode(files.write, 'v1'),
      region: 'eu-west-1',
    });
    const running = invoke(pool, { hang: true });
    const queued = invoke(pool, {}, { queue: true });
    const queuedRejected = expect(queued).rejects.toThrow('the pool of fake was closed');
    while (pool.environmentInfo.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const pid = pool.environmentInfo[0]!.pid!;
    await pool.close();
    await queuedRejected;
    await expect(running).resolves.toMatchObject({ kind: 'completed', outcome: { kind: 'exited', signal: 'SIGKILL' } });
    expect(isRunning(pid)).toBe(false);
    await expect(invoke(pool, {})).rejects.toThrow('the pool of fake is closed');
  });
});
