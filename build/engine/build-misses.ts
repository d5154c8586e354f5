import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type CompileUnit, compileRun, unitKey } from '../builder/compile.js';
import type { BuilderContainer } from '../builder/container.js';
import { runInBuilder } from '../builder/container.js';
import { DockerClient, DockerCommandError } from '../builder/docker.js';
import { type BuilderImage, ensureBuilderImage } from '../builder/image.js';
import type { CacheCheck } from '../cache/check.js';
import { commitArtifact } from '../cache/commit.js';
import { type CachePaths, cachePaths } from '../cache/paths.js';
import { featureTreeCommand, parseFeatureTree } from '../cargo/feature-tree.js';
import { planCargoRuns } from '../cargo/runs.js';
import { canonicalJson } from '../fingerprint/fingerprint.js';
import { describeBinaryFacts, verifyArtifact } from '../package/verify.js';
import { createLambdaZip } from '../package/zip.js';
import type { RemoteCache } from '../remote/cache.js';
import { writeFileAtomic } from '../support/atomic-write.js';
import { isSweepError, type SweepError, unexpectedFailure } from '../support/errors.js';
import { formatBytes, type Reporter } from '../support/reporter.js';
import { formatTimings, type StageTimer } from '../support/stage-timer.js';
import type { ArtifactResult } from './result.js';

/*
 * The cold path for every artifact that missed both caches:
 *
 *   batches: artifacts that share workspace, cache domain, toolchain image, builder recipe,
 *            target triple, profile and build variables
 *   per batch: builder image -> cargo runs (one, unless features or binary names forbid it)
 *   per run:   one `cargo build` in one container; if it fails, each of its functions alone
 *   per artifact: package -> verify -> commit (zip, then metadata) -> publish to the shared cache
 *
 * Batching never changes an artifact's bytes: cargo unifies features across the packages of one
 * invocation, so only functions whose resolved features agree on every package they share go in
 * one run (cargo-runs.ts decides, from `cargo tree` read by cargo-feature-tree.ts), and two packages with binaries of the
 * same name never do. Each artifact is packaged, verified and committed on its own: one that fails
 * its checks never blocks the others, and its error names it.
 */
export interface BatchContext {
  readonly reporterFor: (prefix: string) => Reporter;
  readonly timerOf: (check: CacheCheck) => StageTimer;
  readonly remote: (check: CacheCheck) => RemoteCache | undefined;
  readonly signal?: AbortSignal;
}

export type BuildOutcome =
  | { readonly check: CacheCheck; readonly result: ArtifactResult }
  | { readonly check: CacheCheck; readonly error: SweepError };

export async function buildMisses(checks: readonly CacheCheck[], context: BatchContext): Promise<BuildOutcome[]> {
  const outcomes: BuildOutcome[] = [];
  for (const batch of groupIntoBatches(checks)) outcomes.push(...(await buildBatch(batch, context)));
  return outcomes;
}

/** Artifacts that can be compiled by one builder container setup, in first-seen order. */
export function groupIntoBatches(checks: readonly CacheCheck[]): CacheCheck[][] {
  const batches = new Map<string, CacheCheck[]>();
  for (const check of checks) {
    const { options } = check;
    const key = canonicalJson({
      workspace: options.workspace,
      cargoTarget: cachePaths(options).cargoTarget,
      toolchainImage: options.toolchainImage,
      builderRecipe: check.fingerprint.settings.builderRecipe,
      target: options.targetTriple,
      profile: options.profile,
      env: options.buildEnv,
      docker: options.dockerCommand,
      repository: options.builderRepository,
      pullPolicy: options.pullPolicy,
    });
    batches.set(key, [...(batches.get(key) ?? []), check]);
  }
  return [...batches.values()];
}

async function buildBatch(checks: readonly CacheCheck[], context: BatchContext): Promise<BuildOutcome[]> {
  const first = checks[0]!;
  const { options } = first;
  const reporter = context.reporterFor(checks.map((c) => c.name).join(', '));
  const outcomes = new Map<CacheCheck, BuildOutcome>();
  const shared: Record<string, number> = {};
  const time = async <T>(stage: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      shared[stage] = (shared[stage] ?? 0) + (performance.now() - started);
    }
  };

  try {
    const docker = new DockerClient(options.dockerCommand);
    const image = await time('builder-image', async () => {
      await docker.ensureEngine();
      return ensureBuilderImage(docker, options, reporter, context.signal);
    });
    const cache = cachePaths(options);
    const container: BuilderContainer = {
      docker,
      image: image.tag,
      options,
      cache,
      artifactKeys: checks.map((c) => c.paths.key),
      reporter,
      signal: context.signal,
    };
    const units = uniqueUnits(checks);
    const runs = units.length === 1 ? [units] : await time('features', () => planRuns(units, checks, container, cache));
    while (runs.length > 0) {
      const run = runs.shift()!;
      const members = checks.filter((check) => run.some((unit) => unitKey(unit) === unitKey(unitOf(check))));
      try {
        const started = performance.now();
        const binaries = await compileRun({ ...container, artifactKeys: members.map((c) => c.paths.key) }, run, options);
        // The batch's stages, and this run's compile (not the earlier runs' of a split batch).
        const stages = { ...shared, compile: performance.now() - started };
        for (const check of members) {
          outcomes.set(check, await finishArtifact(check, binaries.get(unitKey(unitOf(check)))!, image, stages, context));
        }
      } catch (error) {
        // cargo stops a shared run at the first crate that fails, so one function's compile
        // error would fail, and be reported as the error of, every function of the run. Each is
        // built alone instead (the same bytes, see cargo-runs.ts; what compiled is cached): the
        // others are committed and only the functions that do not compile are named.
        if (run.length > 1 && cargoFailed(error) && !context.signal?.aborted) {
          reporter.line(`batch: the cargo run of ${members.map((c) => c.name).join(', ')} failed; building each of them alone`);
          runs.unshift(...run.map((unit) => [unit]));
          continue;
        }
        for (const check of members) if (!outcomes.has(check)) outcomes.set(check, { check, error: asSweepError(error) });
      }
    }
  } catch (error) {
    for (const check of checks) if (!outcomes.has(check)) outcomes.set(check, { check, error: asSweepError(error) });
  }
  return checks.map((check) => outcomes.get(check)!);
}

/** Package, verify, commit and publish one artifact; its failure is its own. */
async function finishArtifact(
  check: CacheCheck,
  binary: Uint8Array,
  image: BuilderImage,
  shared: Readonly<Record<string, number>>,
  context: BatchContext,
): Promise<BuildOutcome> {
  const reporter = context.reporterFor(check.name);
  const timer = context.timerOf(check);
  try {
    for (const [stage, ms] of Object.entries(shared)) timer.add(stage as Parameters<StageTimer['add']>[0], ms);
    const zip = timer.time('package', () => createLambdaZip(binary));
    const sha256 = createHash('sha256').update(zip).digest();
    reporter.line(
      `package: ${check.paths.zipForDisplay} ${formatBytes(zip.byteLength)} (binary ${formatBytes(binary.byteLength)}) sha256 ${sha256.toString('base64')}`,
    );
    const facts = timer.time('verify', () => verifyArtifact(zip, binary, check.options));
    reporter.line(`verify: ${describeBinaryFacts(facts, check.options.runtime)}`);

    context.signal?.throwIfAborted();
    const previous = check.metadata.status === 'ok' ? check.metadata.metadata : undefined;
    const metadata = commitArtifact({
      check,
      zip,
      facts,
      builderImage: { tag: image.tag, id: image.id },
      origin: { kind: 'build', cacheDomain: cachePaths(check.options).domain },
      timingsMs: timer.results(),
    });
    if (check.options.forceRebuild && previous?.fingerprint === metadata.fingerprint) {
      reporter.line(
        previous.zip.sha256 === metadata.zip.sha256
          ? 'reproducible: the forced rebuild gave a byte-identical zip'
          : `not reproducible: the forced rebuild of unchanged inputs gave a different zip (sha256 ${previous.zip.sha256Base64} -> ${metadata.zip.sha256Base64})`,
      );
    }
    const remote = context.remote(check);
    if (remote?.mode === 'read-write') await remote.publish(check, zip, metadata, reporter);
    const timingsMs = timer.results();
    reporter.line(`done: cache-miss, rebuilt ${check.paths.zipForDisplay}: ${formatTimings(timingsMs)}`);
    return {
      check,
      result: {
        outcome: 'cache-miss',
        via: 'build',
        explanation: check.explanation,
        name: check.name,
        zipPath: check.paths.zip,
        metadata,
        timingsMs,
      },
    };
  } catch (error) {
    return { check, error: asSweepError(error) };
  }
}

function unitOf(check: CacheCheck): CompileUnit {
  return { package: check.package.name, binary: check.options.binary, features: check.options.features };
}

/** One compile unit per distinct (package, binary, features): two artifacts of the same unit share its binary. */
function uniqueUnits(checks: readonly CacheCheck[]): CompileUnit[] {
  const units = new Map<string, CompileUnit>();
  for (const check of checks) units.set(unitKey(unitOf(check)), unitOf(check));
  return [...units.values()];
}

/**
 * Which units may share a cargo run, from the features cargo resolves for each (`cargo tree`,
 * run once in one container for every unit not yet known, and cached by the manifests' state:
 * features depend on manifests, the lock file and the settings, never on sources, so an edit
 * of a source file does not ask cargo again).
 */
async function planRuns(
  units: readonly CompileUnit[],
  checks: readonly CacheCheck[],
  container: BuilderContainer,
  cache: CachePaths,
): Promise<CompileUnit[][]> {
  const checkOf = (unit: CompileUnit) => checks.find((check) => unitKey(unitOf(check)) === unitKey(unit))!;
  const cacheFile = (unit: CompileUnit) => path.join(cache.features, `${featureKey(checkOf(unit), unit)}.txt`);
  const trees = new Map<string, string>();
  const unknown: CompileUnit[] = [];
  for (const unit of units) {
    const cached = readIfFile(cacheFile(unit));
    if (cached === undefined) unknown.push(unit);
    else trees.set(unitKey(unit), cached);
  }
  if (unknown.length > 0) {
    const marker = `sweep-feature-tree-${process.pid}`;
    const script = unknown
      .map((unit) => `${shellQuote(featureTreeCommand(unit, container.options.targetTriple))} && echo ${marker}`)
      .join(' && ');
    container.reporter.line(`features: asking cargo which features each of ${unknown.length} functions resolves (cargo tree)`);
    const output = await runInBuilder(container, 'features', ['sh', '-c', script], true);
    const parts = output.split(new RegExp(`^${marker}$\\n?`, 'm'));
    unknown.forEach((unit, i) => {
      const tree = parts[i] ?? '';
      trees.set(unitKey(unit), tree);
      writeFileAtomic(cacheFile(unit), tree);
    });
  }
  const plan = planCargoRuns(
    units.map((unit) => ({ ...unit, packageBinaries: checkOf(unit).package.binaries, name: checkOf(unit).name })),
    (unit) => parseFeatureTree(trees.get(unitKey(unit)) ?? ''),
  );
  for (const split of plan.splits) container.reporter.line(`batch: ${split}`);
  return plan.runs.map((run) => run.map(({ package: pkg, binary, features }) => ({ package: pkg, binary, features })));
}

/** What the resolved features of a unit depend on: the settings, the manifests and lock file, the unit. */
function featureKey(check: CacheCheck, unit: CompileUnit): string {
  const manifests = [...check.fingerprint.inputs].filter(([file]) => /(^|\/)(Cargo\.toml|Cargo\.lock)$|^\.cargo\//.test(file));
  return createHash('sha256')
    .update(
      canonicalJson({
        settings: { ...check.fingerprint.settings, package: unit.package, binary: unit.binary, features: unit.features },
        manifests,
      }),
    )
    .digest('hex')
    .slice(0, 32);
}

function readIfFile(file: string): string | undefined {
  try {
    return fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

function shellQuote(argv: readonly string[]): string {
  return argv.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** cargo itself failed (not a cancellation, nor docker refusing to start the container). */
function cargoFailed(error: unknown): boolean {
  const cause = isSweepError(error) ? error.cause : undefined;
  return cause instanceof DockerCommandError && !cause.cancelled && cause.exitCode !== 125;
}

function asSweepError(error: unknown): SweepError {
  return isSweepError(error) ? error : unexpectedFailure(error);
}
