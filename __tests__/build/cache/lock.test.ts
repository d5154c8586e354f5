import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { BuildLock, describeOwner, LOCK_TIMEOUT_MS, type LockOwner } from '../../../build/cache/lock.js';
import { SweepError } from '../../../build/support/errors.js';

let temp: string;
let lockDir: string;
const held: BuildLock[] = [];
beforeEach(() => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-lock-'));
  lockDir = path.join(temp, 'dist', '.sweep-lambda.lock');
});
afterEach(() => {
  for (const lock of held.splice(0)) lock.release();
  fs.rmSync(temp, { recursive: true, force: true });
});

async function acquire(...args: Parameters<typeof BuildLock.acquire>): Promise<BuildLock> {
  const lock = await BuildLock.acquire(...args);
  held.push(lock);
  return lock;
}

const ownerOf = (dir: string): LockOwner => JSON.parse(fs.readFileSync(path.join(dir, 'owner.json'), 'utf8')) as LockOwner;

/** The pid of a process that has exited (and been reaped), so it names no live process. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise((resolve) => child.once('exit', resolve));
  return pid;
}

function writeOwner(dir: string, owner: LockOwner): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'owner.json'), JSON.stringify(owner));
}

/** Resolves to 'pending' if `promise` has not settled within `ms`. */
async function stateAfter(promise: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  return Promise.race([promise.then(() => 'settled' as const), sleep(ms).then(() => 'pending' as const)]);
}

describe('BuildLock: acquire and release', () => {
  it('creates the lock folder with an owner.json naming this process, and removes it on release', async () => {
    // WHEN the lock is acquired (its parent folder does not exist yet)
    const before = Date.now();
    const lock = await acquire(lockDir);
    // THEN the folder holds this process's pid, host, start time and command
    const owner = ownerOf(lockDir);
    expect(owner.pid).toBe(process.pid);
    expect(owner.host).toBe(os.hostname());
    expect(Date.parse(owner.since)).toBeGreaterThanOrEqual(before - 1000);
    expect(owner.command).toBe(
      process.argv
        .slice(1)
        .map((a) => path.basename(a))
        .join(' ')
        .slice(0, 200),
    );
    expect(lock.dir).toBe(lockDir);
    // AND release removes it; a second release is harmless
    lock.release();
    expect(fs.existsSync(lockDir)).toBe(false);
    lock.release();
  });

  it('can be acquired again after release', async () => {
    (await acquire(lockDir)).release();
    const again = await acquire(lockDir, { pollMs: 10 });
    expect(ownerOf(again.dir).pid).toBe(process.pid);
  });

  it('does not remove a lock that is no longer its own', async () => {
    // GIVEN the lock was deleted by hand and re-created by someone else
    const lock = await acquire(lockDir);
    fs.rmSync(lockDir, { recursive: true });
    writeOwner(lockDir, { pid: 1, host: 'elsewhere', since: new Date().toISOString(), command: 'cdktf deploy' });
    // WHEN the first holder releases
    lock.release();
    // THEN the other owner's lock stays
    expect(ownerOf(lockDir).host).toBe('elsewhere');
  });
});

describe('BuildLock: many held at once', () => {
  it('GIVEN 120 locks held by one process (a run of 100 functions) THEN no exit listener is added per lock, so Node never warns of a leak', async () => {
    const before = process.listenerCount('exit');
    for (let i = 0; i < 120; i++) held.push(await BuildLock.acquire(path.join(temp, `many-${i}.lock`)));
    expect(process.listenerCount('exit')).toBe(before);
    for (const lock of held.splice(0)) lock.release();
    expect(fs.readdirSync(temp).filter((name) => name.startsWith('many-'))).toEqual([]);
  });
});

describe('BuildLock: waiting', () => {
  it('makes a second acquirer wait, tells it who holds the lock, and lets it in after release', async () => {
    // GIVEN the lock is held
    const first = await acquire(lockDir);
    const waits: (LockOwner | undefined)[] = [];
    // WHEN a second acquire starts
    const second = acquire(lockDir, { pollMs: 10, onWait: (owner) => waits.push(owner) });
    // THEN it waits, and reports the owner once (the next report is due only after 30 s)
    expect(await stateAfter(second, 150)).toBe('pending');
    expect(waits).toHaveLength(1);
    expect(waits[0]).toEqual(ownerOf(lockDir));
    expect(waits[0]!.pid).toBe(process.pid);
    // AND WHEN the first releases, the second gets the lock
    first.release();
    expect(await stateAfter(second, 1000)).toBe('settled');
    expect(ownerOf((await second).dir).pid).toBe(process.pid);
    // AND only the second says it waited (the build lock re-checks the cache only then)
    expect(first.waited).toBe(false);
    expect((await second).waited).toBe(true);
  });

  it('reports again every reportEveryMs while it waits', async () => {
    await acquire(lockDir);
    const waited: number[] = [];
    const firsts: boolean[] = [];
    const controller = new AbortController();
    const second = acquire(lockDir, {
      pollMs: 5,
      reportEveryMs: 40,
      onWait: (_o, ms, first) => {
        waited.push(ms);
        firsts.push(first);
      },
      signal: controller.signal,
    });
    await sleep(200);
    controller.abort();
    await expect(second).rejects.toThrow();
    expect(waited.length).toBeGreaterThanOrEqual(3);
    expect(waited[0]).toBeLessThan(40);
    // Only the first report is flagged first, whatever its elapsed time (it may be 1 ms, not 0).
    expect(firsts).toEqual([true, ...Array(firsts.length - 1).fill(false)]);
    for (let i = 1; i < waited.length; i++) expect(waited[i]! - waited[i - 1]!).toBeGreaterThanOrEqual(40);
  });

  it("stops waiting when its AbortSignal aborts, and leaves the holder's lock alone", async () => {
    // GIVEN the lock is held
    await acquire(lockDir);
    const controller = new AbortController();
    let reported = false;
    const second = acquire(lockDir, { pollMs: 10, signal: controller.signal, onWait: () => (reported = true) });
    await sleep(50);
    expect(reported).toBe(true);
    // WHEN the waiter's signal aborts
    controller.abort();
    // THEN the acquire rejects with an AbortError, and the lock is still the holder's
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    expect(ownerOf(lockDir).pid).toBe(process.pid);
  });

  it('does not start waiting when the signal is already aborted', async () => {
    await acquire(lockDir);
    await expect(BuildLock.acquire(lockDir, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('waits for a lock held by a live process on another host (its pid cannot be checked here)', async () => {
    const deadHere = await deadPid();
    writeOwner(lockDir, { pid: deadHere, host: `not-${os.hostname()}`, since: new Date().toISOString(), command: 'cdktf deploy' });
    const controller = new AbortController();
    const waits: (LockOwner | undefined)[] = [];
    const attempt = acquire(lockDir, { pollMs: 10, signal: controller.signal, onWait: (o) => waits.push(o) });
    expect(await stateAfter(attempt, 100)).toBe('pending');
    controller.abort();
    await expect(attempt).rejects.toMatchObject({ name: 'AbortError' });
    expect(waits[0]?.host).toBe(`not-${os.hostname()}`);
  });
});

describe('BuildLock: abandoned locks', () => {
  it('takes over at once a lock whose owner process is dead, and says whose it was', async () => {
    // GIVEN a lock left by a process that has exited
    const pid = await deadPid();
    const stale: LockOwner = { pid, host: os.hostname(), since: '2026-01-01T00:00:00.000Z', command: 'cdktf deploy' };
    writeOwner(lockDir, stale);
    const takeovers: LockOwner[] = [];
    let waited = false;
    // WHEN another process acquires it
    const started = Date.now();
    await acquire(lockDir, { pollMs: 1000, onTakeover: (o) => takeovers.push(o), onWait: () => (waited = true) });
    // THEN it gets the lock without waiting, reports the dead owner, and the lock is now its own
    expect(Date.now() - started).toBeLessThan(500);
    expect(waited).toBe(false);
    expect(takeovers).toEqual([stale]);
    expect(ownerOf(lockDir).pid).toBe(process.pid);
    expect(fs.existsSync(`${lockDir}.takeover`)).toBe(false);
  });

  it('waits on an ownerless lock folder younger than 10 s, and takes it over once it is older', async () => {
    // GIVEN a lock folder with no owner.json, just created (its creator may be writing owner.json)
    fs.mkdirSync(lockDir, { recursive: true });
    const waits: (LockOwner | undefined)[] = [];
    const takeovers: LockOwner[] = [];
    const attempt = acquire(lockDir, { pollMs: 10, onWait: (o) => waits.push(o), onTakeover: (o) => takeovers.push(o) });
    // THEN the acquirer waits, for "another process"
    expect(await stateAfter(attempt, 150)).toBe('pending');
    expect(waits).toEqual([undefined]);
    expect(describeOwner(waits[0])).toBe('another process');
    // WHEN the folder is 11 s old
    const old = new Date(Date.now() - 11_000);
    fs.utimesSync(lockDir, old, old);
    // THEN it is taken over (no owner to report)
    expect(await stateAfter(attempt, 1000)).toBe('settled');
    expect(ownerOf(lockDir).pid).toBe(process.pid);
    expect(takeovers).toEqual([]);
  });

  it('takes over an ownerless lock folder older than 10 s at once', async () => {
    fs.mkdirSync(lockDir, { recursive: true });
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lockDir, old, old);
    let waited = false;
    const started = Date.now();
    await acquire(lockDir, { pollMs: 1000, onWait: () => (waited = true) });
    expect(Date.now() - started).toBeLessThan(500);
    expect(waited).toBe(false);
  });

  it('does not take over while another waiter holds the takeover guard, until the guard expires', async () => {
    // GIVEN a dead owner, and a takeover guard (another waiter is removing the lock right now)
    // that is 9.7 s old, so it counts as abandoned 300 ms from now
    const pid = await deadPid();
    writeOwner(lockDir, { pid, host: os.hostname(), since: new Date().toISOString(), command: 'cdktf deploy' });
    fs.mkdirSync(`${lockDir}.takeover`);
    const almostExpired = new Date(Date.now() - 10_000 + 300);
    fs.utimesSync(`${lockDir}.takeover`, almostExpired, almostExpired);
    const takeovers: LockOwner[] = [];
    // WHEN another process acquires
    const started = Date.now();
    await acquire(lockDir, { pollMs: 10, onTakeover: (o) => takeovers.push(o) });
    // THEN it did not remove the lock while the guard was fresh, and took it over once, after
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(takeovers.map((o) => o.pid)).toEqual([pid]);
    expect(ownerOf(lockDir).pid).toBe(process.pid);
    expect(fs.existsSync(`${lockDir}.takeover`)).toBe(false);
  });

  // Regression (fixed bug in build/cache/lock.ts, BuildLock.acquire): when a dead owner's lock is being taken over by
  // someone else (the `.takeover` guard exists), takeOver() returns false and the loop `continue`s
  // without awaiting, so acquire() spins synchronously until the guard expires (up to 10 s of 100%
  // CPU). The event loop is blocked: no timers, no AbortSignal, no progress output. Fix: sleep
  // pollMs (with the signal) when takeOver() returns false.
  it("keeps the event loop running while another waiter takes over a dead owner's lock", async () => {
    // GIVEN a dead owner and a takeover guard that expires in 300 ms
    const pid = await deadPid();
    writeOwner(lockDir, { pid, host: os.hostname(), since: new Date().toISOString(), command: 'cdktf deploy' });
    fs.mkdirSync(`${lockDir}.takeover`);
    const almostExpired = new Date(Date.now() - 10_000 + 300);
    fs.utimesSync(`${lockDir}.takeover`, almostExpired, almostExpired);
    // WHEN another process acquires, with a timer ticking meanwhile
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      await acquire(lockDir, { pollMs: 10 });
    } finally {
      clearInterval(timer);
    }
    // THEN the timer ran while it waited (~300 ms)
    expect(ticks).toBeGreaterThanOrEqual(5);
  });
});

describe('BuildLock: a bounded wait', () => {
  // A waiter used to wait forever, and a lock held from another host is never taken over. Each
  // acquire here also has an AbortSignal as a safety net, so a waiter that ignores timeoutMs
  // fails the test (with an AbortError) instead of hanging it.
  const safetyNet = () => AbortSignal.timeout(5000);

  async function timeoutError(promise: Promise<unknown>): Promise<SweepError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SweepError);
    return error as SweepError;
  }

  it('gives up on a lock held from another host, naming the holder and saying to remove the lock', async () => {
    // GIVEN a lock whose owner runs on another host (its pid cannot be checked from here)
    const since = '2026-11-25T14:00:00.000Z';
    writeOwner(lockDir, { pid: 4242, host: 'ci-runner-7', since, command: 'cdktf deploy' });
    // WHEN a waiter waits with a bound of 100 ms
    const started = Date.now();
    const error = await timeoutError(BuildLock.acquire(lockDir, { pollMs: 10, timeoutMs: 100, signal: safetyNet() }));
    // THEN it gives up after the bound with an error naming pid, host, command and since
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(error.stage).toBe('lock');
    expect(error.message).toMatch(
      new RegExp(
        `^lock: gave up waiting for the build lock ${lockDir} after \\d+ ms: it is held by pid 4242 on ci-runner-7 \\(cdktf deploy\\) since ${since}$`,
      ),
    );
    // AND the fix says why it was not taken over and how to remove it
    expect(error.fix).toBe(
      `a lock held from another host is never taken over automatically (its pid cannot be checked from here): if no build is running on ci-runner-7, remove the lock (rm -rf ${lockDir}) and run again`,
    );
    // AND the lock is left alone
    expect(ownerOf(lockDir).host).toBe('ci-runner-7');
  });

  it('gives up on a lock held by a live process on this host, saying to wait for it or stop it', async () => {
    // GIVEN the lock is held by a live process here (this one)
    await acquire(lockDir);
    const error = await timeoutError(BuildLock.acquire(lockDir, { pollMs: 10, timeoutMs: 50, signal: safetyNet() }));
    expect(error.message).toContain(`it is held by pid ${process.pid} (`);
    expect(error.fix).toBe(
      `wait for pid ${process.pid} to finish, or stop it if it hangs (kill ${process.pid}); a lock whose process is gone is taken over at once`,
    );
  });

  it('quotes a lock path with spaces in the command it prints', async () => {
    const spaced = path.join(temp, 'my dist', '.app.lock');
    writeOwner(spaced, { pid: 1, host: 'elsewhere', since: '2026-01-01T00:00:00.000Z', command: 'cdktf deploy' });
    const error = await timeoutError(BuildLock.acquire(spaced, { pollMs: 10, timeoutMs: 20, signal: safetyNet() }));
    expect(error.fix).toContain(`remove the lock (rm -rf '${spaced}')`);
  });

  it('waits 30 minutes by default', () => {
    expect(LOCK_TIMEOUT_MS).toBe(30 * 60 * 1000);
  });

  // A pid that is not a positive integer names no single process: `kill(0, 0)` asks about the
  // whole process group and always answers "alive", so such a lock was waited on forever.
  it('treats an owner.json with pid 0 as ownerless: taken over once the lock folder is old', async () => {
    writeOwner(lockDir, { pid: 0, host: os.hostname(), since: '2026-01-01T00:00:00.000Z', command: 'x' });
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lockDir, old, old);
    await acquire(lockDir, { pollMs: 10, signal: safetyNet() });
    expect(ownerOf(lockDir).pid).toBe(process.pid);
  });
});

describe('describeOwner', () => {
  it('names the pid, command and start time, and the host only when it is another one', () => {
    const since = '2026-11-25T14:00:00.000Z';
    expect(describeOwner({ pid: 42, host: os.hostname(), since, command: 'cdktf deploy' })).toBe(`pid 42 (cdktf deploy) since ${since}`);
    expect(describeOwner({ pid: 42, host: 'ci-runner-7', since, command: 'cdktf deploy' })).toBe(
      `pid 42 on ci-runner-7 (cdktf deploy) since ${since}`,
    );
  });

  it('shows the text of owner.json escaped: whoever can write to dist/ can write it', () => {
    expect(describeOwner({ pid: 42, host: 'h\u001b[2J', since: 'x\ny', command: 'cdktf\rdeploy' })).toBe(
      'pid 42 on h\\x1b[2J (cdktf\\rdeploy) since x\\ny',
    );
  });
});
