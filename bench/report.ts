import type { ScenarioResult } from './scenarios.js';
import { formatBreakdown, formatMs, formatRatio, round } from './stats.js';

/**
 * The results table, the targets with PASS/MISS (and, for a miss, where the time goes), and the
 * notes. Targets are reported, never asserted: the exit code only says whether every scenario ran.
 */
/** INFO: a measurement the run reports next to the targets, with no threshold of its own. */
export type TargetStatus = 'PASS' | 'MISS' | 'N/A' | 'INFO';

export interface TargetResult {
  readonly id: string;
  readonly description: string;
  /** The measured value the target is judged on (ms or a ratio). */
  readonly value: number | null;
  readonly unit: 'ms' | 'ratio';
  /** null for INFO. */
  readonly threshold: number | null;
  readonly comparison: '<' | '<=' | '>=' | null;
  readonly status: TargetStatus;
  /** The measurement in words: `median 9.8 ms`, `baseline 28.1 s / hot 9.8 ms = 2867x`. */
  readonly measured: string;
  /** For a miss (or n/a): where the time goes, or why it was not measured. */
  readonly explanation?: string;
}

export function judge(value: number | null | undefined, comparison: '<' | '<=' | '>=', threshold: number): TargetStatus {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'N/A';
  const ok = comparison === '<' ? value < threshold : comparison === '<=' ? value <= threshold : value >= threshold;
  return ok ? 'PASS' : 'MISS';
}

export function renderTable(results: readonly ScenarioResult[], baselineMs: number | undefined): string {
  const header = ['Scenario', 'n', 'median', 'min – max', 'vs baseline', 'speed-up'];
  const rows = results.map((r) => {
    const ok = r.summary.n > 0;
    const ratio = ok && baselineMs !== undefined ? r.summary.medianMs / baselineMs : Number.NaN;
    return [
      `${r.label}${r.error ? ' [ERROR]' : ''}`,
      String(r.summary.n),
      ok ? formatMs(r.summary.medianMs) : '-',
      ok ? `${formatMs(r.summary.minMs)} – ${formatMs(r.summary.maxMs)}` : '-',
      Number.isFinite(ratio) ? formatFraction(ratio) : '-',
      Number.isFinite(ratio) ? formatRatio(1 / ratio) : '-',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A scenario's median as a fraction of the baseline's: `1.000`, `0.123`, `0.00035`. */
function formatFraction(ratio: number): string {
  if (ratio >= 0.1) return ratio.toFixed(3);
  return ratio.toPrecision(2);
}

export function renderBreakdowns(results: readonly ScenarioResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if (r.breakdownMs && Object.keys(r.breakdownMs).length > 0) lines.push(`  ${r.label}: ${formatBreakdown(r.breakdownMs)}`);
  }
  return lines.join('\n');
}

export function renderTargets(targets: readonly TargetResult[]): string {
  const lines: string[] = [];
  for (const t of targets) {
    lines.push(`  ${t.status.padEnd(4)}  ${t.description}: ${t.measured}`);
    if (t.explanation && t.status !== 'PASS')
      lines.push(`        ${t.status === 'MISS' || t.status === 'INFO' ? 'where the time goes' : 'why'}: ${t.explanation}`);
  }
  return lines.join('\n');
}

export function ratioOf(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return round(a / b, 3);
}

export { formatMs, formatRatio };
