import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { type ArtifactResult, buildArtifact } from '../build/build-artifact.js';
import { builderRecipe } from '../build/builder-recipe.js';
import { type CacheCheck, checkCache } from '../build/check-cache.js';
import { type ArtifactRecord, artifactRecordSchema, METADATA_SCHEMA_VERSION, writeMetadata } from '../build/metadata.js';
import { isBuildEnvName, type ResolvedArtifactOptions, resolveArtifactOptions } from '../build/options.js';
import { createLambdaZip } from '../build/package-zip.js';
import { createRecordingReporter } from '../build/reporter.js';
import { parseAppConfig, readContextFromCdktfJson } from '../config/app-config.js';
import { DOCKER, imageId, removeContainer, removeImageTag } from './docker.js';
import { generateSources } from './generate-workspace.js';
import type { Progress } from './progress.js';
import {
  type BenchProject,
  LAMBDA_MAIN_RS,
  makeBenchProject,
  makeTempDir,
  REPO_ROOT,
  removeTempDir,
  waitUntilOlderThan,
} from './project.js';
import { formatBreakdown, formatMs, medianBreakdown, round, type Summary, summarize } from './stats.js';

/**
 * The scenarios of `npm run bench`. Each returns its samples (wall-clock milliseconds, one per
 * timed iteration), the median breakdown of where the time went when it is known, and notes.
 * Setup that is not part of what a scenario measures (removing caches, making a project, a build
 * that brings the cache to the state the scenario starts from) is never timed.
 */
export const TOOLCHAIN_IMAGE = 'rust:1-bullseye';
export const TARGET_TRIPLE = 'x86_64-unknown-linux-gnu';
/** The old shell script's native packages. */
export const BASELINE_APT_PACKAGES = ['clang', 'cmake', 'perl', 'pkg-config'];

export interface Counts {
  readonly baseline: number;
  readonly cold: number;
  readonly warm: number;
  readonly edit: number;
  readonly hotCheck: number;
  readonly hotSynth: number;
  readonly config: number;
  readonly scaleSizes: readonly number[];
  readonly scaleFirst: number;
  readonly scaleRepeated: number;
}

export interface Context {
  readonly counts: Counts;
  readonly progress: Progress;
  /** The environment every engine run and child process gets: this one without build overrides. */
  readonly env: Record<string, string>;
  /** When this run started (Date.now()): images created since are this run's. */
  readonly startedMs: number;
}

export interface ScenarioResult {
  readonly id: string;
  readonly label: string;
  readonly samplesMs: number[];
  summary: Summary;
  /** Median milliseconds per stage / step, where the scenario can tell. */
  breakdownMs?: Record<string, number>;
  readonly notes: string[];
  readonly details: Record<string, unknown>;
  error?: string;
}

function newResult(id: string, label: string): ScenarioResult {
  return { id, label, samplesMs: [], summary: summarize([]), notes: [], details: {} };
}

/** Runs a scenario body, turning an exception into the result's error (the run goes on). */
export async function runScenario(
  ctx: Context,
  id: string,
  label: string,
  body: (result: ScenarioResult) => Promise<void>,
): Promise<ScenarioResult> {
  const result = newResult(id, label);
  ctx.progress.scenario(label);
  try {
    await body(result);
  } catch (error) {
    result.error =
      error instanceof Error
        ? `${error.message}${error.stack ? `\n${error.stack.split('\n').slice(1, 6).join('\n')}` : ''}`
        : String(error);
    ctx.progress.line(`!! ${label} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  result.summary = summarize(result.samplesMs);
  return result;
}

/** This process's environment without the variables that would change or force what the engine builds. */
export function cleanEnvironment(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const dropped = new Set([
    'FORCE_REBUILD',
    'SWEEP_FORCE_REBUILD',
    'SWEEP_CACHE_DIR',
    'SWEEP_TOOLCHAIN_IMAGE',
    'SWEEP_DOCKER_PULL_POLICY',
    'CDKTF_OUTDIR',
    'CDKTF_CONTEXT_JSON',
  ]);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && !dropped.has(name) && !isBuildEnvName(name)) env[name] = value;
  }
  env.CHECKPOINT_DISABLE = '1';
  return env;
}

// ---------------------------------------------------------------------------------------------
// Engine helpers

/** The artifact options the app itself resolves in `project` (cdktf.json context, projectRoot). */
export function projectOptions(project: BenchProject, env: Record<string, string>): ResolvedArtifactOptions {
  const config = parseAppConfig(readContextFromCdktfJson(project.root));
  return resolveArtifactOptions({ ...config.artifact, projectRoot: project.root }, env, 'benchmark project');
}

interface EngineRun {
  readonly ms: number;
  readonly result: ArtifactResult;
  readonly lines: readonly string[];
}

/** `buildArtifact` in-process with a recording reporter; on failure the error carries the log's tail. */
async function engineBuild(options: ResolvedArtifactOptions): Promise<EngineRun> {
  const reporter = createRecordingReporter();
  const started = performance.now();
  try {
    const result = await buildArtifact(options, { reporter });
    return { ms: performance.now() - started, result, lines: reporter.lines };
  } catch (error) {
    const tail = reporter.lines.slice(-25).join('\n');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- engine output (last lines) ---\n${tail}`, {
      cause: error,
    });
  }
}

/**
 * The engine's stage timings, with its compile stage split in two using cargo's own `Finished ...
 * in 1.23s` line: cargo itself, and the rest (starting and removing the builder container).
 */
function stageBreakdown(timingsMs: Readonly<Record<string, number>>, lines: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [stage, ms] of Object.entries(timingsMs)) if (stage !== 'total') out[stage] = ms;
  const cargo = cargoFinishedMs(lines.join('\n'));
  if (cargo !== undefined && out.compile !== undefined) {
    out['compile: cargo itself'] = cargo;
    out['compile: docker run start+teardown'] = Math.max(0, out.compile - cargo);
  }
  return out;
}

/** Cargo's `Finished `release` profile [optimized] target(s) in 1.23s` (or `in 1m 02s`), in ms. */
export function cargoFinishedMs(output: string): number | undefined {
  const match = /Finished .* in (?:(\d+)m )?([\d.]+)s\b/.exec(output);
  if (!match) return undefined;
  return (Number(match[1] ?? 0) * 60 + Number(match[2])) * 1000;
}

/** Brings the project to "everything cached": a no-op when it already is. Not timed. */
async function ensureBuilt(ctx: Context, project: BenchProject): Promise<ArtifactResult> {
  const options = projectOptions(project, ctx.env);
  const run = await engineBuild(options);
  if (run.result.outcome === 'cache-miss')
    ctx.progress.line(`   (setup, not timed: built ${path.basename(run.result.zipPath)} in ${formatMs(run.ms)})`);
  return run.result;
}

// ---------------------------------------------------------------------------------------------
// 1. Baseline: the old shell script

export async function baselineScenario(ctx: Context, result: ScenarioResult): Promise<void> {
  const project = makeBenchProject('baseline');
  const cargo = ['cargo', 'build', '--locked', '--release', '--target', TARGET_TRIPLE, '-p', 'sweep-lambda', '--bin', 'bootstrap'];
  // Markers with the container's clock (the host's: one kernel) split the run into its phases.
  const script = [
    'set -e',
    'echo "@@bench apt-start $(date +%s%N)"',
    `apt-get update && apt-get install -y --no-install-recommends ${BASELINE_APT_PACKAGES.join(' ')}`,
    'echo "@@bench apt-end $(date +%s%N)"',
    'rm -rf "$CARGO_TARGET_DIR"',
    cargo.join(' '),
    'echo "@@bench compile-end $(date +%s%N)"',
  ].join('\n');
  result.details.command = `docker run --rm -v <workspace>:/work:ro -v <fresh dir>:/out -e CARGO_TARGET_DIR=/out/target ${TOOLCHAIN_IMAGE} sh -c '${script.replace(/\n/g, '; ')}'`;
  const breakdowns: Record<string, number>[] = [];
  const shas: string[] = [];
  try {
    for (let i = 1; i <= ctx.counts.baseline; i++) {
      const done = ctx.progress.iteration('baseline', i, ctx.counts.baseline);
      const out = makeTempDir('baseline-out');
      const container = `sweep-bench-baseline-${process.pid}-${i}`;
      try {
        const wallStart = Date.now();
        const started = performance.now();
        const run = await execa(
          DOCKER,
          [
            'run',
            '--rm',
            '--name',
            container,
            '-v',
            `${project.workspace}:/work:ro`,
            '-v',
            `${out}:/out`,
            '-w',
            '/work',
            '-e',
            'DEBIAN_FRONTEND=noninteractive',
            '-e',
            'CARGO_TARGET_DIR=/out/target',
            TOOLCHAIN_IMAGE,
            'sh',
            '-c',
            script,
          ],
          { reject: false, all: true, stdin: 'ignore', env: ctx.env, extendEnv: false },
        );
        const containerDone = Date.now();
        if (run.exitCode !== 0) {
          throw new Error(`the baseline container failed (exit ${run.exitCode}):\n${String(run.all).split('\n').slice(-20).join('\n')}`);
        }
        const packageStart = performance.now();
        const binary = fs.readFileSync(path.join(out, 'target', TARGET_TRIPLE, 'release', 'bootstrap'));
        const zip = createLambdaZip(binary);
        fs.writeFileSync(path.join(out, 'sweep-lambda.zip'), zip);
        const ended = performance.now();
        const ms = ended - started;
        result.samplesMs.push(ms);
        shas.push(createHash('sha256').update(zip).digest('hex'));

        const marks = markers(String(run.all));
        const breakdown: Record<string, number> = {};
        if (marks['apt-start'] && marks['apt-end'] && marks['compile-end']) {
          breakdown['container start'] = marks['apt-start'] - wallStart;
          breakdown['apt-get update+install'] = marks['apt-end'] - marks['apt-start'];
          breakdown['cargo build (from scratch)'] = marks['compile-end'] - marks['apt-end'];
          const cargoMs = cargoFinishedMs(String(run.all));
          if (cargoMs !== undefined) breakdown['cargo build: cargo itself'] = cargoMs;
          breakdown['container exit'] = containerDone - marks['compile-end'];
        }
        breakdown.package = ended - packageStart;
        breakdowns.push(breakdown);
        done(ms, formatBreakdown(breakdown));
      } finally {
        await removeContainer(container);
        removeTempDir(out);
      }
    }
  } finally {
    project.remove();
  }
  result.breakdownMs = medianBreakdown(breakdowns);
  result.details.zipSha256 = [...new Set(shas)];
}

function markers(output: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const match of output.matchAll(/^@@bench (\S+) (\d+)$/gm)) out[match[1]!] = Number(BigInt(match[2]!) / 1_000_000n);
  return out;
}

// ---------------------------------------------------------------------------------------------
// 2. Cold: no builder image, no target cache, no metadata

export async function coldScenario(ctx: Context, result: ScenarioResult, project: BenchProject): Promise<void> {
  const options = projectOptions(project, ctx.env);
  const breakdowns: Record<string, number>[] = [];
  const notCold: string[] = [];
  let redosLeft = 2;
  for (let i = 1; i <= ctx.counts.cold; i++) {
    const recipe = builderRecipe(options);
    // Untagged duplicates of this recipe made during this run (see restoreBuilderImage) would
    // hand their layers to the next build: they go too.
    await removeDanglingDuplicates(recipe.hash, ctx.startedMs);
    const removed = await removeImageTag(recipe.tag);
    fs.rmSync(project.dist, { recursive: true, force: true });
    fs.rmSync(project.cache, { recursive: true, force: true });
    if ((await imageId(TOOLCHAIN_IMAGE)) === undefined) throw new Error(`${TOOLCHAIN_IMAGE} is gone: the cold scenario needs it present`);
    const done = ctx.progress.iteration('cold', i, ctx.counts.cold);
    const run = await engineBuild(options);
    if (run.result.outcome !== 'cache-miss') throw new Error(`cold run ${i} was a ${run.result.outcome}`);
    // Cold means the builder image was really built: not reused (another process may have built
    // it since the rmi), and its RUN step not taken from Docker's layer cache (another image with
    // the same base and the same RUN would supply it).
    const reused = run.lines.some((l) => l.startsWith('builder-image: reusing'));
    const runCached = runStepFromCache(run.lines);
    const breakdown = stageBreakdown(run.result.timingsMs, run.lines);
    const why = reused ? 'builder image reused' : runCached ? 'RUN step from the layer cache' : undefined;
    const detail = `${formatBreakdown(breakdown)}${removed ? '' : '; the builder image was already absent'}${why ? `; NOT COLD: ${why}` : ''}`;
    if (why && redosLeft > 0) {
      redosLeft--;
      done(run.ms, `${detail}; not counted, done again`);
      i--;
      continue;
    }
    if (why) notCold.push(`${i} (${why})`);
    result.samplesMs.push(run.ms);
    breakdowns.push(breakdown);
    done(run.ms, detail);
  }
  result.breakdownMs = medianBreakdown(breakdowns);
  result.details.builderTag = builderRecipe(options).tag;
  result.details.redone = 2 - redosLeft;
  if (2 - redosLeft > 0) {
    result.notes.push(
      `${2 - redosLeft} iteration(s) found the builder image (or its layers) supplied by another process and were done again, not counted`,
    );
  }
  if (notCold.length > 0) {
    result.notes.push(
      `iteration(s) ${notCold.join(', ')} did not build the builder image from scratch (another process supplied it or its layers): those numbers understate a cold build`,
    );
  }
}

function runStepFromCache(lines: readonly string[]): boolean {
  const at = lines.findIndex((l) => /Step \d+\/\d+ : RUN /.test(l));
  return at >= 0 && lines.slice(at + 1, at + 3).some((l) => l.includes('Using cache'));
}

// ---------------------------------------------------------------------------------------------
// 3. Warm image, clean target

export async function warmScenario(ctx: Context, result: ScenarioResult, project: BenchProject): Promise<void> {
  const options = projectOptions(project, ctx.env);
  if ((await imageId(builderRecipe(options).tag)) === undefined) await ensureBuilt(ctx, project);
  const breakdowns: Record<string, number>[] = [];
  for (let i = 1; i <= ctx.counts.warm; i++) {
    fs.rmSync(path.join(project.cache, 'cargo-target'), { recursive: true, force: true });
    fs.rmSync(project.dist, { recursive: true, force: true });
    const done = ctx.progress.iteration('warm image, clean target', i, ctx.counts.warm);
    const run = await engineBuild(options);
    if (run.result.outcome !== 'cache-miss') throw new Error(`warm run ${i} was a ${run.result.outcome}`);
    if (!run.lines.some((l) => l.startsWith('builder-image: reusing'))) throw new Error(`warm run ${i} did not reuse the builder image`);
    result.samplesMs.push(run.ms);
    const breakdown = stageBreakdown(run.result.timingsMs, run.lines);
    breakdowns.push(breakdown);
    done(run.ms, formatBreakdown(breakdown));
  }
  result.breakdownMs = medianBreakdown(breakdowns);
}

// ---------------------------------------------------------------------------------------------
// 4. Edit: one line of the Lambda crate changed

/** Two versions of main.rs, each with one string literal changed, alternated so every edit is real. */
function editedVersions(original: string): [string, string] {
  const anchor = 'eprintln!("';
  const at = original.indexOf(anchor);
  if (at < 0) throw new Error(`${LAMBDA_MAIN_RS} has no \`eprintln!("\` whose literal the edit scenario could change`);
  const edit = (mark: string) => `${original.slice(0, at + anchor.length)}[bench edit ${mark}] ${original.slice(at + anchor.length)}`;
  return [edit('A'), edit('B')];
}

export async function editScenario(ctx: Context, result: ScenarioResult, project: BenchProject): Promise<void> {
  const file = project.file(LAMBDA_MAIN_RS);
  const original = fs.readFileSync(file, 'utf8');
  const versions = editedVersions(original);
  let previousSha = (await ensureBuilt(ctx, project)).record.zip.sha256;
  const options = projectOptions(project, ctx.env);
  const breakdowns: Record<string, number>[] = [];
  result.details.edit = `one string literal in rust/${LAMBDA_MAIN_RS} (the first eprintln!), alternating between two versions`;
  try {
    for (let i = 1; i <= ctx.counts.edit; i++) {
      fs.writeFileSync(file, versions[(i - 1) % 2]!);
      const done = ctx.progress.iteration('edit', i, ctx.counts.edit);
      const run = await engineBuild(options);
      if (run.result.outcome !== 'cache-miss') throw new Error(`edit run ${i} was a ${run.result.outcome}: the edit was not seen`);
      if (!run.result.explanation.includes('main.rs')) throw new Error(`edit run ${i}: unexpected reason: ${run.result.explanation}`);
      const sha = run.result.record.zip.sha256;
      if (sha === previousSha) throw new Error(`edit run ${i}: the zip did not change, so the binary did not either`);
      previousSha = sha;
      const recompiled = run.lines.filter((l) => /compile \|\s+Compiling /.test(l)).map((l) => l.replace(/.*Compiling /, '').split(' ')[0]);
      result.samplesMs.push(run.ms);
      const breakdown = stageBreakdown(run.result.timingsMs, run.lines);
      breakdowns.push(breakdown);
      done(run.ms, `${formatBreakdown(breakdown)}; recompiled ${recompiled.join(', ') || 'nothing'}`);
      result.details.recompiled = recompiled;
    }
  } finally {
    fs.writeFileSync(file, original);
  }
  result.breakdownMs = medianBreakdown(breakdowns);
  // Back to the example's own sources, cached, for the hot scenarios.
  await ensureBuilt(ctx, project);
  await waitUntilOlderThan(file, 2500);
}

// ---------------------------------------------------------------------------------------------
// 5b. Hot: the engine's check alone, in-process

export async function hotCheckScenario(ctx: Context, result: ScenarioResult, project: BenchProject): Promise<void> {
  await ensureBuilt(ctx, project);
  const options = projectOptions(project, ctx.env);
  const warmup = checkCache(options);
  if (warmup.decision.outcome !== 'cache-hit') throw new Error(`the hot check is not a hit: ${warmup.explanation}`);
  ctx.progress.line(
    `hot check: 1 warm-up + ${ctx.counts.hotCheck} timed checkCache() calls, ${warmup.fingerprint.inputs.size} input files`,
  );
  let rehashed = 0;
  for (let i = 0; i < ctx.counts.hotCheck; i++) {
    const started = performance.now();
    const check = checkCache(options);
    result.samplesMs.push(performance.now() - started);
    if (check.decision.outcome !== 'cache-hit') throw new Error(`hot check ${i + 1} was a miss: ${check.explanation}`);
    rehashed += check.hashedFiles;
  }
  const s = summarize(result.samplesMs);
  ctx.progress.line(`hot check: median ${formatMs(s.medianMs)} (min ${formatMs(s.minMs)}, max ${formatMs(s.maxMs)})`);
  result.details.inputFiles = warmup.fingerprint.inputs.size;
  result.details.filesRehashed = rehashed;
  result.breakdownMs = profileCheck(options, Math.max(5, Math.min(ctx.counts.hotCheck, 20)));
}

/**
 * Where a check's time goes: the step timings `checkCache` reports itself (manifests, inputs,
 * fingerprint, record, zip, decide). Medians over `iterations`; `prepare` runs untimed before
 * each (e.g. deleting the hash index for a first check).
 */
export function profileCheck(options: ResolvedArtifactOptions, iterations: number, prepare?: () => void): Record<string, number> {
  const runs: Record<string, number>[] = [];
  for (let i = 0; i < iterations; i++) {
    prepare?.();
    runs.push({ ...checkCache(options).stepsMs });
  }
  return medianBreakdown(runs);
}

// ---------------------------------------------------------------------------------------------
// 5a. Hot: the whole synth, against the same stack given a prebuilt zip

interface SynthRun {
  readonly ms: number;
  readonly output: string;
}

async function synth(ctx: Context, project: BenchProject, app: string, extraEnv: Record<string, string> = {}): Promise<SynthRun> {
  const started = performance.now();
  const run = await execa('npx', ['tsx', app], {
    cwd: project.root,
    env: { ...ctx.env, ...extraEnv },
    extendEnv: false,
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  const ms = performance.now() - started;
  const output = String(run.all ?? '');
  if (run.exitCode !== 0)
    throw new Error(`npx tsx ${app} failed (exit ${run.exitCode}) in ${project.root}:\n${output.split('\n').slice(-20).join('\n')}`);
  return { ms, output };
}

const PREBUILT_APP = path.join(REPO_ROOT, 'bench', 'apps', 'prebuilt-synth.ts');

/** The engine's own time in a synth, from its `done: cache-hit: fingerprint 12 ms, total 12 ms` line. */
function engineMsFromOutput(output: string): number | undefined {
  const match = /done: cache-hit: .*total ([\d.]+) (ms|s)\b/.exec(output);
  if (!match) return undefined;
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

export async function hotSynthScenarios(ctx: Context, hot: ScenarioResult, prebuilt: ScenarioResult, project: BenchProject): Promise<void> {
  await ensureBuilt(ctx, project);
  const zip = path.join(project.dist, 'sweep-lambda.zip');
  const prebuiltEnv = { SWEEP_BENCH_PREBUILT_ZIP: zip };
  const check = (run: SynthRun) => {
    if (!run.output.includes('cache-hit') || run.output.includes('cache-miss')) {
      throw new Error(`the hot synth was not a cache hit:\n${run.output.split('\n').slice(-10).join('\n')}`);
    }
  };
  ctx.progress.line(
    `hot synth: 1 warm-up each, then ${ctx.counts.hotSynth} of each, interleaved: npx tsx main.ts | npx tsx bench/apps/prebuilt-synth.ts`,
  );
  check(await synth(ctx, project, 'main.ts'));
  const warm = await synth(ctx, project, PREBUILT_APP, prebuiltEnv);
  if (warm.output.includes('[sweep-lambda]')) throw new Error('the prebuilt app ran the engine');
  const engineMs: number[] = [];
  for (let i = 1; i <= ctx.counts.hotSynth; i++) {
    const doneHot = ctx.progress.iteration('hot synth (npx tsx main.ts)', i, ctx.counts.hotSynth);
    const h = await synth(ctx, project, 'main.ts');
    check(h);
    hot.samplesMs.push(h.ms);
    const e = engineMsFromOutput(h.output);
    if (e !== undefined) engineMs.push(e);
    doneHot(h.ms, e !== undefined ? `engine in-process ${formatMs(e)}` : undefined);
    const donePre = ctx.progress.iteration('prebuilt synth (engine skipped)', i, ctx.counts.hotSynth);
    const p = await synth(ctx, project, PREBUILT_APP, prebuiltEnv);
    prebuilt.samplesMs.push(p.ms);
    donePre(p.ms);
  }
  hot.details.command = 'npx tsx main.ts (cdktf.json "app"), in the project folder';
  prebuilt.details.command = 'npx tsx bench/apps/prebuilt-synth.ts: SweepStack with artifact: PrebuiltArtifact(dist/sweep-lambda.zip)';
  if (engineMs.length > 0) hot.breakdownMs = { 'engine (its done: line)': round(summarize(engineMs).medianMs) };
}

// ---------------------------------------------------------------------------------------------
// 6. Config only: a function environment variable changed

export async function configScenario(ctx: Context, result: ScenarioResult, project: BenchProject): Promise<void> {
  await ensureBuilt(ctx, project);
  const originalJson = fs.readFileSync(project.cdktfJson, 'utf8');
  const engineMs: number[] = [];
  try {
    for (let i = 1; i <= ctx.counts.config; i++) {
      const value = String(100_000 - i);
      const json = JSON.parse(originalJson) as { context: { sweep: { environment?: Record<string, string> } } };
      json.context.sweep.environment = { ...json.context.sweep.environment, SWEEP_MAX_POINTS: value };
      fs.writeFileSync(project.cdktfJson, `${JSON.stringify(json, null, 2)}\n`);
      const done = ctx.progress.iteration('config only (env var changed -> synth)', i, ctx.counts.config);
      const run = await synth(ctx, project, 'main.ts');
      if (!run.output.includes('cache-hit') || run.output.includes('cache-miss')) {
        throw new Error(`a config-only change rebuilt (expected cache-hit):\n${run.output.split('\n').slice(-10).join('\n')}`);
      }
      const synthesized = readStackJson(project.root, json.context.sweep as { stackName?: string });
      if (!synthesized.includes(`"SWEEP_MAX_POINTS":"${value}"`))
        throw new Error(`the synthesized stack does not have SWEEP_MAX_POINTS=${value}`);
      result.samplesMs.push(run.ms);
      const e = engineMsFromOutput(run.output);
      if (e !== undefined) engineMs.push(e);
      done(run.ms, `cache-hit${e !== undefined ? `, engine ${formatMs(e)}` : ''}; SWEEP_MAX_POINTS=${value} in cdk.tf.json`);
    }
  } finally {
    fs.writeFileSync(project.cdktfJson, originalJson);
  }
  if (engineMs.length > 0) result.breakdownMs = { 'engine (its done: line)': round(summarize(engineMs).medianMs) };
  result.details.assertion = 'output says cache-hit; cdk.tf.json has the new value';
}

function readStackJson(root: string, sweep: { stackName?: string }): string {
  const stacks = path.join(root, 'cdktf.out', 'stacks');
  const name = sweep.stackName ?? fs.readdirSync(stacks)[0]!;
  return JSON.stringify(JSON.parse(fs.readFileSync(path.join(stacks, name, 'cdk.tf.json'), 'utf8')));
}

// ---------------------------------------------------------------------------------------------
// Scaling: the fast path on generated workspaces

export interface ScalingResults {
  readonly first: ScenarioResult;
  readonly repeated: ScenarioResult;
}

export async function scalingScenario(ctx: Context, size: number, first: ScenarioResult, repeated: ScenarioResult): Promise<void> {
  const project = makeBenchProject(`scale-${size}`);
  try {
    const genStarted = performance.now();
    const tree = generateSources(project.workspace, size);
    ageTree(project.workspace, 10_000);
    ctx.progress.line(
      `scaling ${size}: generated ${tree.files} files, ${(tree.bytes / 1e6).toFixed(1)} MB under rust/crates/sweep-lambda/src/gen in ${formatMs(performance.now() - genStarted)} (not timed); mtimes set 10 s in the past`,
    );
    const options = projectOptions(project, ctx.env);
    const hashes = path.join(project.cache, 'file-hashes');
    writeMatchingRecord(options, checkCache(options));
    const hit = checkCache(options);
    if (hit.decision.outcome !== 'cache-hit') throw new Error(`the generated workspace's check is not a hit: ${hit.explanation}`);
    const inputFiles = hit.fingerprint.inputs.size;
    for (const r of [first, repeated]) {
      r.details.files = size;
      r.details.inputFiles = inputFiles;
      r.details.megabytes = round(tree.bytes / 1e6, 1);
    }

    // First check: no hash index, every file read and hashed.
    for (let i = 1; i <= ctx.counts.scaleFirst; i++) {
      fs.rmSync(hashes, { recursive: true, force: true });
      const done = ctx.progress.iteration(`scaling ${size} first check`, i, ctx.counts.scaleFirst);
      const started = performance.now();
      const check = checkCache(options);
      const ms = performance.now() - started;
      if (check.decision.outcome !== 'cache-hit') throw new Error(`first check was a miss: ${check.explanation}`);
      if (check.hashedFiles < size) throw new Error(`first check hashed ${check.hashedFiles} files, expected at least ${size}`);
      first.samplesMs.push(ms);
      done(ms, `${check.hashedFiles} files hashed`);
    }
    first.breakdownMs = profileCheck(options, Math.max(1, Math.min(3, ctx.counts.scaleFirst)), () =>
      fs.rmSync(hashes, { recursive: true, force: true }),
    );

    // Repeated check: the index knows every file (all older than its racy window).
    const warmup = checkCache(options);
    if (warmup.hashedFiles !== 0) throw new Error(`a repeated check re-hashed ${warmup.hashedFiles} files: the index did not keep them`);
    const done = ctx.progress.iteration(`scaling ${size} repeated check`, 1, 1);
    let rehashed = 0;
    for (let i = 0; i < ctx.counts.scaleRepeated; i++) {
      const started = performance.now();
      const check = checkCache(options);
      repeated.samplesMs.push(performance.now() - started);
      if (check.decision.outcome !== 'cache-hit') throw new Error(`repeated check was a miss: ${check.explanation}`);
      rehashed += check.hashedFiles;
    }
    const s = summarize(repeated.samplesMs);
    done(s.medianMs, `median of ${ctx.counts.scaleRepeated}; ${rehashed} files re-hashed in all`);
    repeated.breakdownMs = profileCheck(options, Math.max(3, Math.min(5, ctx.counts.scaleRepeated)));
  } finally {
    project.remove();
  }
}

/** Sets every file and folder of the tree `ageMs` in the past (older than the hash index's racy window). */
function ageTree(root: string, ageMs: number): void {
  const past = new Date(Date.now() - ageMs);
  const visit = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      fs.utimesSync(full, past, past);
    }
  };
  visit(root);
}

/**
 * A record and zip that match the current inputs, as a build would have left them, so the scaling
 * checks are cache hits (the path synth takes for an unchanged tree: it also reads and validates
 * the record, whose `inputs` has one entry per file). The zip is a stand-in: the check never opens it.
 */
function writeMatchingRecord(options: ResolvedArtifactOptions, check: CacheCheck): void {
  const zip = createLambdaZip(Buffer.from('benchmark stand-in for a bootstrap binary\n'));
  fs.mkdirSync(options.distDir, { recursive: true });
  fs.writeFileSync(check.paths.zip, zip);
  const sha256 = createHash('sha256').update(zip).digest();
  const settings = check.fingerprint.settings;
  // Built as a plain object and parsed by the engine's own schema: a field the schema does not
  // know is dropped, one it needs and this lacks fails here with the schema's message.
  const record: ArtifactRecord = artifactRecordSchema.parse({
    schemaVersion: METADATA_SCHEMA_VERSION,
    artifact: check.name,
    fingerprint: check.fingerprint.value,
    settings: { ...settings, features: [...settings.features], env: { ...settings.env } },
    inputs: Object.fromEntries(check.fingerprint.inputs),
    builderImage: { tag: builderRecipe(options).tag, id: `sha256:${'0'.repeat(64)}` },
    zip: {
      file: path.basename(check.paths.zip),
      size: zip.byteLength,
      sha256: sha256.toString('hex'),
      sha256Base64: sha256.toString('base64'),
      mtimeMs: fs.statSync(check.paths.zip).mtimeMs,
      originFingerprint: check.fingerprint.value,
    },
    binary: { machine: 'x86_64', linkage: 'dynamic', glibcRequired: '2.29', glibcAvailable: '2.34', size: 42 },
    builtAt: new Date().toISOString(),
    timingsMs: { total: 0 },
  });
  writeMetadata(check.paths.metadata, record);
}

// ---------------------------------------------------------------------------------------------
// The end state others rely on

/**
 * Makes sure the engine's current builder tag exists (rebuilding it with the engine when the cold
 * scenario removed it), and removes the untagged duplicates of it made during this run: when
 * another process builds the same recipe while the tag is missing (another engineer's tests
 * after the cold scenario's rmi), the later `docker build` takes the tag and the earlier image is
 * left dangling, 1.5 GB of nothing.
 */
export async function restoreBuilderImage(ctx: Context, sinceMs: number): Promise<string> {
  const project = makeBenchProject('restore');
  try {
    const options = projectOptions(project, ctx.env);
    const recipe = builderRecipe(options);
    let state = `${recipe.tag} present`;
    if ((await imageId(recipe.tag)) === undefined) {
      ctx.progress.line(`restoring ${recipe.tag} (the cold scenario removed it) with the engine ...`);
      const run = await engineBuild(options);
      state = `${recipe.tag} rebuilt in ${formatMs(run.ms)}`;
    }
    const removed = await removeDanglingDuplicates(recipe.hash, sinceMs);
    return removed > 0 ? `${state}; removed ${removed} dangling duplicate(s) of it made during this run` : state;
  } finally {
    project.remove();
  }
}

async function removeDanglingDuplicates(recipeHash: string, sinceMs: number): Promise<number> {
  const list = await execa(
    DOCKER,
    ['images', '-q', '--no-trunc', '--filter', 'dangling=true', '--filter', `label=org.sweep.recipe=${recipeHash}`],
    {
      reject: false,
    },
  );
  let removed = 0;
  for (const id of new Set(String(list.stdout).split(/\s+/).filter(Boolean))) {
    const created = await execa(DOCKER, ['image', 'inspect', '--format', '{{.Created}}', id], { reject: false });
    if (created.exitCode !== 0 || Date.parse(created.stdout.trim()) < sinceMs) continue;
    // Refused (and left alone) while a container uses it.
    if ((await execa(DOCKER, ['rmi', id], { reject: false })).exitCode === 0) removed++;
  }
  return removed;
}
