import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResolvedArtifactOptions } from '../build/options/resolve.js';
import { startCpuBusyMeter } from './cpu-busy.js';
import {
  artifactTarget,
  cargoFinishedMs,
  compiledCrates,
  type EngineRun,
  ensureRecorded,
  runBreakdown,
  sumBreakdowns,
} from './engine-run.js';
import { generateManyFunctionWorkspace, SHARED_CRATE_FILE, SHARED_REVISION_ANCHOR } from './generate-workspace.js';
import { type BenchProject, EXAMPLE_WORKSPACE, makeBenchProject, makeTempDir, wipeProjectState } from './project.js';
import type { Context, ScenarioResult } from './scenarios.js';
import { formatBreakdown, formatMs, formatPercent, median, medianBreakdown } from './stats.js';

/**
 * Many functions (issue 11): four functions of one workspace over shared crates, built
 *
 * - batched: one `ensureArtifacts` call with the four options: one builder container for
 *   `cargo tree` (which features each function resolves; cached by the manifests' state, so only
 *   when they change) and one for a single `cargo build -p fn-a --bin fn-a -p fn-b ...`;
 * - sequential: four `ensureArtifact` calls, one after the other: four containers, four cargo
 *   runs (today's path for a construct per function, and the old engine's only path).
 *
 * Same run, two projects (each with its own target folder), measured alternately: cold (no
 * dist/, no .cache/: no target folder, no feature cache; the builder image present, as it is
 * after the first build on a machine) and an edit of the shared crate (sweep-core, which every
 * function depends on, so all four miss).
 */
export const MANY_FUNCTIONS = 4;

interface Side {
  readonly label: 'batched' | 'sequential';
  readonly project: BenchProject;
  readonly targets: ResolvedArtifactOptions[];
  readonly result: { cold: ScenarioResult; edit: ScenarioResult };
  readonly breakdowns: { cold: Record<string, number>[]; edit: Record<string, number>[] };
  /** Share of both cores' time that was busy during each measured run (cpu-busy.ts). */
  readonly cpuBusy: { cold: number[]; edit: number[] };
}

export async function manyFunctionsScenario(
  ctx: Context,
  results: { batchedCold: ScenarioResult; sequentialCold: ScenarioResult; batchedEdit: ScenarioResult; sequentialEdit: ScenarioResult },
): Promise<void> {
  const source = makeTempDir('many-src');
  const names = generateManyFunctionWorkspace(EXAMPLE_WORKSPACE, source, MANY_FUNCTIONS);
  const sides: Side[] = (['batched', 'sequential'] as const).map((label) => {
    const project = makeBenchProject(`many-${label}`, { workspace: source });
    return {
      label,
      project,
      targets: names.map((name) => artifactTarget(project, { package: name, binary: name, name }, ctx.env)),
      result:
        label === 'batched'
          ? { cold: results.batchedCold, edit: results.batchedEdit }
          : { cold: results.sequentialCold, edit: results.sequentialEdit },
      breakdowns: { cold: [], edit: [] },
      cpuBusy: { cold: [], edit: [] },
    };
  });
  ctx.progress.line(
    `many functions: generated ${names.join(', ')} over sweep-core and sweep-lambda-runtime; batched = 1 ensureArtifacts call, sequential = ${names.length} ensureArtifact calls`,
  );
  try {
    // Cold. The order alternates, so neither side always runs on a machine the other just warmed.
    for (let i = 1; i <= ctx.counts.manyCold; i++) {
      for (const side of i % 2 === 1 ? sides : [...sides].reverse()) {
        wipeProjectState(side.project);
        await measure(ctx, side, 'cold', i, ctx.counts.manyCold);
      }
    }
    // Edit of the shared crate: every side starts from its built state.
    for (const side of sides) if (ctx.counts.manyCold === 0) await ensureAll(side);
    const file = (side: Side) => side.project.file(SHARED_CRATE_FILE);
    const original = fs.readFileSync(file(sides[0]!), 'utf8');
    for (let i = 1; i <= ctx.counts.manyEdit; i++) {
      const edited = original.replace(`${SHARED_REVISION_ANCHOR}0"`, `${SHARED_REVISION_ANCHOR}${i}"`);
      for (const side of i % 2 === 1 ? sides : [...sides].reverse()) {
        fs.writeFileSync(file(side), edited);
        await measure(ctx, side, 'edit', i, ctx.counts.manyEdit);
      }
    }
    for (const side of sides) {
      side.result.cold.breakdownMs = medianBreakdown(side.breakdowns.cold);
      side.result.edit.breakdownMs = medianBreakdown(side.breakdowns.edit);
      for (const kind of ['cold', 'edit'] as const) {
        if (side.cpuBusy[kind].length > 0) side.result[kind].details.cpuBusyMedian = median(side.cpuBusy[kind]);
      }
      for (const r of [side.result.cold, side.result.edit]) {
        r.details.functions = names;
        r.details.calls = side.label === 'batched' ? '1 ensureArtifacts([4 options])' : '4 ensureArtifact(options) in turn';
      }
    }
    results.batchedEdit.details.edit = `the constant BENCH_REVISION in rust/${SHARED_CRATE_FILE} (sweep-core, a dependency of every function)`;
  } finally {
    for (const side of sides) side.project.remove();
  }
}

async function ensureAll(side: Side): Promise<EngineRun[]> {
  if (side.label === 'batched') return [await ensureRecorded(side.targets)];
  const runs: EngineRun[] = [];
  for (const target of side.targets) runs.push(await ensureRecorded([target]));
  return runs;
}

async function measure(ctx: Context, side: Side, kind: 'cold' | 'edit', i: number, of: number): Promise<void> {
  const done = ctx.progress.iteration(`many functions, ${kind}, ${side.label}`, i, of);
  const cpuBusy = startCpuBusyMeter();
  const started = performance.now();
  const runs = await ensureAll(side);
  const ms = performance.now() - started;
  const busy = cpuBusy();
  const results = runs.flatMap((run) => run.results);
  const notBuilt = results.filter((r) => r.via !== 'build');
  if (notBuilt.length > 0) throw new Error(`${side.label} ${kind} ${i}: ${notBuilt.map((r) => r.name).join(', ')} not rebuilt`);
  if (kind === 'edit' && !results.every((r) => r.explanation.includes(path.basename(SHARED_CRATE_FILE))))
    throw new Error(`${side.label} edit ${i}: a miss does not name ${SHARED_CRATE_FILE}: ${results.map((r) => r.explanation).join('; ')}`);
  const breakdown = sumBreakdowns(runs.map(runBreakdown));
  // Builder containers started: one per `cargo tree` (features) and one per `cargo build`.
  const containers = runs.reduce(
    (n, run) => n + run.lines.filter((l) => /\] (features: asking cargo|compile: cargo build)\b/.test(l)).length,
    0,
  );
  side.result[kind].samplesMs.push(ms);
  side.breakdowns[kind].push(breakdown);
  if (busy !== undefined) side.cpuBusy[kind].push(busy);
  const recompiled = runs.flatMap((run) => compiledCrates(run.lines));
  // cargo's own time in each of its runs (one batched; one per function in turn).
  const cargoRuns = runs.map((run) => formatMs(cargoFinishedMs(run.lines) ?? Number.NaN)).join(' + ');
  const busyText = busy === undefined ? '' : `, CPUs busy ${formatPercent(busy)}`;
  done(
    ms,
    `${containers} builder containers, cargo ${cargoRuns}${busyText}; ${formatBreakdown(breakdown)}; compiled ${recompiled.join(', ')}`,
  );
  side.result[kind].details.lastCargoRuns = cargoRuns;
  side.result[kind].details.builderContainers = containers;
  side.result[kind].details.lastRecompiled = recompiled;
}
