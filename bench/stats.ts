/**
 * Summary statistics and number formatting for the benchmark: the median (the number every
 * target is judged on; robust to the occasional slow run of a shared, noisy machine), the range,
 * and the mean for reference.
 */
export interface Summary {
  readonly n: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(samplesMs: readonly number[]): Summary {
  if (samplesMs.length === 0) return { n: 0, medianMs: Number.NaN, minMs: Number.NaN, maxMs: Number.NaN, meanMs: Number.NaN };
  return {
    n: samplesMs.length,
    medianMs: round(median(samplesMs)),
    minMs: round(Math.min(...samplesMs)),
    maxMs: round(Math.max(...samplesMs)),
    meanMs: round(samplesMs.reduce((a, b) => a + b, 0) / samplesMs.length),
  };
}

/** Medians of each key over several breakdowns (e.g. stage timings of each iteration). */
export function medianBreakdown(breakdowns: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const keys = [...new Set(breakdowns.flatMap((b) => Object.keys(b)))];
  const out: Record<string, number> = {};
  for (const key of keys) {
    const values = breakdowns.map((b) => b[key]).filter((v): v is number => typeof v === 'number');
    if (values.length > 0) out[key] = round(median(values));
  }
  return out;
}

export function round(ms: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(ms * f) / f;
}

/** `0.84 ms`, `12.3 ms`, `456 ms`, `1.23 s`, `27.4 s`, `2 min 3 s` */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}

/** `1234x`, `56.7x`, `1.08x` */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return 'n/a';
  if (ratio >= 100) return `${Math.round(ratio)}x`;
  if (ratio >= 10) return `${ratio.toFixed(1)}x`;
  return `${ratio.toFixed(2)}x`;
}

/** `87%` of a fraction. */
export function formatPercent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** `m:ss` of a duration, for progress lines. */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** `fingerprint 12 ms, compile 4.1 s` from a breakdown. */
export function formatBreakdown(breakdown: Readonly<Record<string, number>>): string {
  return Object.entries(breakdown)
    .map(([key, ms]) => `${key} ${formatMs(ms)}`)
    .join(', ');
}
