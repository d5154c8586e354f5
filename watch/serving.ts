/**
 * What the Invoke API must do after a rebuild, decided apart from doing it (a pure function of
 * what is served and what the functions are now):
 * - a function built for the first time is registered;
 * - new code for a served function with the same settings replaces its code (hot reload: the
 *   next invocation runs it, never a mix);
 * - settings changed in cdktf.json (function name, memory, timeout, environment, reserved
 *   concurrency): unregistered and registered again, with its new code if it has any, else the
 *   code it was serving;
 * - a function no longer in cdktf.json (or no longer selected) is unregistered;
 * - a function whose build failed keeps the code it was serving.
 */
import { canonicalJson } from '../build/index.js';
import type { CodeSource } from '../invoke/function-code.js';
import type { LocalFunction } from '../invoke/function-pool.js';

export interface Served {
  readonly settings: LocalFunction;
  readonly code: CodeSource;
}

export interface Wanted {
  readonly settings: LocalFunction;
  /** Code this round committed for it; undefined when it was not built (not asked, or failed). */
  readonly code?: CodeSource;
}

export type ServingStep =
  | { readonly kind: 'register'; readonly key: string; readonly settings: LocalFunction; readonly code: CodeSource }
  | { readonly kind: 'replace-code'; readonly key: string; readonly code: CodeSource }
  | { readonly kind: 're-register'; readonly key: string; readonly settings: LocalFunction; readonly code: CodeSource }
  | { readonly kind: 'unregister'; readonly key: string };

/** The steps, unregistrations first (a renamed function's deployed name is then free for its new entry). */
export function planServing(served: ReadonlyMap<string, Served>, wanted: ReadonlyMap<string, Wanted>): ServingStep[] {
  const steps: ServingStep[] = [];
  for (const key of served.keys()) if (!wanted.has(key)) steps.push({ kind: 'unregister', key });
  for (const [key, want] of wanted) {
    const now = served.get(key);
    if (!now) {
      if (want.code) steps.push({ kind: 'register', key, settings: want.settings, code: want.code });
    } else if (!sameSettings(now.settings, want.settings)) {
      steps.push({ kind: 're-register', key, settings: want.settings, code: want.code ?? now.code });
    } else if (want.code && want.code.metadata.zip.sha256 !== now.code.metadata.zip.sha256) {
      steps.push({ kind: 'replace-code', key, code: want.code });
    }
  }
  return steps;
}

function sameSettings(a: LocalFunction, b: LocalFunction): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
