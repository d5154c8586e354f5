import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { zipSync } from 'fflate';
import { builderRecipe } from '../build/builder/recipe.js';
import { type CacheCheck, checkCache } from '../build/cache/check.js';
import { type ArtifactMetadata, artifactMetadataSchema, METADATA_SCHEMA_VERSION, writeMetadata } from '../build/cache/metadata.js';
import { type CargoWorkspace, readCargoWorkspace } from '../build/cargo/workspace.js';
import { checkAllOrThrow } from '../build/engine/engine.js';
import { isBuildEnvName, type ResolvedArtifactOptions } from '../build/options/resolve.js';
import { createLambdaZip, ZIP_ENTRY_MODE, ZIP_ENTRY_NAME } from '../build/package/zip.js';
import {
  BENCH_BUILDER_REPOSITORY,
  BENCH_TOOLCHAIN_REPOSITORY,
  buildFreshToolchain,
  DOCKER,
  imageId,
  removeContainer,
  removeImageTag,
} from './docker.js';
import {
  appTargets,
  assertAllHits,
  cargoFinishedMs,
  compiledCrates,
  engineMsFromOutput,
  ensureRecorded,
  readStackJson,
  runApp,
  runBreakdown,
  runChild,
} from './engine-run.js';
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
  wipeProjectState,
} from './project.js';
import { formatBreakdown, formatMs, medianBreakdown, round, type Summary, summarize } from './stats.js';

/**
 * The scenarios of `npm run bench`. Each returns its samples (wall-clock milliseconds, one per
 * timed iteration), the median breakdown of where the time went when it is known, and notes.
 * Setup that is not part of what a scenario measures (removing caches, making a project, a build
 * that brings the cache to the state the scenario starts from) is never timed.
 *
 * The engine scenarios (cold, warm, edit, hot, config) work on the app as cdktf.json describes
 * it: every function (sweep-lambda and sweep-batch), as `cdktf synth` and `sweep-runtime build`
 * ensure them. The baseline is the old script, which built sweep-lambda alone.
 */
export const TOOLCHAIN_IMAGE = 'rust:1-bullseye';
export const TARGET_TRIPLE = 'x86_64-unknown-linux-gnu';
/** The old shell script's native packages. */
export const BASELINE_APT_PACKAGES = ['clang', 'cmake', 'perl', 'pkg-config'];
/** The function the edit scenario edits and the baseline builds. */
export const LAMBDA = 'sweep-lambda';

export interface Counts {
  readonly baseline: number;
  readonly cold: number;
  readonly warm: number;
  readonly edit: number;
  readonly hotCheck: number;
  readonly hotSynth: number;
  readonly bigZipCheck: number;
  readonly config: number;
  readonly scaleSizes: readonly number[];
  readonly scaleFirst: number;
  readonly scaleRepeated: number;
  readonly remote: number;
  readonly manyCold: number;
  readonly manyEdit: number;
  readonly startupNode: number;
  readonly startupApp: number;
  readonly startupEdit: number;
  /** The 100-function fleet (issue 22): cold builds, hot rounds (status, --function), synths among them, edits of each kind. */
  readonly fleetCold: number;
  readonly fleetHot: number;
  readonly fleetSynth: number;
  readonly fleetEdit: number;
  /** Sign + verify iterations of the signing row (in-process, cheap). */
  readonly signing: number;
  /** Edits of the Lambda crate through watch, the cargo floor and build + invoke, each (issue 20). */
  readonly watchEdit: number;
  /** Timed warm invocations through the Invoke API. */
  readonly invokeApi: number;
}

export interface Context {
  readonly counts: Counts;
  readonly progress: Progress;
  /** The environment every engine run and child process gets: this one without build overrides, with the bench's builder repository. */
  readonly env: Record<string, string>;
  /** When this run started (Date.now()). */
  readonly startedMs: number;
  /** A short id of this run, for the names of images and buckets it creates. */
  readonly runId: string;
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

export function newResult(id: string, label: string): ScenarioResult {
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

/**
 * Runs a body that fills several results (one loop, interleaved measurements): an exception
 * becomes the error of each of them.
 */
export async function runScenarioGroup(ctx: Context, results: readonly ScenarioResult[], body: () => Promise<void>): Promise<void> {
  ctx.progress.scenario(results.map((r) => r.label).join(' | '));
  try {
    await body();
  } catch (error) {
    const message =
      error instanceof Error
        ? `${error.message}${error.stack ? `\n${error.stack.split('\n').slice(1, 6).join('\n')}` : ''}`
        : String(error);
    for (const r of results) r.error = message;
    ctx.progress.line(`!! ${results[0]?.label} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  for (const r of results) r.summary = summarize(r.samplesMs);
}

/**
 * This process's environment without the variables that would change or force what the engine
 * builds or where it looks (the shared cache is set only by the scenario that measures it), with
 * the benchmark's own builder repository: the engine never touches `sweep-builder:*`.
 */
export function cleanEnvironment(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const dropped = new Set([
    'FORCE_REBUILD',
    'SWEEP_FORCE_REBUILD',
    'SWEEP_CACHE_DIR',
    'SWEEP_TOOLCHAIN_IMAGE',
    'SWEEP_DOCKER_PULL_POLICY',
    'SWEEP_BUILDER_REPOSITORY',
    'SWEEP_REMOTE_CACHE',
    'SWEEP_REMOTE_CACHE_MODE',
    'CDKTF_OUTDIR',
    'CDKTF_CONTEXT_JSON',
  ]);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && !dropped.has(name) && !isBuildEnvName(name)) env[name] = value;
  }
  env.CHECKPOINT_DISABLE = '1';
  env.SWEEP_BUILDER_REPOSITORY = BENCH_BUILDER_REPOSITORY;
  return env;
}

// ---------------------------------------------------------------------------------------------
// Engine helpers

/** Brings the project to "everything cached": a no-op when it already is. Not timed. */
export async function ensureBuilt(ctx: Context, project: BenchProject, env = ctx.env): Promise<void> {
  const run = await ensureRecorded(appTargets(project, env));
  const built = run.results.filter((r) => r.via !== 'local');
  if (built.length > 0)
    ctx.progress.line(`   (setup, not timed: built ${built.map((r) => path.basename(r.zipPath)).join(', ')} in ${formatMs(run.ms)})`);
}

function metadataOf(project: BenchProject, name: string): ArtifactMetadata {
  return artifactMetadataSchema.parse(JSON.parse(fs.readFileSync(path.join(project.dist, `${name}.json`), 'utf8')));
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

/**
 * Each iteration gets a toolchain image of its own (`FROM rust:1-bullseye` + a random label: a new
 * image ID), so the builder image is built from scratch: Docker's layer cache, keyed by the parent
 * image's ID, has nothing to give it, whatever other builder images of the same recipe exist. The
 * builder image and the toolchain tag are removed after each iteration (untimed).
 */
export async function coldScenario(ctx: Context, result: ScenarioResult, project: BenchProject): Promise<void> {
  const breakdowns: Record<string, number>[] = [];
  for (let i = 1; i <= ctx.counts.cold; i++) {
    const toolchain = `${BENCH_TOOLCHAIN_REPOSITORY}:${ctx.runId}-cold${i}`;
    await buildFreshToolchain(toolchain, TOOLCHAIN_IMAGE);
    const env = { ...ctx.env, SWEEP_TOOLCHAIN_IMAGE: toolchain };
    const targets = appTargets(project, env);
    const builderTag = builderRecipe(targets[0]!).tag;
    try {
      if ((await imageId(builderTag)) !== undefined) throw new Error(`${builderTag} exists before the cold build`);
      wipeProjectState(project);
      const done = ctx.progress.iteration('cold', i, ctx.counts.cold);
      const run = await ensureRecorded(targets);
      if (run.results.some((r) => r.via !== 'build')) throw new Error(`cold run ${i} reused an artifact`);
      // Cold means the builder image was really built, its RUN step not taken from Docker's layer cache.
      if (!run.lines.some((l) => l.includes('builder-image: building'))) throw new Error(`cold run ${i} did not build the builder image`);
      if (runStepFromCache(run.lines)) throw new Error(`cold run ${i}: the builder image's RUN step came from Docker's layer cache`);
      const breakdown = runBreakdown(run);
      result.samplesMs.push(run.ms);
      breakdowns.push(breakdown);
      done(run.ms, formatBreakdown(breakdown));
    } finally {
      await removeImageTag(builderTag);
      await removeImageTag(toolchain);
    }
  }
  result.breakdownMs = medianBreakdown(breakdowns);
  result.details.functions = appTargets(project, ctx.env).map((t) => t.name);
  result.details.toolchain = `${BENCH_TOOLCHAIN_REPOSITORY}:<run>-cold<i> (FROM ${TOOLCHAIN_IMAGE} + a random label), one per iteration`;
}

function runStepFromCache(lines: readonly string[]): boolean {
  const at = lines.findIndex((l) => /Step \d+\/\d+ : RUN /.test(l));
  return at >= 0 && lines.slice(at + 1, at + 3).some((l) => l.includes('Using cache'));
}

// ---------------------------------------------------------------------------------------------
// 3. Warm image, clean target

export async function warmScenario(ctx: Context, result: ScenarioResult, project: BenchProject): Promise<void> {
  await ensureBuilt(ctx, project);
  const targets = appTargets(project, ctx.env);
  const breakdowns: Record<string, number>[] = [];
  for (let i = 1; i <= ctx.counts.warm; i++) {
    fs.rmSync(path.join(project.cache, 'cargo-target'), { recursive: true, force: true });
    fs.rmSync(project.dist, { recursive: true, force: true });
    const done = ctx.progress.iteration('warm image, clean target', i, ctx.counts.warm);
    const run = await ensureRecorded(targets);
    if (run.results.some((r) => r.via !== 'build')) throw new Error(`warm run ${i} reused an artifact`);
    if (!run.lines.some((l) => l.includes('builder-image: reusing'))) throw new Error(`warm run ${i} did not reuse the builder image`);
    result.samplesMs.push(run.ms);
    const breakdown = runBreakdown(run);
    breakdowns.push(breakdown);
    done(run.ms, formatBreakdown(breakdown));
  }
  result.breakdownMs = medianBreakdown(breakdowns);
}

// ---------------------------------------------------------------------------------------------
// 4. Edit: one line of the Lambda crate changed

/** Two versions of a source, each with one string literal changed after `anchor`, alternated so every edit is real. */
export function editedVersions(original: string, anchor: string, file: string): [string, string] {
  const at = original.indexOf(anchor);
  if (at < 0) throw new Error(`${file} has no \`${anchor}\` whose literal the edit could change`);
  const edit = (mark: string) => `${original.slice(0, at + anchor.length)}[bench edit ${mark}] ${original.slice(at + anchor.length)}`;
  return [edit('A'), edit('B')];
}

export async function editScenario(ctx: Context, result: ScenarioResult, project: BenchProject): Promise<void> {
  const file = project.file(LAMBDA_MAIN_RS);
  const original = fs.readFileSync(file, 'utf8');
  const versions = editedVersions(original, 'eprintln!("', LAMBDA_MAIN_RS);
  await ensureBuilt(ctx, project);
  let previousSha = metadataOf(project, LAMBDA).zip.sha256;
  const targets = appTargets(project, ctx.env);
  const breakdowns: Record<string, number>[] = [];
  result.details.edit = `one string literal in rust/${LAMBDA_MAIN_RS} (the first eprintln!), alternating between two versions; every function ensured`;
  try {
    for (let i = 1; i <= ctx.counts.edit; i++) {
      fs.writeFileSync(file, versions[(i - 1) % 2]!);
      const done = ctx.progress.iteration('edit', i, ctx.counts.edit);
      const run = await ensureRecorded(targets);
      const lambda = run.results.find((r) => r.name === LAMBDA)!;
      if (lambda.outcome !== 'cache-miss') throw new Error(`edit run ${i} was a ${lambda.outcome}: the edit was not seen`);
      if (!lambda.explanation.includes('main.rs')) throw new Error(`edit run ${i}: unexpected reason: ${lambda.explanation}`);
      const others = run.results.filter((r) => r.name !== LAMBDA && r.outcome !== 'cache-hit');
      if (others.length > 0) throw new Error(`edit run ${i}: ${others.map((r) => r.name).join(', ')} rebuilt too`);
      if (lambda.metadata.zip.sha256 === previousSha)
        throw new Error(`edit run ${i}: the zip did not change, so the binary did not either`);
      previousSha = lambda.metadata.zip.sha256;
      const recompiled = compiledCrates(run.lines);
      result.samplesMs.push(run.ms);
      const breakdown = runBreakdown(run);
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
// 5a. Hot: the engine's check alone, in-process

/** `checkAll` of every function of the app (what a synth runs before anything else), each asserted a hit. */
export async function hotCheckScenario(ctx: Context, result: ScenarioResult, project: BenchProject): Promise<void> {
  await ensureBuilt(ctx, project);
  const targets = appTargets(project, ctx.env);
  const warmup = checkAllOrThrow(targets);
  assertHits(warmup, 'the hot check');
  ctx.progress.line(
    `hot check: 1 warm-up + ${ctx.counts.hotCheck} timed checkAllOrThrow() calls, ${warmup.length} functions, ${warmup.map((c) => c.fingerprint.inputs.size).join(' + ')} input files`,
  );
  let rehashed = 0;
  for (let i = 0; i < ctx.counts.hotCheck; i++) {
    const started = performance.now();
    const checks = checkAllOrThrow(targets);
    result.samplesMs.push(performance.now() - started);
    assertHits(checks, `hot check ${i + 1}`);
    rehashed += checks.reduce((n, c) => n + c.hashedFiles, 0);
  }
  const s = summarize(result.samplesMs);
  ctx.progress.line(`hot check: median ${formatMs(s.medianMs)} (min ${formatMs(s.minMs)}, max ${formatMs(s.maxMs)})`);
  result.details.functions = warmup.map((c) => c.name);
  result.details.inputFiles = warmup.map((c) => c.fingerprint.inputs.size);
  result.details.zipBytes = warmup.map((c) => (c.metadata.status === 'ok' ? c.metadata.metadata.zip.size : 0));
  result.details.filesRehashed = rehashed;
  result.breakdownMs = profileChecks(targets, Math.max(5, Math.min(ctx.counts.hotCheck, 20)));
}

function assertHits(checks: readonly CacheCheck[], what: string): void {
  const misses = checks.filter((c) => c.decision.outcome !== 'cache-hit');
  if (misses.length > 0) throw new Error(`${what} is not a hit: ${misses.map((c) => `${c.name}: ${c.explanation}`).join('; ')}`);
}

/**
 * Where a check's time goes: the step timings `checkCache` reports itself (manifests, inputs,
 * fingerprint, metadata, zip, decide), summed over the artifacts. Medians over `iterations`;
 * `prepare` runs untimed before each (e.g. deleting the hash index for a first check).
 */
export function profileChecks(list: readonly ResolvedArtifactOptions[], iterations: number, prepare?: () => void): Record<string, number> {
  const runs: Record<string, number>[] = [];
  for (let i = 0; i < iterations; i++) {
    prepare?.();
    // As checkAll does: each workspace read once, for all its artifacts (and their run's memo).
    const steps: Record<string, number> = {};
    const workspaces = new Map<string, CargoWorkspace>();
    for (const options of list) {
      const started = performance.now();
      const workspace = workspaces.get(options.workspace) ?? readCargoWorkspace(options.workspace);
      if (!workspaces.has(options.workspace)) steps['read workspace'] = (steps['read workspace'] ?? 0) + performance.now() - started;
      workspaces.set(options.workspace, workspace);
      const check = checkCache(options, { workspace });
      for (const [step, ms] of Object.entries(check.stepsMs)) steps[step] = (steps[step] ?? 0) + ms;
    }
    runs.push(steps);
  }
  return medianBreakdown(runs);
}

/** {@link profileChecks} for one artifact (kept for bench/profile-check.ts). */
export function profileCheck(options: ResolvedArtifactOptions, iterations: number, prepare?: () => void): Record<string, number> {
  return profileChecks([options], iterations, prepare);
}

// ---------------------------------------------------------------------------------------------
// 5b. Hot: the check of one function whose zip is 50 MB

export const BIG_ZIP_BYTES = 50 * 1024 * 1024;

/**
 * A hit of a function whose zip is 50 MB (a stored entry of random bytes, so its size is the
 * binary's), with metadata that matches the workspace's current fingerprint, as a build would
 * have left them a while ago: the zip was read, hashed and checked once, and is trusted from the
 * hash index while its stat is unchanged (issue 22: it was read and hashed on every hit, 334 ms).
 */
export async function bigZipCheckScenario(ctx: Context, result: ScenarioResult): Promise<void> {
  const project = makeBenchProject('bigzip');
  try {
    const options = appTargets(project, ctx.env).find((t) => t.name === LAMBDA)!;
    const binary = randomBytes(BIG_ZIP_BYTES - 200);
    const zip = zipSync({
      [ZIP_ENTRY_NAME]: [binary, { level: 0, mtime: new Date(1980, 0, 1), os: 3, attrs: (ZIP_ENTRY_MODE << 16) >>> 0 }],
    });
    const check = checkCache(options);
    writeMatchingMetadata(options, check, zip);
    // As a build left it a while ago: outside the hash index's racy window, so the first check
    // reads it (and the index keeps its hash with its stat), the others only stat it.
    const past = new Date(Date.now() - 60_000);
    for (const file of [check.paths.zip, check.paths.metadata]) fs.utimesSync(file, past, past);
    checkCache(options);
    const warmup = checkCache(options);
    if (warmup.decision.outcome !== 'cache-hit') throw new Error(`the 50 MB zip's check is not a hit: ${warmup.explanation}`);
    result.details.zipBytes = zip.byteLength;
    const done = ctx.progress.iteration(`check with a ${(zip.byteLength / 2 ** 20).toFixed(0)} MiB zip`, 1, 1);
    for (let i = 0; i < ctx.counts.bigZipCheck; i++) {
      const started = performance.now();
      const hit = checkCache(options);
      result.samplesMs.push(performance.now() - started);
      if (hit.decision.outcome !== 'cache-hit') throw new Error(`check ${i + 1} was a miss: ${hit.explanation}`);
    }
    const s = summarize(result.samplesMs);
    done(s.medianMs, `median of ${ctx.counts.bigZipCheck}`);
    result.breakdownMs = profileChecks([options], Math.max(3, Math.min(ctx.counts.bigZipCheck, 10)));
  } finally {
    project.remove();
  }
}

// ---------------------------------------------------------------------------------------------
// 5c. Hot: the whole synth, against the same stack given prebuilt zips

const PREBUILT_APP = path.join(REPO_ROOT, 'bench', 'apps', 'prebuilt-synth.ts');
const RUN_TS = 'bin/run-ts.mjs';

export async function hotSynthScenarios(ctx: Context, hot: ScenarioResult, prebuilt: ScenarioResult, project: BenchProject): Promise<void> {
  await ensureBuilt(ctx, project);
  const names = appTargets(project, ctx.env).map((t) => t.name!);
  const prebuiltRun = () => runChild('node', [RUN_TS, PREBUILT_APP], project.root, ctx.env);
  ctx.progress.line(
    `hot synth: 1 warm-up each, then ${ctx.counts.hotSynth} of each, interleaved: node bin/run-ts.mjs main.ts | node bin/run-ts.mjs bench/apps/prebuilt-synth.ts`,
  );
  assertAllHits((await runApp(project, ctx.env)).output, names, 'the hot synth');
  const warm = await prebuiltRun();
  if (/\[sweep-/.test(warm.output)) throw new Error(`the prebuilt app ran the engine:\n${warm.output}`);
  const engineMs: number[] = [];
  for (let i = 1; i <= ctx.counts.hotSynth; i++) {
    const doneHot = ctx.progress.iteration('hot synth (app command)', i, ctx.counts.hotSynth);
    const h = await runApp(project, ctx.env);
    assertAllHits(h.output, names, `hot synth ${i}`);
    hot.samplesMs.push(h.ms);
    const e = engineMsFromOutput(h.output);
    if (e !== undefined) engineMs.push(e);
    doneHot(h.ms, e !== undefined ? `engine in-process ${formatMs(e)}` : undefined);
    const donePre = ctx.progress.iteration('prebuilt synth (engine skipped)', i, ctx.counts.hotSynth);
    const p = await prebuiltRun();
    prebuilt.samplesMs.push(p.ms);
    donePre(p.ms);
  }
  hot.details.command = 'node bin/run-ts.mjs main.ts (cdktf.json "app"), in the project folder';
  prebuilt.details.command =
    'node bin/run-ts.mjs bench/apps/prebuilt-synth.ts: SweepStack with artifactFor: PrebuiltArtifact(dist/<name>.zip)';
  if (engineMs.length > 0) hot.breakdownMs = { 'engine (its done: lines)': round(summarize(engineMs).medianMs) };
}

// ---------------------------------------------------------------------------------------------
// 6. Config only: a function environment variable changed

export async function configScenario(ctx: Context, result: ScenarioResult, project: BenchProject): Promise<void> {
  await ensureBuilt(ctx, project);
  const names = appTargets(project, ctx.env).map((t) => t.name!);
  const originalJson = fs.readFileSync(project.cdktfJson, 'utf8');
  type Json = { context: { sweep: { stackName: string; functions: Record<string, { environment?: Record<string, string> }> } } };
  const engineMs: number[] = [];
  try {
    for (let i = 1; i <= ctx.counts.config; i++) {
      const value = String(100_000 - i);
      const json = JSON.parse(originalJson) as Json;
      const fn = json.context.sweep.functions[LAMBDA];
      if (!fn) throw new Error(`cdktf.json has no function ${LAMBDA}`);
      fn.environment = { ...fn.environment, SWEEP_MAX_POINTS: value };
      fs.writeFileSync(project.cdktfJson, `${JSON.stringify(json, null, 2)}\n`);
      const done = ctx.progress.iteration('config only (env var changed -> synth)', i, ctx.counts.config);
      const run = await runApp(project, ctx.env);
      assertAllHits(run.output, names, 'a config-only change');
      if (!readStackJson(project, json.context.sweep.stackName).includes(`"SWEEP_MAX_POINTS":"${value}"`))
        throw new Error(`the synthesized stack does not have SWEEP_MAX_POINTS=${value}`);
      result.samplesMs.push(run.ms);
      const e = engineMsFromOutput(run.output);
      if (e !== undefined) engineMs.push(e);
      done(run.ms, `cache-hit${e !== undefined ? `, engine ${formatMs(e)}` : ''}; SWEEP_MAX_POINTS=${value} in cdk.tf.json`);
    }
  } finally {
    fs.writeFileSync(project.cdktfJson, originalJson);
  }
  if (engineMs.length > 0) result.breakdownMs = { 'engine (its done: lines)': round(summarize(engineMs).medianMs) };
  result.details.edit = `cdktf.json context sweep.functions.${LAMBDA}.environment.SWEEP_MAX_POINTS`;
  result.details.assertion = 'every function says cache-hit; cdk.tf.json has the new value';
}

// ---------------------------------------------------------------------------------------------
// Scaling: the fast path on generated workspaces

export async function scalingScenario(ctx: Context, size: number, first: ScenarioResult, repeated: ScenarioResult): Promise<void> {
  const project = makeBenchProject(`scale-${size}`);
  try {
    const genStarted = performance.now();
    const tree = generateSources(project.workspace, size);
    ageTree(project.workspace, 10_000);
    ctx.progress.line(
      `scaling ${size}: generated ${tree.files} files, ${(tree.bytes / 1e6).toFixed(1)} MB under rust/crates/sweep-lambda/src/gen in ${formatMs(performance.now() - genStarted)} (not timed); mtimes set 10 s in the past`,
    );
    const options = appTargets(project, ctx.env).find((t) => t.name === LAMBDA)!;
    const hashes = path.join(project.cache, 'file-hashes');
    writeMatchingMetadata(options, checkCache(options));
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
    first.breakdownMs = profileChecks([options], Math.max(1, Math.min(3, ctx.counts.scaleFirst)), () =>
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
    repeated.breakdownMs = profileChecks([options], Math.max(3, Math.min(5, ctx.counts.scaleRepeated)));
  } finally {
    project.remove();
  }
}

/** Sets every file and folder of the tree `ageMs` in the past (older than the hash index's racy window). */
export function ageTree(root: string, ageMs: number): void {
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
 * A zip and metadata that match the current inputs, as a build would have left them, so the
 * checks are cache hits (the path synth takes for an unchanged tree: it reads and validates the
 * metadata, whose `inputs` has one entry per file, and hashes the zip and reads its layout). The
 * zip is a stand-in with a valid layout (`zip`, by default a small one); nothing runs it.
 */
export function writeMatchingMetadata(
  options: ResolvedArtifactOptions,
  check: CacheCheck,
  zip: Uint8Array = createLambdaZip(Buffer.from('benchmark stand-in for a bootstrap binary\n')),
): void {
  fs.mkdirSync(options.distDir, { recursive: true });
  fs.writeFileSync(check.paths.zip, zip);
  const sha256 = createHash('sha256').update(zip).digest();
  const settings = check.fingerprint.settings;
  // Built as a plain object and parsed by the engine's own schema: a field the schema does not
  // know is dropped, one it needs and this lacks fails here with the schema's message.
  const metadata: ArtifactMetadata = artifactMetadataSchema.parse({
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
      originFingerprint: check.fingerprint.value,
    },
    binary: { machine: 'x86_64', linkage: 'dynamic', glibcRequired: '2.29', glibcAvailable: '2.34', size: 42 },
    origin: { kind: 'build', cacheDomain: 'local' },
    builtAt: new Date().toISOString(),
    timingsMs: { total: 0 },
  });
  writeMetadata(check.paths.metadata, metadata);
}
