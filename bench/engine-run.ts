import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { builderRecipe } from '../build/builder/recipe.js';
import { type ArtifactResult, ensureArtifacts } from '../build/engine/engine.js';
import { type ResolvedArtifactOptions, resolveArtifactOptions } from '../build/options/resolve.js';
import type { ArtifactOptions } from '../build/options/schema.js';
import { createRecordingOutput } from '../build/support/reporter.js';
import { parseAppConfig, readContextFromCdktfJson } from '../config/app-config.js';
import { recordCreatedTag } from './docker.js';
import type { BenchProject } from './project.js';

/**
 * How the benchmark drives the engine: in-process `ensureArtifacts` with a recording output (the
 * same call the CLI's `build` and the synth's engine process make), and child processes for what
 * is measured whole (synth, CLI).
 */

/** The resolved options of every function of the project's cdktf.json, as the app and the CLI resolve them. */
export function appTargets(project: BenchProject, env: Record<string, string>): ResolvedArtifactOptions[] {
  const config = parseAppConfig(readContextFromCdktfJson(project.root));
  return config.functions.map((fn) =>
    resolveArtifactOptions({ ...fn.artifact, projectRoot: project.root }, { env, origin: fn.origin, source: 'cdktf.json' }),
  );
}

/** Options for one artifact of the project's workspace given directly (the many-functions workspace has no cdktf.json functions). */
export function artifactTarget(project: BenchProject, options: ArtifactOptions, env: Record<string, string>): ResolvedArtifactOptions {
  return resolveArtifactOptions({ ...options, projectRoot: project.root }, { env, origin: { kind: 'props', label: 'benchmark' } });
}

export interface EngineRun {
  readonly ms: number;
  readonly results: readonly ArtifactResult[];
  readonly lines: readonly string[];
}

/** `ensureArtifacts` in-process with a recording output; on failure the error carries the log's tail. */
export async function ensureRecorded(list: readonly ResolvedArtifactOptions[]): Promise<EngineRun> {
  // Whatever builder tag these options use may be created by this run: it is removed at the end.
  for (const options of list) recordCreatedTag(builderRecipe(options).tag);
  const output = createRecordingOutput();
  const started = performance.now();
  try {
    const results = await ensureArtifacts(list, { output });
    return { ms: performance.now() - started, results, lines: output.lines };
  } catch (error) {
    const tail = output.lines.slice(-25).join('\n');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- engine output (last lines) ---\n${tail}`, {
      cause: error,
    });
  }
}

/** Stages measured once per engine run (a batch shares them): the largest value any result reports. */
const SHARED_STAGES = new Set(['builder-image', 'features', 'compile', 'lock', 'remote']);

/**
 * Where one engine run's time went: the shared stages once (every member of a batch reports
 * the same value), the per-artifact stages (fingerprint, package, verify, publish) summed, and
 * compile split in two with cargo's own `Finished ... in 1.23s` lines: cargo itself, and the rest
 * (starting and removing the builder container, and cargo's own start).
 */
export function runBreakdown(run: EngineRun): Record<string, number> {
  const out: Record<string, number> = {};
  for (const result of run.results) {
    if (result.via === 'local') continue; // a hit: its check is in `fingerprint` of the misses' runs too
    for (const [stage, ms] of Object.entries(result.timingsMs)) {
      if (stage === 'total') continue;
      out[stage] = SHARED_STAGES.has(stage) ? Math.max(out[stage] ?? 0, ms) : (out[stage] ?? 0) + ms;
    }
  }
  const cargo = cargoFinishedMs(run.lines);
  if (cargo !== undefined && out.compile !== undefined) {
    out['compile: cargo itself'] = cargo;
    out['compile: container start+teardown'] = Math.max(0, out.compile - cargo);
  }
  return out;
}

/** Adds breakdowns stage by stage (the sequential calls of the many-functions scenario). */
export function sumBreakdowns(breakdowns: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of breakdowns) for (const [key, ms] of Object.entries(b)) out[key] = (out[key] ?? 0) + ms;
  return out;
}

/** The sum of cargo's `Finished `release` profile [optimized] target(s) in 1.23s` (or `in 1m 02s`) lines, in ms. */
export function cargoFinishedMs(lines: readonly string[] | string): number | undefined {
  const text = typeof lines === 'string' ? lines : lines.join('\n');
  let total: number | undefined;
  for (const match of text.matchAll(/Finished .* in (?:(\d+)m )?([\d.]+)s\b/g)) {
    total = (total ?? 0) + (Number(match[1] ?? 0) * 60 + Number(match[2])) * 1000;
  }
  return total;
}

/** Which crates cargo compiled in a run (its `Compiling name v...` lines). */
export function compiledCrates(lines: readonly string[]): string[] {
  return lines.filter((l) => /compile \|\s+Compiling /.test(l)).map((l) => l.replace(/.*Compiling /, '').split(' ')[0]!);
}

export interface ChildRun {
  readonly ms: number;
  readonly output: string;
}

/** Runs a command in `cwd` with exactly `env`, timed from spawn to exit; throws with the output's tail when it fails. */
export async function runChild(command: string, args: readonly string[], cwd: string, env: Record<string, string>): Promise<ChildRun> {
  const started = performance.now();
  const run = await execa(command, args, { cwd, env, extendEnv: false, reject: false, all: true, stdin: 'ignore' });
  const ms = performance.now() - started;
  const output = String(run.all ?? '');
  if (run.exitCode !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (exit ${run.exitCode ?? run.signal}) in ${cwd}:\n${output.split('\n').slice(-20).join('\n')}`,
    );
  }
  return { ms, output };
}

/** cdktf.json's `app` command of the project (what `cdktf synth` runs), as program and arguments. */
export function appCommand(project: BenchProject): [string, string[]] {
  const app = (JSON.parse(fs.readFileSync(project.cdktfJson, 'utf8')) as { app: string }).app;
  const [command, ...args] = app.trim().split(/\s+/);
  return [command!, args];
}

/** Runs the app command in the project folder: a whole synth, as cdktf runs it. */
export function runApp(project: BenchProject, env: Record<string, string>): Promise<ChildRun> {
  const [command, args] = appCommand(project);
  return runChild(command, args, project.root, env);
}

/** The synthesized stack's JSON, as one line. */
export function readStackJson(project: BenchProject, stackName: string): string {
  const file = path.join(project.root, 'cdktf.out', 'stacks', stackName, 'cdk.tf.json');
  return JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8')));
}

/** Every function's line in a synth's output says cache-hit (from dist/ or the shared cache), none says cache-miss. */
export function assertAllHits(output: string, names: readonly string[], what: string): void {
  const missing = names.filter((name) => !output.includes(`[${name}] cache-hit`));
  if (missing.length > 0 || /\] cache-miss/.test(output)) {
    throw new Error(`${what}: expected cache-hit for ${names.join(', ')}:\n${output.split('\n').slice(-12).join('\n')}`);
  }
}

/** The engine's own time in a process's output: the sum of its `done: cache-hit...: ..., total 12 ms` lines. */
export function engineMsFromOutput(output: string): number | undefined {
  let total: number | undefined;
  for (const match of output.matchAll(/done: cache-hit.*total ([\d.]+) (ms|s)\b/g)) {
    total = (total ?? 0) + Number(match[1]) * (match[2] === 's' ? 1000 : 1);
  }
  return total;
}
