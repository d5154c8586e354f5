import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type CompileUnit, compileRun, unitKey } from '../builder/compile.js';
import { type BuilderContainer, runInBuilder, type WarmBuilder } from '../builder/container.js';
import { DockerClient } from '../builder/docker.js';
import { type BuilderImage, ensureBuilderImage } from '../builder/image.js';
import { type CacheCheck, checkCache, isHit } from '../cache/check.js';
import { commitArtifact } from '../cache/commit.js';
import { type CachePaths, cachePaths } from '../cache/paths.js';
import { cargoTreeFailed } from '../cargo/errors.js';
import { featureTreeCommand, parseFeatureTree } from '../cargo/feature-tree.js';
import { planCargoRuns } from '../cargo/runs.js';
import { type CargoWorkspace, readCargoWorkspace } from '../cargo/workspace.js';
import { canonicalJson } from '../fingerprint/fingerprint.js';
import { inputSnapshotChanges } from '../fingerprint/inputs.js';
import { packageZip } from '../package/pool.js';
import { describeBinaryFacts, verifyArtifact } from '../package/verify.js';
import type { RemoteCache } from '../remote/cache.js';
import { writeFileAtomic } from '../support/atomic-write.js';
import { asSweepError, isSweepError, type SweepError } from '../support/errors.js';
import { formatBytes, type Reporter } from '../support/reporter.js';
import { formatTimings, type StageName, StageTimer } from '../support/stage-timer.js';
import { buildInterrupted, missingOutcome, sourcesKeptChanging } from './errors.js';
import { reportHit } from './report.js';
import type { Settled } from './result.js';

/*
 * The cold path for every artifact that missed both caches:
 *
 *   batches:    artifacts that share workspace, cache domain, toolchain image, builder recipe,
 *               target triple, profile and build variables
 *   per batch:  builder image -> rounds of cargo runs
 *   per round:  cargo tree (which functions may share a run) -> one `cargo build --keep-going`
 *               per run: a function that does not compile is named, the others are built
 *   per artifact, after its run: the inputs checked again -> package -> verify -> commit (zip,
 *               then metadata) -> publish to the shared cache
 *
 * Batching never changes an artifact's bytes: cargo unifies features across the packages of one
 * invocation, so only functions whose resolved features agree on every package they share go in
 * one run (cargo/runs.ts decides, from `cargo tree`), and two packages with binaries of the same
 * name never do.
 *
 * A zip is committed only under the fingerprint of the sources it was built from. Cargo reads the
 * sources while it compiles, so a file saved meanwhile is compiled in; after the run each
 * artifact's inputs are looked at again (a stat each, through the hash index), and if any was
 * written, added or removed since its fingerprint was taken, the binary is thrown away and the
 * function is compiled again in the next round from its new fingerprint (at most
 * MAX_COMPILE_ROUNDS rounds; then nothing is committed and the error says why).
 */
export interface BatchContext {
  readonly reporterFor: (prefix: string) => Reporter;
  readonly timerOf: (check: CacheCheck) => StageTimer;
  readonly remote: (check: CacheCheck) => RemoteCache | undefined;
  readonly signal?: AbortSignal;
  /** Where cargo runs (EngineRun.builder). @default a fresh builder container per command */
  readonly builder?: WarmBuilder;
}

export interface BuildOutcome {
  /** The check the artifact came in with (its zip path names it). */
  readonly check: CacheCheck;
  readonly settled: Settled;
}

/** How many times a function is compiled while its sources keep changing during the compile. */
export const MAX_COMPILE_ROUNDS = 3;

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

/** An artifact on its way through the rounds: the check it came in with, and its latest. */
interface Pending {
  readonly original: CacheCheck;
  readonly check: CacheCheck;
}

async function buildBatch(checks: readonly CacheCheck[], context: BatchContext): Promise<BuildOutcome[]> {
  const { options } = checks[0]!;
  const reporter = context.reporterFor(checks.map((c) => c.name).join(', '));
  const settled = new Map<CacheCheck, Settled>();
  const settle = (pending: Pending, outcome: Settled) => settled.set(pending.original, outcome);
  // The stages the batch's artifacts share (builder image, cargo tree): each artifact's timings get them too.
  const shared = new StageTimer();
  const time = <T>(stage: StageName, work: () => Promise<T>): Promise<T> => shared.timeAsync(stage, work);

  try {
    const docker = new DockerClient(options.dockerCommand);
    const image = await time('builder-image', async () => {
      if (context.builder) return context.builder.builderImage(docker, options, reporter, context.signal);
      await docker.ensureEngine();
      return ensureBuilderImage(docker, options, reporter, context.signal);
    });
    const cache = cachePaths(options);
    const container: BuilderContainer = {
      docker,
      image: image.tag,
      imageId: image.id,
      options,
      cache,
      artifactKeys: checks.map((c) => c.paths.key),
      reporter,
      signal: context.signal,
      warm: context.builder,
    };

    let pending: Pending[] = checks.map((check) => ({ original: check, check }));
    for (let round = 1; pending.length > 0; round++) {
      const next: Pending[] = [];
      const units = uniqueUnits(pending.map((p) => p.check));
      const plan =
        units.length === 1
          ? { runs: [units], failed: new Map() }
          : await time('features', () => planRuns(units, pending, container, cache));
      for (const p of pending) {
        const failure = plan.failed.get(unitKey(unitOf(p.check)));
        if (failure) settle(p, { error: failure });
      }
      for (const run of plan.runs) {
        const members = pending.filter((p) => run.some((unit) => unitKey(unit) === unitKey(unitOf(p.check))));
        let built: Map<string, Uint8Array | SweepError>;
        const started = performance.now();
        try {
          built = await compileRun({ ...container, artifactKeys: members.map((p) => p.check.paths.key) }, run, options);
        } catch (error) {
          for (const p of members) settle(p, { error: context.signal?.aborted ? buildInterrupted(error) : asSweepError(error) });
          continue;
        }
        // The batch's stages, and this run's compile (not the earlier runs' of a split batch).
        const stages = { ...shared.stagesMs(), compile: performance.now() - started };
        // issue 22: the run's functions are packaged at once, on every core (package/pool.ts), and
        // checked again against one read of the workspace (its shared crates walked once).
        const finishing: Promise<void>[] = [];
        const workspaceNow = new Map<string, CargoWorkspace>();
        for (const p of members) {
          const binary = built.get(unitKey(unitOf(p.check)))!;
          if (isSweepError(binary)) {
            settle(p, { error: binary });
            continue;
          }
          const after = checkAgain(p.check, workspaceNow);
          if (isSweepError(after)) {
            settle(p, { error: after });
            continue;
          }
          const changed = inputSnapshotChanges(p.check.inputSnapshot, after.inputSnapshot);
          if (changed.length === 0) {
            finishing.push(finishArtifact(p.check, binary, image, stages, context).then((outcome) => void settle(p, outcome)));
          } else if (isHit(after)) {
            // Changed and changed back: the committed zip is the build of these very sources.
            settle(p, { result: reportHit(after, context.timerOf(p.original), context.reporterFor(after.name)) });
          } else if (round >= MAX_COMPILE_ROUNDS) {
            settle(p, { error: sourcesKeptChanging(round, changed) });
          } else {
            context
              .reporterFor(p.check.name)
              .line(`sources changed during the compile (${listed(changed)}): not committed, compiling again (round ${round + 1})`);
            next.push({ original: p.original, check: after });
          }
        }
        await Promise.all(finishing);
      }
      pending = next;
    }
  } catch (error) {
    for (const check of checks)
      if (!settled.has(check)) settled.set(check, { error: context.signal?.aborted ? buildInterrupted(error) : asSweepError(error) });
  }
  return checks.map((check) => ({ check, settled: settled.get(check) ?? { error: missingOutcome(check.name) } }));
}

/**
 * The artifact's check made again now, with the hash index: a stat per unchanged input.
 * `workspaces`: the workspaces read since the compile, by root, read once for all its re-checks.
 */
function checkAgain(check: CacheCheck, workspaces: Map<string, CargoWorkspace>): CacheCheck | SweepError {
  try {
    const root = check.options.workspace;
    const workspace = workspaces.get(root) ?? readCargoWorkspace(root, check.options.origin);
    workspaces.set(root, workspace);
    return checkCache(check.options, { workspace });
  } catch (error) {
    return asSweepError(error);
  }
}

function listed(files: readonly string[]): string {
  return files.length > 3 ? `${files.slice(0, 3).join(', ')} and ${files.length - 3} more` : files.join(', ');
}

/** Package, verify, commit and publish one artifact; its failure is its own. */
async function finishArtifact(
  check: CacheCheck,
  binary: Uint8Array,
  image: BuilderImage,
  shared: Readonly<Partial<Record<StageName, number>>>,
  context: BatchContext,
): Promise<Settled> {
  const reporter = context.reporterFor(check.name);
  const timer = context.timerOf(check);
  try {
    for (const [stage, ms] of Object.entries(shared) as [StageName, number][]) timer.add(stage, ms);
    // The deflate's own time (not the wait for a free worker): the stages add up to CPU time.
    const { zip, sha256, ms } = await packageZip(binary);
    timer.add('package', ms);
    reporter.line(
      // The hash shortened, as the fingerprint is: the full values are in the metadata and `status`.
      `package: ${check.paths.zipForDisplay} ${formatBytes(zip.byteLength)} (binary ${formatBytes(binary.byteLength)}) sha256 ${sha256.toString('hex').slice(0, 12)}`,
    );
    const facts = timer.time('verify', () => verifyArtifact(zip, binary, check.options));
    reporter.line(`verify: ${describeBinaryFacts(facts, check.options.runtime)}`);

    context.signal?.throwIfAborted();
    const previous = check.metadata.status === 'ok' ? check.metadata.metadata : undefined;
    const metadata = commitArtifact({
      check,
      zip,
      sha256,
      facts,
      builderImage: { tag: image.tag, id: image.id },
      origin: { kind: 'build', cacheDomain: cachePaths(check.options).domain },
      timingsMs: timer.results(),
    });
    const sameBytes = previous?.zip.sha256 === metadata.zip.sha256;
    if (check.options.forceRebuild && previous?.fingerprint === metadata.fingerprint) {
      reporter.line(
        sameBytes
          ? 'reproducible: the forced rebuild gave a byte-identical zip'
          : `not reproducible: the forced rebuild of unchanged inputs gave a different zip (sha256 ${previous.zip.sha256Base64} -> ${metadata.zip.sha256Base64})`,
      );
    }
    const remote = context.remote(check);
    if (remote?.mode === 'read-write') await remote.publish(check, zip, metadata, reporter);
    const timingsMs = timer.results();
    reporter.line(
      `done: cache-miss, ${sameBytes ? `unchanged bytes in ${check.paths.zipForDisplay}` : `rebuilt ${check.paths.zipForDisplay}`}: ${formatTimings(timingsMs)}`,
    );
    return {
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
    return { error: context.signal?.aborted ? buildInterrupted(error) : asSweepError(error) };
  }
}

function unitOf(check: CacheCheck): CompileUnit {
  return {
    package: check.package.name,
    packageDir: check.package.dir,
    binary: check.options.binary,
    features: check.options.features,
    label: check.name,
  };
}

/** One compile unit per distinct (package, binary, features): two artifacts of the same unit share its binary. */
function uniqueUnits(checks: readonly CacheCheck[]): CompileUnit[] {
  const units = new Map<string, CompileUnit>();
  for (const check of checks) units.set(unitKey(unitOf(check)), unitOf(check));
  return [...units.values()];
}

interface RunPlan {
  readonly runs: CompileUnit[][];
  /** Units whose `cargo tree` failed, by unit key: their functions' errors (the others go on). */
  readonly failed: ReadonlyMap<string, SweepError>;
}

/**
 * Which units may share a cargo run, from the features cargo resolves for each (`cargo tree`,
 * run once in one container for every unit not yet known, and cached by the manifests' state:
 * features depend on manifests, the lock file and the settings, never on sources, so an edit
 * of a source file does not ask cargo again). Each unit's cargo tree runs on its own in that
 * container: one function's bad feature fails its own tree, not its neighbours'.
 */
async function planRuns(
  units: readonly CompileUnit[],
  pending: readonly Pending[],
  container: BuilderContainer,
  cache: CachePaths,
): Promise<RunPlan> {
  const checkOf = (unit: CompileUnit) => pending.find((p) => unitKey(unitOf(p.check)) === unitKey(unit))!.check;
  const namesOf = (unit: CompileUnit) => pending.filter((p) => unitKey(unitOf(p.check)) === unitKey(unit)).map((p) => p.check.name);
  const cacheFile = (unit: CompileUnit) => path.join(cache.features, `${featureKey(checkOf(unit), unit)}.txt`);
  const trees = new Map<string, string>();
  const failed = new Map<string, SweepError>();
  const unknown: CompileUnit[] = [];
  for (const unit of units) {
    const cached = readIfFile(cacheFile(unit));
    if (cached === undefined) unknown.push(unit);
    else trees.set(unitKey(unit), cached);
  }
  if (unknown.length > 0) {
    container.reporter.line(`features: asking cargo which features each of ${unknown.length} functions resolves (cargo tree)`);
    const marker = `sweep-feature-tree-${process.pid}`;
    // Per unit: its tree on stdout, then `<marker> <exit code>`, then its stderr, each line marked.
    const script = unknown
      .map(
        (unit) =>
          `${shellQuote(featureTreeCommand(unit, container.options.targetTriple))} 2>/tmp/sweep-tree-stderr; echo "${marker} $?"; sed 's/^/${marker}-stderr /' /tmp/sweep-tree-stderr`,
      )
      .join('; ');
    const output = await runInBuilder(container, 'features', ['sh', '-c', script], true);
    const sections = splitTreeOutput(output, marker);
    unknown.forEach((unit, i) => {
      const section = sections[i] ?? { tree: '', exitCode: undefined, stderr: [] };
      for (const line of section.stderr) container.reporter.stream('features')(line);
      if (section.exitCode === 0) {
        trees.set(unitKey(unit), section.tree);
        writeFileAtomic(cacheFile(unit), section.tree);
      } else {
        failed.set(unitKey(unit), cargoTreeFailed(namesOf(unit).join(', '), section.exitCode, section.stderr.join('\n')));
      }
    });
  }
  const plan = planCargoRuns(
    units
      .filter((unit) => !failed.has(unitKey(unit)))
      .map((unit) => ({ ...unit, packageBinaries: checkOf(unit).package.binaries, name: checkOf(unit).name })),
    (unit) => parseFeatureTree(trees.get(unitKey(unit)) ?? ''),
  );
  for (const split of plan.splits) container.reporter.line(`batch: ${split}`);
  return { runs: plan.runs.map((run) => run.map((planned) => unitOf(checkOf(planned)))), failed };
}

/** The output of the per-unit cargo tree script, one section per unit. */
export function splitTreeOutput(
  output: string,
  marker: string,
): { readonly tree: string; readonly exitCode: number | undefined; readonly stderr: string[] }[] {
  const sections: { tree: string; exitCode: number | undefined; stderr: string[] }[] = [];
  let tree: string[] = [];
  let current: { tree: string; exitCode: number | undefined; stderr: string[] } | undefined;
  const stderrPrefix = `${marker}-stderr `;
  for (const line of output.split('\n')) {
    const exit = line.startsWith(`${marker} `) ? Number(line.slice(marker.length + 1)) : undefined;
    if (exit !== undefined) {
      current = { tree: tree.join('\n'), exitCode: Number.isInteger(exit) ? exit : undefined, stderr: [] };
      sections.push(current);
      tree = [];
    } else if (line.startsWith(stderrPrefix) && current) {
      current.stderr.push(line.slice(stderrPrefix.length));
    } else if (line !== '' || tree.length > 0) {
      current = undefined;
      tree.push(line);
    }
  }
  return sections;
}

/** What the resolved features of a unit depend on: the settings, the manifests and lock file, the unit. */
function featureKey(check: CacheCheck, unit: CompileUnit): string {
  // (Cargo.lock is an input as a file, or as the entries the function reaches: `Cargo.lock//<name>`.)
  const manifests = [...check.fingerprint.inputs].filter(([file]) =>
    /(^|\/)(Cargo\.toml|Cargo\.lock)$|^\.cargo\/|^Cargo\.lock\/\//.test(file),
  );
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
