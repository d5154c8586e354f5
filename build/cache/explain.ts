import { settingWords } from '../fingerprint/fingerprint.js';
import { printable } from '../support/printable.js';
import type { Decision, MissReason } from './decide.js';

/*
 * Words for a cache decision: the `cache-hit` / `cache-miss: <reasons>` line every run prints,
 * e.g. `cache-miss: changed Cargo.lock, crates/sweep-lambda/src/main.rs; profile release -> dev`.
 * Paths are relative to the workspace; long lists are shortened with a count.
 *
 * Everything shown that comes from outside this file (file names, setting values, the record's
 * error) goes through `printable`: a file named `x\n[x] done: cache-hit` must not print a forged
 * log line, and an escape sequence in a name must not reach the terminal. So a reason is always
 * one line, and the whole explanation is one line.
 */
export interface ExplainContext {
  /** The zip's path as the user knows it (relative to the project), e.g. `dist/sweep-lambda.zip`. */
  readonly zipPath: string;
  /** How many names to show per list before `and N more`. */
  readonly maxNames?: number;
}

export function explainDecision(decision: Decision, context: ExplainContext): string {
  if (decision.outcome === 'cache-hit') return 'cache-hit';
  return `cache-miss: ${decision.reasons.map((r) => explainReason(r, context)).join('; ')}`;
}

export function explainReason(reason: MissReason, context: ExplainContext): string {
  const max = context.maxNames ?? 5;
  switch (reason.kind) {
    case 'forced':
      return `forced (${printable(reason.source)})`;
    case 'no-metadata':
      return 'no metadata (first build)';
    case 'metadata-unusable':
      return `metadata ${reason.status} (${printable(reason.detail)})`;
    case 'zip-missing':
      return `${printable(context.zipPath)} missing`;
    case 'zip-differs':
      return 'zip does not match its metadata';
    case 'zip-invalid':
      return `zip fails its checks (${printable(reason.detail)})`;
    case 'setting-changed':
      return `${settingWords(reason.setting)} ${showSetting(reason.setting, reason.from)} -> ${showSetting(reason.setting, reason.to)}`;
    case 'inputs-changed':
      return [listNames('changed', reason.changed, max), listNames('added', reason.added, max), listNames('removed', reason.removed, max)]
        .filter((part) => part !== undefined)
        .join('; ');
    case 'lock-changed': {
      const entries = [
        ...reason.changed.map((c) =>
          c.from === c.to
            ? `${printable(c.name)} ${printable(c.to ?? '?')} (its source, checksum or dependencies)`
            : `${printable(c.name)} ${printable(c.from ?? '?')} -> ${printable(c.to ?? '?')}`,
        ),
        ...reason.added.map((a) => `${printable(a.name)} ${printable(a.version ?? '?')} added`),
        ...reason.removed.map((r) => `${printable(r.name)} ${printable(r.version ?? '?')} removed`),
      ];
      const shown = entries.slice(0, max).join(', ');
      return `Cargo.lock: ${entries.length > max ? `${shown} and ${entries.length - max} more` : shown}`;
    }
    case 'fingerprint-differs':
      return 'fingerprint differs from the metadata (written by another engine version)';
    case 'built-untrusted':
      return 'the zip was built with the local cargo caches, which a publishing build does not trust';
  }
}

function showSetting(setting: string, value: unknown): string {
  if (setting === 'builderRecipe' && typeof value === 'string') return printable(value.slice(0, 8));
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : printable(value.join(','));
  if (setting === 'env' && value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, string>);
    // Each value quoted (a value with spaces stays one word), its quotes escaped like its backslashes.
    return entries.length === 0 ? '(none)' : entries.map(([k, v]) => `${printable(k)}="${printable(v).replace(/"/g, '\\"')}"`).join(' ');
  }
  return printable(String(value));
}

function listNames(verb: string, names: readonly string[], max: number): string | undefined {
  if (names.length === 0) return undefined;
  const shown = names.slice(0, max).map(printable).join(', ');
  return names.length > max ? `${verb} ${shown} and ${names.length - max} more` : `${verb} ${shown}`;
}
