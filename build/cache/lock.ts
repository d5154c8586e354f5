import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { printable } from '../support/printable.js';
import { isAlive } from '../support/processes.js';
import { readRegularFile } from '../support/regular-file.js';
import { formatDuration } from '../support/stage-timer.js';
import { lockNotCreated, lockWaitTimedOut } from './errors.js';

/*
 * One build of an artifact at a time, across processes (`cdktf diff` in one terminal while
 * `cdktf deploy` runs in another): the lock is a folder created with mkdir, which is atomic on
 * every file system, holding `owner.json` (pid, host, start time, command). It lives in the
 * dist folder, next to the zip and metadata it protects: `dist/.<name>.lock` (see
 * artifact-paths.ts), not in the cache folder.
 *
 * A waiter says whom it waits for. A lock whose owner process is gone (killed, even with
 * SIGKILL) is taken over at once rather than after a timeout: on the same host a dead pid is
 * certain, and the lock names its pid. Takeover itself is serialised by a second mkdir, so two
 * waiters that both see a dead owner do not remove each other's fresh lock.
 *
 * Other hosts (a dist folder on a shared or network file system): a lock whose owner is on
 * another host is never taken over automatically, because its pid cannot be checked from here
 * and a live build there must not lose its lock. So a waiter does not wait forever: after
 * `timeoutMs` (30 minutes by default, for any holder) it gives up with an error naming the
 * holder; for a lock from another host the error says to remove `dist/.<name>.lock` if no build
 * is running on that host.
 *
 * proper-lockfile was considered: it detects staleness only by an mtime heartbeat (a killed
 * build blocks others for its stale period) and cannot say who holds the lock.
 */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  readonly command: string;
}

export interface AcquireOptions {
  /** Called once when the lock is busy (`first`), and again every `reportEveryMs` while waiting. */
  readonly onWait?: (owner: LockOwner | undefined, waitedMs: number, first: boolean) => void;
  /** Called when a lock left by a dead process is taken over. */
  readonly onTakeover?: (owner: LockOwner) => void;
  readonly pollMs?: number;
  readonly reportEveryMs?: number;
  /** How long to wait for a lock held by a live (or unknowable) owner before failing. @default LOCK_TIMEOUT_MS */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** How long a waiter waits by default: longer than any build should take. */
export const LOCK_TIMEOUT_MS = 30 * 60 * 1000;

/** A lock folder without owner.json older than this is abandoned (its creator died in between). */
const OWNERLESS_GRACE_MS = 10_000;

/**
 * The locks this process holds, released on a normal exit that skipped the finally blocks: one
 * exit listener for all of them (one per lock made Node warn about a leak with 100 functions,
 * a warning cdktf shows as a red error).
 */
const held = new Set<BuildLock>();
process.on('exit', () => {
  for (const lock of [...held]) lock.release();
});

export class BuildLock {
  private released = false;

  private constructor(
    readonly dir: string,
    /** Whether another process held the lock first: what it built may make this build unneeded. */
    readonly waited: boolean,
  ) {
    // Last resort for a normal exit that skipped the finally blocks (process.exit in a handler).
    held.add(this);
  }

  static async acquire(dir: string, options: AcquireOptions = {}): Promise<BuildLock> {
    const pollMs = options.pollMs ?? 200;
    const reportEveryMs = options.reportEveryMs ?? 30_000;
    const timeoutMs = options.timeoutMs ?? LOCK_TIMEOUT_MS;
    const started = Date.now();
    let lastReport = -Infinity;
    let waited = false;
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    for (;;) {
      options.signal?.throwIfAborted();
      if (tryCreate(dir)) return new BuildLock(dir, waited);
      const owner = readOwner(dir);
      if (isAbandoned(dir, owner)) {
        if (takeOver(dir, owner)) {
          if (owner) options.onTakeover?.(owner);
          continue;
        }
        // Another waiter is taking over: wait like for a live owner.
      }
      waited = true;
      const waitedMs = Date.now() - started;
      if (waitedMs >= timeoutMs) {
        const otherHost = owner && owner.host !== os.hostname() ? owner.host : undefined;
        throw lockWaitTimedOut(dir, describeOwner(owner), formatDuration(waitedMs), owner && { pid: owner.pid, otherHost });
      }
      if (waitedMs - lastReport >= reportEveryMs) {
        options.onWait?.(owner, waitedMs, lastReport === -Infinity);
        lastReport = waitedMs;
      }
      await sleep(pollMs, undefined, { signal: options.signal });
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    // Only remove the lock if it is still ours (it cannot have been taken over while we live,
    // but a user may have deleted it by hand).
    if (readOwner(this.dir)?.pid === process.pid) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `pid 42 on ci-7 (cdktf deploy) since <time>`; the host only when it is another one. */
export function describeOwner(owner: LockOwner | undefined): string {
  if (!owner) return 'another process';
  // owner.json is written by whoever can write to dist/: its text is shown escaped.
  const host = owner.host === os.hostname() ? '' : ` on ${printable(owner.host)}`;
  return `pid ${owner.pid}${host} (${printable(owner.command)}) since ${printable(owner.since)}`;
}

function tryCreate(dir: string): boolean {
  try {
    fs.mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw lockNotCreated(dir, error);
  }
  const owner: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    since: new Date().toISOString(),
    command: process.argv
      .slice(1)
      .map((a) => path.basename(a))
      .join(' ')
      .slice(0, 200),
  };
  fs.writeFileSync(path.join(dir, 'owner.json'), JSON.stringify(owner));
  return true;
}

/**
 * The lock's owner, or undefined while owner.json is missing, half-written or malformed. A pid
 * that is not a positive integer is malformed: `process.kill(0 or -1, 0)` would ask about a
 * whole process group and always answer "alive".
 */
function readOwner(dir: string): LockOwner | undefined {
  let parsed: Partial<Record<keyof LockOwner, unknown>>;
  try {
    parsed = JSON.parse(readRegularFile(path.join(dir, 'owner.json')).toString('utf8'));
  } catch {
    return undefined;
  }
  const { pid, host, since, command } = parsed ?? {};
  if (!Number.isSafeInteger(pid) || (pid as number) <= 0) return undefined;
  if (typeof host !== 'string' || typeof since !== 'string' || typeof command !== 'string') return undefined;
  return { pid: pid as number, host, since, command };
}

function isAbandoned(dir: string, owner: LockOwner | undefined): boolean {
  if (owner) return owner.host === os.hostname() && !isAlive(owner.pid);
  try {
    return Date.now() - fs.statSync(dir).mtimeMs > OWNERLESS_GRACE_MS;
  } catch {
    return false; // Gone already: the next mkdir will tell.
  }
}

/** Removes an abandoned lock; returns whether this process did it. */
function takeOver(dir: string, seen: LockOwner | undefined): boolean {
  const guard = `${dir}.takeover`;
  try {
    fs.mkdirSync(guard);
  } catch {
    // Another waiter is taking over; a guard left by a process that died mid-takeover expires.
    try {
      if (Date.now() - fs.statSync(guard).mtimeMs > OWNERLESS_GRACE_MS) fs.rmSync(guard, { recursive: true, force: true });
    } catch {
      // gone already
    }
    return false;
  }
  try {
    // Re-read under the guard: only the abandoned lock we looked at may be removed.
    const now = readOwner(dir);
    if (now?.pid !== seen?.pid || now?.since !== seen?.since) return false;
    fs.rmSync(dir, { recursive: true, force: true });
    return true;
  } finally {
    fs.rmSync(guard, { recursive: true, force: true });
  }
}
