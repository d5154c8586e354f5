import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { artifactMetadataSchema } from '../cache/metadata.js';
import { canonicalJson } from '../fingerprint/fingerprint.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import { createReporter } from '../support/reporter.js';
import { type ArtifactResult, checkAndReportHits } from './engine.js';
import { engineProcessFailed, errorFromEngineProcess } from './errors.js';

/*
 * The engine's synchronous entry, for CDKTF constructs (constructors cannot await, and
 * `TerraformAsset` takes its hash at construction):
 *
 * - every artifact is checked here, in-process: a hit costs what the check costs and starts
 *   nothing;
 * - the misses go to one child process (engine-process.ts) that runs the same `ensureArtifacts`
 *   the CLI runs (locks, shared cache, one batched build). It gets the resolved options as one
 *   JSON document on stdin, validated by the same schema that types them, streams its progress
 *   straight to this process's stdout (what cdktf shows as it comes), and hands back the results
 *   on file descriptor 3.
 *
 * Given a memo (the constructs keep one per app), an artifact is built at most once per app.
 */
const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.mjs', import.meta.url));
const ENGINE_PROCESS = fileURLToPath(new URL('./child-main.ts', import.meta.url));

/**
 * What this app already ensured: results by options (without where they were written, which does
 * not change what is built), and the fingerprint each zip path was built for (two different
 * artifacts must not write one zip).
 */
export interface ArtifactMemo {
  readonly byOptions: Map<string, ArtifactResult>;
  readonly byZip: Map<string, string>;
}

export function ensureArtifactsSync(
  list: readonly ResolvedArtifactOptions[],
  memo: ArtifactMemo = { byOptions: new Map(), byZip: new Map() },
): ArtifactResult[] {
  const keyOf = ({ origin: _origin, ...options }: ResolvedArtifactOptions) => canonicalJson(options);
  const todo = list.filter((options) => !memo.byOptions.has(keyOf(options)));
  const { checks, results, misses } = checkAndReportHits(todo, (prefix) => createReporter(prefix), memo.byZip);
  if (misses.length > 0) {
    const built = runEngineProcess(misses.map((check) => check.options));
    for (const [i, check] of misses.entries()) results.set(check.paths.zip, built[i]!);
  }
  // Options that name the same zip as others share their result.
  for (const check of checks) memo.byOptions.set(keyOf(check.options), results.get(check.paths.zip)!);
  return list.map((options) => memo.byOptions.get(keyOf(options))!);
}

// The child is this same code, started by this process: its request needs no schema of its own.
export const engineRequestSchema = z.object({
  artifacts: z.array(z.custom<ResolvedArtifactOptions>((v) => typeof v === 'object' && v !== null)),
});

const artifactResultSchema = z.object({
  outcome: z.enum(['cache-hit', 'cache-miss']),
  via: z.enum(['local', 'remote', 'build']),
  explanation: z.string(),
  name: z.string(),
  zipPath: z.string(),
  metadata: artifactMetadataSchema,
  timingsMs: z.record(z.string(), z.number()),
});

export const engineResponseSchema = z.union([
  z.object({ ok: z.literal(true), results: z.array(artifactResultSchema) }),
  z.object({
    ok: z.literal(false),
    error: z.object({ stage: z.string(), problem: z.string(), fix: z.string(), details: z.string().optional() }),
  }),
]);
export type EngineResponse = z.infer<typeof engineResponseSchema>;

function runEngineProcess(artifacts: readonly ResolvedArtifactOptions[]): ArtifactResult[] {
  const child = spawnSync(process.execPath, [RUN_TS, ENGINE_PROCESS], {
    input: JSON.stringify({ artifacts: [...artifacts] } satisfies z.input<typeof engineRequestSchema>),
    // Progress streams straight through: under cdktf, the app's stdout is shown as it comes.
    stdio: ['pipe', 'inherit', 'inherit', 'pipe'],
    maxBuffer: 1024 * 1024 * 1024,
    env: process.env,
  });
  if (child.error) throw engineProcessFailed(`could not start it: ${child.error.message}`, child.error);
  const text = child.output[3]?.toString('utf8') ?? '';
  let response: EngineResponse;
  try {
    response = engineResponseSchema.parse(JSON.parse(text));
  } catch (cause) {
    const how = child.signal ? `killed by ${child.signal}` : `exit code ${child.status}`;
    throw engineProcessFailed(`it ended (${how}) without a result`, cause);
  }
  if (!response.ok) throw errorFromEngineProcess(response.error);
  return response.results;
}
