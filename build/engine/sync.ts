import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CacheCheck } from '../cache/check.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import { createReporter } from '../support/reporter.js';
import { checkAndReportHits, resultsOrThrow, type ZipClaim } from './engine.js';
import { engineProcessFailed, errorFromEngineProcess, wrongResultCount } from './errors.js';
import type { ArtifactResult, Settled } from './result.js';
import { decode, encode, WIRE_PROTOCOL } from './wire.js';

/*
 * The engine's synchronous entry, for CDKTF constructs (constructors cannot await, and
 * `TerraformAsset` takes its hash at construction):
 *
 * - every artifact is checked here, in-process: a hit costs what the check costs and starts
 *   nothing;
 * - the misses' checks go to one child process (child-main.ts) that runs the rest of the
 *   engine (`ensureMisses`: locks, shared cache, one batched build) on them, so nothing is
 *   fingerprinted twice. It streams its progress straight to this process's stdout (what cdktf
 *   shows as it comes), hands back one outcome per check on file descriptor 3, and stops, with
 *   its container removed and its locks released, when this process is gone.
 *
 * Given a memo (the constructs keep one per app), an artifact is checked and built at most once
 * per app, however many constructs ask for it.
 */
const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.mjs', import.meta.url));
const CHILD_MAIN = fileURLToPath(new URL('./child-main.ts', import.meta.url));

/** What this app already ensured: results by zip path, and the zips claimed (two artifacts must not write one zip). */
export interface ArtifactMemo {
  readonly byZip: Map<string, ArtifactResult>;
  readonly claims: Map<string, ZipClaim>;
}

export function newArtifactMemo(): ArtifactMemo {
  return { byZip: new Map(), claims: new Map() };
}

/** The child's request: the misses' checks. */
export interface ChildRequest {
  readonly protocol: number;
  readonly misses: readonly CacheCheck[];
}

/** The child's answer: one outcome per check it was given, in order, with errors as their parts. */
export interface ChildResponse {
  readonly protocol: number;
  readonly outcomes: readonly ({ readonly result: ArtifactResult } | { readonly error: WireError })[];
}

export interface WireError {
  readonly stage: string;
  readonly problem: string;
  readonly fix: string;
  readonly details?: string;
}

export function ensureArtifactsSync(list: readonly ResolvedArtifactOptions[], memo: ArtifactMemo = newArtifactMemo()): ArtifactResult[] {
  const checked = checkAndReportHits(list, (prefix) => createReporter(prefix), memo.claims);
  const outcomes = new Map<string, Settled>();
  for (const [zip, result] of memo.byZip) outcomes.set(zip, { result });
  if (checked.misses.length > 0) {
    const answered = runChild(checked.misses);
    for (const [i, check] of checked.misses.entries()) outcomes.set(check.paths.zip, answered[i]!);
  }
  const settled = checked.settle(outcomes);
  for (const one of settled) if (one.result) memo.byZip.set(one.result.zipPath, one.result);
  return resultsOrThrow(checked, settled);
}

function runChild(misses: readonly CacheCheck[]): Settled[] {
  const request: ChildRequest = { protocol: WIRE_PROTOCOL, misses };
  const child = spawnSync(process.execPath, [RUN_TS, CHILD_MAIN], {
    input: encode(request),
    // Progress streams straight through: under cdktf, the app's stdout is shown as it comes.
    stdio: ['pipe', 'inherit', 'inherit', 'pipe'],
    maxBuffer: 1024 * 1024 * 1024,
    env: process.env,
  });
  if (child.error) throw engineProcessFailed(`could not start it: ${child.error.message}`, child.error);
  let response: ChildResponse;
  try {
    response = decode<ChildResponse>(child.output[3]?.toString('utf8') ?? '');
    if (response.protocol !== WIRE_PROTOCOL || !Array.isArray(response.outcomes)) throw new Error('not an answer of this engine');
  } catch (cause) {
    const how = child.signal ? `killed by ${child.signal}` : `exit code ${child.status}`;
    throw engineProcessFailed(`it ended (${how}) without a result`, cause);
  }
  if (response.outcomes.length !== misses.length) throw wrongResultCount(misses.length, response.outcomes.length);
  return response.outcomes.map((outcome) =>
    'result' in outcome ? { result: outcome.result } : { error: errorFromEngineProcess(outcome.error) },
  );
}
