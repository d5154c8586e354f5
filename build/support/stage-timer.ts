/*
 * The one timer: measures the stages of a run (fingerprint, lock, remote, builder-image, compile,
 * ...) so the summary line and the metadata show where the time went; with other stage names, the
 * steps of a cache check, or the stages a batch shares.
 */
export type StageName = 'fingerprint' | 'lock' | 'remote' | 'builder-image' | 'features' | 'compile' | 'package' | 'verify' | 'publish';

export class StageTimer<Stage extends string = StageName> {
  private readonly started: number;
  private mark: number;
  private readonly stages = new Map<Stage, number>();

  /** `earlier`: stages already measured elsewhere (a check made in another process), counted in the total too. */
  constructor(earlier: Partial<Record<Stage, number>> = {}) {
    let before = 0;
    for (const [stage, ms] of Object.entries(earlier) as [Stage, number][]) {
      this.stages.set(stage, ms);
      before += ms;
    }
    this.started = performance.now() - before;
    this.mark = performance.now();
  }

  /** Closes `stage` as the time since the previous lap (or since the timer started): for steps run one after another. */
  lap(stage: Stage): void {
    const now = performance.now();
    this.add(stage, now - this.mark);
    this.mark = now;
  }

  time<T>(stage: Stage, work: () => T): T {
    const start = performance.now();
    try {
      return work();
    } finally {
      this.add(stage, performance.now() - start);
    }
  }

  async timeAsync<T>(stage: Stage, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.add(stage, performance.now() - start);
    }
  }

  /** Adds time measured elsewhere (e.g. the fingerprint computed before the lock was taken). */
  add(stage: Stage, ms: number): void {
    this.stages.set(stage, (this.stages.get(stage) ?? 0) + ms);
  }

  /** Milliseconds per stage that ran, in the order they first ran (unrounded). */
  stagesMs(): Partial<Record<Stage, number>> {
    return Object.fromEntries(this.stages) as Partial<Record<Stage, number>>;
  }

  /** Milliseconds per stage that ran, in the order they first ran, plus `total`. */
  results(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [stage, ms] of this.stages) out[stage] = round(ms);
    out.total = round(performance.now() - this.started);
    return out;
  }
}

/** `fingerprint 12 ms, compile 4.1 s, total 4.3 s` */
export function formatTimings(timings: Readonly<Record<string, number>>): string {
  return Object.entries(timings)
    .map(([stage, ms]) => `${stage} ${formatDuration(ms)}`)
    .join(', ');
}

export function formatDuration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
