import { describe, expect, it } from '@jest/globals';
import { SaveBatcher, type Timers } from '../../watch/save-batcher.js';

/** Timers that fire only when the test says how much time passed. */
function manualTimers() {
  let now = 0;
  const pending = new Map<number, { at: number; callback: () => void }>();
  let next = 0;
  const timers: Timers = {
    set: (callback, ms) => {
      pending.set(++next, { at: now + ms, callback });
      return next;
    },
    clear: (handle) => pending.delete(handle as number),
  };
  return {
    timers,
    /** Moves the clock on, firing what falls due, in order. */
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = [...pending].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].callback();
      }
      now = until;
    },
  };
}

/** A rebuild the test ends when it wants, recording what each was given. */
function controlledRebuilds() {
  const calls: string[][] = [];
  const finishers: (() => void)[] = [];
  const rebuild = (paths: ReadonlySet<string>) => {
    calls.push([...paths].sort());
    return new Promise<void>((resolve) => finishers.push(resolve));
  };
  return {
    calls,
    rebuild,
    /** Ends the oldest running rebuild and lets the batcher react. */
    async finish() {
      finishers.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('SaveBatcher', () => {
  it('GIVEN several saves in quick succession THEN one rebuild with all of them, once the quiet time has passed', () => {
    const clock = manualTimers();
    const builds = controlledRebuilds();
    const batcher = new SaveBatcher({ quietMs: 50, rebuild: builds.rebuild, timers: clock.timers });
    batcher.add('a.rs');
    clock.advance(30);
    batcher.add('b.rs');
    clock.advance(30);
    batcher.add('a.rs');
    clock.advance(49);
    expect(builds.calls).toEqual([]);
    clock.advance(1);
    expect(builds.calls).toEqual([['a.rs', 'b.rs']]);
  });

  it('GIVEN a save during a rebuild THEN no second rebuild runs at once, and one follows the first with that save', async () => {
    const clock = manualTimers();
    const builds = controlledRebuilds();
    const batcher = new SaveBatcher({ quietMs: 50, rebuild: builds.rebuild, timers: clock.timers });
    batcher.add('a.rs');
    clock.advance(50);
    expect(batcher.busy).toBe(true);

    batcher.add('b.rs');
    clock.advance(200);
    batcher.add('c.rs');
    clock.advance(50);
    expect(builds.calls).toEqual([['a.rs']]);

    await builds.finish();
    expect(builds.calls).toEqual([['a.rs'], ['b.rs', 'c.rs']]);
    await builds.finish();
    expect(batcher.busy).toBe(false);
  });

  it('GIVEN a save just before a rebuild ends THEN the follow-up waits for that save to be quiet', async () => {
    const clock = manualTimers();
    const builds = controlledRebuilds();
    const batcher = new SaveBatcher({ quietMs: 50, rebuild: builds.rebuild, timers: clock.timers });
    batcher.add('a.rs');
    clock.advance(50);
    batcher.add('b.rs');
    clock.advance(10);
    await builds.finish();
    expect(builds.calls).toEqual([['a.rs']]);
    clock.advance(40);
    expect(builds.calls).toEqual([['a.rs'], ['b.rs']]);
  });

  it('GIVEN a rebuild that fails THEN the next save still rebuilds', async () => {
    const clock = manualTimers();
    const calls: string[][] = [];
    const batcher = new SaveBatcher({
      quietMs: 50,
      rebuild: async (paths) => {
        calls.push([...paths]);
        throw new Error('compile error');
      },
      timers: clock.timers,
    });
    batcher.add('a.rs');
    clock.advance(50);
    await batcher.idle();
    batcher.add('a.rs');
    clock.advance(50);
    await batcher.idle();
    expect(calls).toEqual([['a.rs'], ['a.rs']]);
  });

  it('GIVEN close THEN waiting saves are dropped and later saves start nothing', async () => {
    const clock = manualTimers();
    const builds = controlledRebuilds();
    const batcher = new SaveBatcher({ quietMs: 50, rebuild: builds.rebuild, timers: clock.timers });
    batcher.add('a.rs');
    clock.advance(50);
    batcher.add('b.rs');
    batcher.close();
    batcher.add('c.rs');
    clock.advance(500);
    await builds.finish();
    expect(builds.calls).toEqual([['a.rs']]);
    expect(batcher.waiting).toBe(0);
  });
});
