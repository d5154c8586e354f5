import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { execaSync } from 'execa';
import { builderRecipe } from '../build/builder/recipe.js';
import { artifactMetadataSchema } from '../build/cache/metadata.js';
import {
  BENCH_BUILDER_REPOSITORY,
  DOCKER,
  dockerServerVersion,
  imageId,
  removeCreatedImages,
  removeCreatedImagesSync,
  toolchainVersion,
} from './docker.js';
import { appTargets } from './engine-run.js';
import { type FleetResults, fleetScenario } from './fleet.js';
import { FLEET_SIZE } from './fleet-workspace.js';
import { measureInvokeApiOverhead } from './invoke-api.js';
import { MANY_FUNCTIONS, manyFunctionsScenario } from './many-functions.js';
import { Progress } from './progress.js';
import { type BenchProject, makeBenchProject, REPO_ROOT, removeAllProjects } from './project.js';
import { remoteScenario } from './remote-scenario.js';
import { judge, ratioOf, renderBreakdowns, renderTable, renderTargets, type TargetResult } from './report.js';
import {
  BIG_ZIP_BYTES,
  baselineScenario,
  bigZipCheckScenario,
  type Context,
  type Counts,
  cleanEnvironment,
  coldScenario,
  configScenario,
  editScenario,
  ensureBuilt,
  hotCheckScenario,
  hotSynthScenarios,
  newResult,
  runScenario,
  runScenarioGroup,
  type ScenarioResult,
  scalingScenario,
  TOOLCHAIN_IMAGE,
  warmScenario,
} from './scenarios.js';
import { signingScenario } from './signing.js';
import { startupScenario } from './startup.js';
import { formatBreakdown, formatElapsed, formatMs, formatPercent, formatRatio, round } from './stats.js';
import { watchLoopScenario } from './watch-loop.js';

/**
 * `npm run bench [-- --quick] [-- --only=hot,scaling]`: the benchmark of the build engine against
 * the old flow (see bench/README.md). Prints progress on stderr, the table, the targets and the
 * notes on stdout, and writes the same data to bench/results/bench-<date>.json.
 *
 * Exit code: 0 when every scenario ran, 1 when one failed (or a precondition such as the Docker
 * engine or the toolchain image is missing). A missed performance target is reported, not an error.
 */
const SCENARIO_IDS = [
  'baseline',
  'cold',
  'warm',
  'edit',
  'hot',
  'config',
  'scaling',
  'remote',
  'many',
  'startup',
  'signing',
  'watch',
  'invoke-api',
  'fleet',
] as const;
type ScenarioId = (typeof SCENARIO_IDS)[number];

/**
 * Full-run counts: about 20 minutes here. The baseline (~20 s, the denominator of two ratios)
 * and the cold build (~1-2 min: a builder image from scratch) get few iterations; the cheap
 * scenarios many, since their medians are judged against tight thresholds on a noisy machine.
 */
const FULL: Counts = {
  baseline: 5,
  cold: 3,
  warm: 5,
  edit: 10,
  hotCheck: 50,
  hotSynth: 30,
  bigZipCheck: 20,
  config: 10,
  scaleSizes: [100, 1_000, 10_000],
  scaleFirst: 20,
  scaleRepeated: 50,
  remote: 10,
  manyCold: 2,
  manyEdit: 5,
  startupNode: 30,
  startupApp: 20,
  startupEdit: 3,
  fleetCold: 2,
  fleetHot: 15,
  fleetSynth: 5,
  fleetEdit: 3,
  signing: 500,
  watchEdit: 10,
  invokeApi: 300,
};

const QUICK: Counts = {
  baseline: 1,
  cold: 1,
  warm: 1,
  edit: 1,
  hotCheck: 5,
  hotSynth: 1,
  bigZipCheck: 3,
  config: 1,
  scaleSizes: [100, 1_000],
  scaleFirst: 1,
  scaleRepeated: 1,
  remote: 1,
  manyCold: 1,
  manyEdit: 1,
  startupNode: 2,
  startupApp: 2,
  startupEdit: 1,
  fleetCold: 1,
  fleetHot: 3,
  fleetSynth: 1,
  fleetEdit: 1,
  signing: 50,
  watchEdit: 1,
  invokeApi: 30,
};

// Targets (medians, same run).
const HOT_CHECK_MAX_MS = 50;
const HOT_SYNTH_MAX_RATIO = 1.3;
const HOT_MIN_SPEEDUP = 100;
const EDIT_MIN_SPEEDUP = 5;
const SCALE_SIZE = 10_000;
const SCALE_FIRST_MAX_MS = 1000;
const SCALE_REPEATED_MAX_MS = 150;
const STATUS_MAX_RATIO = 3;
const APP_MAX_RATIO = 1.5;
const REMOTE_MAX_MS = 2000;
const REMOTE_MIN_SPEEDUP = 10;
const MANY_EDIT_MAX_RATIO = 0.5;
const BIG_ZIP_MAX_MS = 15;
const FLEET_STATUS_MAX_RATIO = 4;
const FLEET_ONE_MAX_RATIO = 3;
const FLEET_COLD_MAX_RATIO = 2.5;
const SIGNATURE_CHECK_MAX_MS = 1;
/** Issue 20: an edit answered through watch at most cargo's own incremental build + this. */
const WATCH_OVER_CARGO_MAX_MS = 400;
/** Issue 20: a warm invocation's overhead through the local Invoke API. */
const INVOKE_API_OVERHEAD_MAX_MS = 3;

async function main(): Promise<number> {
  let args: { quick?: boolean; only?: string; help?: boolean };
  try {
    args = parseArgs({
      args: process.argv.slice(2),
      options: { quick: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(
      'Usage: npm run bench [-- --quick] [-- --only=ID,...]\n' +
        `  --quick   1 iteration of each scenario (baseline and cold included), scaling at 100 and 1,000 files\n` +
        `  --only    run only these scenarios: ${SCENARIO_IDS.join(', ')}\n`,
    );
    return 0;
  }
  const only = new Set(
    (args.only ?? SCENARIO_IDS.join(','))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const id of only) {
    if (!(SCENARIO_IDS as readonly string[]).includes(id)) {
      process.stderr.write(`bench: unknown scenario "${id}" (scenarios: ${SCENARIO_IDS.join(', ')})\n`);
      return 2;
    }
  }
  const selected = (id: ScenarioId) => only.has(id);
  const quick = args.quick === true;
  const counts = quick ? QUICK : FULL;
  const progress = new Progress();
  const date = new Date();
  const runId = `${date.getTime().toString(36)}${process.pid.toString(36)}`;
  const ctx: Context = { counts, progress, env: cleanEnvironment(), startedMs: date.getTime(), runId };
  const loadStart = os.loadavg();

  progress.line(`sweep benchmark, ${quick ? 'quick' : 'full'} mode${args.only ? ` (only ${[...only].join(', ')})` : ''}, run ${runId}`);

  // Preconditions and machine facts.
  const errors: string[] = [];
  let dockerVersion = 'unavailable';
  let toolchain = 'unavailable';
  try {
    dockerVersion = await dockerServerVersion();
    if ((await imageId(TOOLCHAIN_IMAGE)) === undefined) {
      throw new Error(`the toolchain image ${TOOLCHAIN_IMAGE} is not present (no registry here: \`npm run toolchain:local\` builds it)`);
    }
    toolchain = await toolchainVersion(TOOLCHAIN_IMAGE);
  } catch (error) {
    errors.push(`preflight: ${(error as Error).message}`);
    progress.line(`!! preflight failed: ${(error as Error).message}`);
  }
  progress.line(`docker ${dockerVersion}, ${TOOLCHAIN_IMAGE}: ${toolchain}, node ${process.version}, ${os.cpus().length} cores`);

  const results: ScenarioResult[] = [];
  const byId = new Map<string, ScenarioResult>();
  const add = (r: ScenarioResult) => {
    results.push(r);
    byId.set(r.id, r);
    if (r.error) errors.push(`${r.label}: ${r.error}`);
  };
  /** Results filled by one body; each is added once, with the body's error if it failed. */
  const group = async (list: ScenarioResult[], body: () => Promise<void>) => {
    await runScenarioGroup(ctx, list, body);
    const failed = list.find((r) => r.error);
    for (const r of list) {
      results.push(r);
      byId.set(r.id, r);
    }
    if (failed) errors.push(`${list.map((r) => r.id).join(' / ')}: ${failed.error}`);
  };
  let engineProject: BenchProject | undefined;
  const engine = () => (engineProject ??= makeBenchProject('engine'));
  let imagesRemoved: string[] = [];
  const skipped: string[] = [];

  if (errors.length === 0) {
    try {
      if (selected('baseline'))
        add(
          await runScenario(ctx, 'baseline', 'baseline: old flow (fresh container, apt, cargo from scratch, zip)', (r) =>
            baselineScenario(ctx, r),
          ),
        );
      if (selected('cold'))
        add(await runScenario(ctx, 'cold', 'cold: engine, no caches at all (2 functions)', (r) => coldScenario(ctx, r, engine())));
      if (selected('remote')) {
        const build = newResult('remote-build', 'remote hit, fresh machine: sweep-runtime build');
        const synth = newResult('remote-synth', 'remote hit, fresh machine: synth (app command)');
        // Like the tests' describeWithS3: without Ceph the scenario is skipped (and says so),
        // unless REQUIRE_S3=1 asks for it to fail instead.
        const { cephMissingReason } = await import('../__tests__/helpers/s3-server.js');
        const missing = cephMissingReason();
        if (missing && process.env.REQUIRE_S3 !== '1') {
          progress.line(`remote: skipped (${missing}; REQUIRE_S3=1 makes this an error)`);
          skipped.push(`remote (shared cache): ${missing}`);
        } else {
          await group([build, synth], () => remoteScenario(ctx, build, synth));
        }
      }
      if (selected('warm')) add(await runScenario(ctx, 'warm', 'warm image, clean target', (r) => warmScenario(ctx, r, engine())));
      if (selected('edit'))
        add(await runScenario(ctx, 'edit', 'edit: one line in the Lambda crate', (r) => editScenario(ctx, r, engine())));
      if (selected('hot')) {
        add(
          await runScenario(ctx, 'hot-check', 'hot: engine check in-process (checkAll, 2 functions)', (r) =>
            hotCheckScenario(ctx, r, engine()),
          ),
        );
        add(
          await runScenario(ctx, 'hot-check-50mb', `hot: engine check, one function with a ${BIG_ZIP_BYTES / 2 ** 20} MiB zip`, (r) =>
            bigZipCheckScenario(ctx, r),
          ),
        );
        const hot = newResult('hot-synth', 'hot: synth of the app (node bin/run-ts.mjs main.ts)');
        const prebuilt = newResult('prebuilt-synth', 'hot: synth, prebuilt zips, engine skipped');
        await group([hot, prebuilt], () => hotSynthScenarios(ctx, hot, prebuilt, engine()));
      }
      if (selected('config'))
        add(await runScenario(ctx, 'config', 'config only: env var changed -> synth', (r) => configScenario(ctx, r, engine())));
      if (selected('startup')) {
        const r = {
          node: newResult('startup-node', 'start-up: node -e 0'),
          status: newResult('startup-status', 'start-up: sweep-runtime status'),
          plain: newResult('startup-plain', 'start-up: plain cdktf app (.mjs, 1 LambdaFunction)'),
          app: newResult('startup-app', 'start-up: app command, bundle current'),
          edit: newResult('startup-edit', 'start-up: app command after an edit of main.ts'),
        };
        await group(Object.values(r), () => startupScenario(ctx, r, engine()));
      }
      if (selected('many')) {
        const r = {
          batchedCold: newResult('many-cold-batched', `${MANY_FUNCTIONS} functions, cold: batched (1 call)`),
          sequentialCold: newResult('many-cold-sequential', `${MANY_FUNCTIONS} functions, cold: sequential (${MANY_FUNCTIONS} calls)`),
          batchedEdit: newResult('many-edit-batched', `${MANY_FUNCTIONS} functions, shared crate edit: batched`),
          sequentialEdit: newResult('many-edit-sequential', `${MANY_FUNCTIONS} functions, shared crate edit: sequential`),
        };
        await group([r.batchedCold, r.sequentialCold, r.batchedEdit, r.sequentialEdit], () => manyFunctionsScenario(ctx, r));
      }
      if (selected('fleet')) {
        const r: FleetResults = {
          node: newResult('fleet-node', 'fleet: node -e 0 (alternated with the rows below)'),
          status: newResult('fleet-status', `fleet: hot sweep-runtime status, ${FLEET_SIZE} functions`),
          one: newResult('fleet-one', 'fleet: hot sweep-runtime status --function fn050'),
          synth: newResult('fleet-synth', `fleet: hot synth (app command), ${FLEET_SIZE} functions`),
          cold: newResult('fleet-cold', `fleet: cold build of ${FLEET_SIZE} functions`),
          editMain: newResult('fleet-edit-main', "fleet: edit of one function's main.rs"),
          editManifest: newResult('fleet-edit-manifest', "fleet: edit of one member's Cargo.toml"),
          newCrate: newResult('fleet-new-crate', 'fleet: a new crate for one function (Cargo.lock changes)'),
        };
        await group(Object.values(r), () => fleetScenario(ctx, r));
      }
      if (selected('signing'))
        add(await runScenario(ctx, 'signing', 'signature: sign + verify one build (in-process)', (r) => signingScenario(ctx, r)));
      if (selected('watch')) {
        const r = {
          watch: newResult('watch-edit', 'watch: edit of the Lambda crate -> new code answering the Invoke API'),
          cargo: newResult('watch-cargo', 'watch floor: the same edit, docker exec cargo build in a warm container'),
          build: newResult('watch-build', 'no watch: the same edit, sweep-runtime build + sweep-runtime invoke'),
        };
        await group([r.watch, r.cargo, r.build], () => watchLoopScenario(ctx, r, counts.watchEdit));
      }
      if (selected('invoke-api'))
        add(
          await runScenario(ctx, 'invoke-api', 'Invoke API: warm invocation overhead (round trip - REPORT Duration)', (r) =>
            invokeApiScenario(ctx, r, engine()),
          ),
        );
      if (selected('scaling')) {
        for (const size of counts.scaleSizes) {
          const label = `${size.toLocaleString('en-US')} files`;
          const first = newResult(`scale-${size}-first`, `fast path, ${label}: first check`);
          const repeated = newResult(`scale-${size}-repeated`, `fast path, ${label}: repeated check`);
          await group([first, repeated], () => scalingScenario(ctx, size, first, repeated));
        }
      }
    } finally {
      imagesRemoved = await removeCreatedImages();
      progress.line(`removed this run's images: ${imagesRemoved.join(', ') || 'none'}`);
    }
  }

  // Cross-checks and targets.
  const baseline = byId.get('baseline');
  const baselineMs = baseline && baseline.summary.n > 0 ? baseline.summary.medianMs : undefined;
  const median = (id: string) => {
    const r = byId.get(id);
    return r && r.summary.n > 0 ? r.summary.medianMs : undefined;
  };
  if (baseline && engineProject) {
    const record = readRecordSha(engineProject);
    const shas = baseline.details.zipSha256 as string[] | undefined;
    if (record && shas && shas.length > 0) {
      const same = shas.every((s) => s === record);
      baseline.details.sameZipAsEngine = same;
      baseline.notes.push(
        same
          ? "the baseline's zip is byte-identical to the engine's for the same sources"
          : "the baseline's zip differs from the engine's for the same sources",
      );
    }
  }

  const targets = computeTargets(byId, median, baselineMs, counts);

  // Output.
  const out: string[] = [];
  out.push('');
  out.push(
    `sweep benchmark — ${quick ? 'QUICK (smoke test: 1 iteration each, small scaling sizes; numbers are indicative only)' : 'full run'} — ${date.toISOString()}`,
  );
  out.push(
    `machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; docker ${dockerVersion}; ${TOOLCHAIN_IMAGE}: ${toolchain}; node ${process.version}; load average at start ${loadStart.map((l) => l.toFixed(2)).join(' ')}, at end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  out.push('');
  out.push(renderTable(results, baselineMs));
  out.push('');
  out.push('"vs baseline" = median / baseline median; "speed-up" = baseline median / median. Times are wall clock.');
  const breakdowns = renderBreakdowns(results);
  if (breakdowns) {
    out.push('');
    out.push('Where the time goes (medians):');
    out.push(breakdowns);
  }
  out.push('');
  out.push('Targets (medians, this run):');
  out.push(renderTargets(targets));
  const notes = [
    `Pulling the toolchain image cannot be measured here (no registry is reachable): the baseline never pulls ${TOOLCHAIN_IMAGE}; on a fresh machine the old flow also pulled it, which only makes the baseline slower.`,
    'The OS page cache is warm for the scaling "first check" (the files were just generated): it measures reading + hashing from memory, not a cold disk.',
    'Shared, noisy 2-core machine: other work may run at the same time (see the load averages); medians are used for every target.',
    'The engine rows (cold, warm, edit, hot, config, remote) ensure both functions of cdktf.json (sweep-lambda and sweep-batch, one cargo run); the baseline, the old script, builds sweep-lambda alone.',
    `Every engine build uses the builder repository ${BENCH_BUILDER_REPOSITORY}; the cold rows build theirs on a one-off toolchain image (FROM ${TOOLCHAIN_IMAGE} + a random label), so Docker's layer cache has nothing to give them.`,
    ...results.flatMap((r) => r.notes.map((n) => `${r.label}: ${n}`)),
    ...skipped.map((s) => `SKIPPED: ${s}`),
  ];
  if (quick)
    notes.push(
      'Quick mode: 1 iteration of every scenario (baseline and cold included; hot check 1 warm-up + 5 calls; start-up 2 of each), scaling at 100 and 1,000 files only, so the 10,000-file targets are N/A.',
    );
  out.push('');
  out.push('Notes:');
  for (const note of notes) out.push(`  - ${note}`);
  if (errors.length > 0) {
    out.push('');
    out.push('ERRORS (the run exits non-zero):');
    for (const e of errors) out.push(`  - ${e.split('\n').join('\n    ')}`);
  }

  const resultsDir = path.join(REPO_ROOT, 'bench', 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(
    resultsDir,
    `bench-${date
      .toISOString()
      .replace(/\.\d+Z$/, 'Z')
      .replace(/:/g, '-')}.json`,
  );
  const json = {
    date: date.toISOString(),
    mode: quick ? 'quick' : 'full',
    scenariosRun: [...only],
    durationMs: Math.round(progress.elapsedMs()),
    machine: {
      cores: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      totalMemoryGiB: Math.round(os.totalmem() / 2 ** 30),
      kernel: `${os.type()} ${os.release()}`,
      loadAverageStart: loadStart,
      loadAverageEnd: os.loadavg(),
      dockerEngine: dockerVersion,
      dockerCommand: DOCKER,
      toolchainImage: TOOLCHAIN_IMAGE,
      toolchain,
      node: process.version,
    },
    iterations: counts,
    baselineMedianMs: baselineMs ?? null,
    scenarios: results.map((r) => ({
      id: r.id,
      label: r.label,
      samplesMs: r.samplesMs.map((ms) => Math.round(ms * 1000) / 1000),
      ...r.summary,
      ratioToBaseline: ratioOf(r.summary.n > 0 ? r.summary.medianMs : undefined, baselineMs),
      speedupVsBaseline: ratioOf(baselineMs, r.summary.n > 0 ? r.summary.medianMs : undefined),
      breakdownMs: r.breakdownMs ?? null,
      details: r.details,
      notes: r.notes,
      error: r.error ?? null,
    })),
    targets,
    notes,
    imagesRemovedAtEnd: imagesRemoved,
    errors,
  };
  fs.writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  out.push('');
  out.push(`Results JSON: ${path.relative(process.cwd(), file) || file}`);
  out.push(`Total time: ${formatElapsed(progress.elapsedMs())}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return errors.length > 0 ? 1 : 0;
}

function computeTargets(
  byId: ReadonlyMap<string, ScenarioResult>,
  median: (id: string) => number | undefined,
  baselineMs: number | undefined,
  counts: Counts,
): TargetResult[] {
  const targets: TargetResult[] = [];
  const hotCheck = byId.get('hot-check');
  const hotMs = median('hot-check');
  const profileText = (id: string) => {
    const b = byId.get(id)?.breakdownMs;
    return b ? `checkCache steps: ${formatBreakdown(b)}` : 'no profile';
  };
  const breakdownText = (id: string) => {
    const b = byId.get(id)?.breakdownMs;
    return b ? formatBreakdown(b) : 'n/a';
  };
  /** A ratio target `a / b` (both medians of this run). */
  const ratioTarget = (
    id: string,
    description: string,
    a: string,
    b: string,
    comparison: '<=' | '>=',
    threshold: number,
    explanation: () => string,
  ): TargetResult => {
    const am = median(a);
    const bm = median(b);
    const ratio = ratioOf(am, bm);
    return {
      id,
      description,
      value: ratio,
      unit: 'ratio',
      threshold,
      comparison,
      status: judge(ratio, comparison, threshold),
      measured: ratio !== null ? `${formatMs(am!)} / ${formatMs(bm!)} = ${formatRatio(ratio)}` : 'not measured',
      explanation: ratio !== null ? explanation() : notMeasured(byId, a, b),
    };
  };

  targets.push({
    id: 'hot-check',
    description: `hot engine check on the example workspace (every function; the zips hashed) < ${HOT_CHECK_MAX_MS} ms`,
    value: hotMs ?? null,
    unit: 'ms',
    threshold: HOT_CHECK_MAX_MS,
    comparison: '<',
    status: judge(hotMs, '<', HOT_CHECK_MAX_MS),
    measured: hotMs !== undefined ? `median ${formatMs(hotMs)} over ${hotCheck?.summary.n} calls` : 'not measured',
    explanation: hotMs !== undefined ? profileText('hot-check') : notMeasured(byId, 'hot-check'),
  });

  const bigMs = median('hot-check-50mb');
  targets.push({
    id: 'hot-check-50mb',
    description: `hot check of one function whose zip is ${BIG_ZIP_BYTES / 2 ** 20} MiB, in-process < ${BIG_ZIP_MAX_MS} ms (the zip trusted by its stat)`,
    value: bigMs ?? null,
    unit: 'ms',
    threshold: BIG_ZIP_MAX_MS,
    comparison: '<',
    status: judge(bigMs, '<', BIG_ZIP_MAX_MS),
    measured: bigMs !== undefined ? `median ${formatMs(bigMs)} over ${byId.get('hot-check-50mb')?.summary.n} calls` : 'not measured',
    explanation: bigMs !== undefined ? profileText('hot-check-50mb') : notMeasured(byId, 'hot-check-50mb'),
  });

  const synthMs = median('hot-synth');
  const prebuiltMs = median('prebuilt-synth');
  const engineInSynth = byId.get('hot-synth')?.breakdownMs?.['engine (its done: lines)'];
  targets.push(
    ratioTarget(
      'hot-synth-ratio',
      `hot synth <= ${HOT_SYNTH_MAX_RATIO}x the synth of the same stack with prebuilt zips (engine skipped)`,
      'hot-synth',
      'prebuilt-synth',
      '<=',
      HOT_SYNTH_MAX_RATIO,
      () =>
        `the engine adds ${formatMs(synthMs! - prebuiltMs!)} per synth (median difference); its own check reports ${engineInSynth !== undefined ? formatMs(engineInSynth) : 'n/a'} in-process; ${profileText('hot-check')}; the rest is loading the engine's modules`,
    ),
  );

  const hotSpeedup = ratioOf(baselineMs, hotMs);
  const synthSpeedup = ratioOf(baselineMs, synthMs);
  targets.push({
    id: 'hot-vs-baseline',
    description: `hot path >= ${HOT_MIN_SPEEDUP}x faster than the baseline (engine check in-process vs baseline total)`,
    value: hotSpeedup,
    unit: 'ratio',
    threshold: HOT_MIN_SPEEDUP,
    comparison: '>=',
    status: judge(hotSpeedup, '>=', HOT_MIN_SPEEDUP),
    measured:
      hotSpeedup !== null
        ? `baseline ${formatMs(baselineMs!)} / hot check ${formatMs(hotMs!)} = ${formatRatio(hotSpeedup)}` +
          (synthSpeedup !== null ? ` (whole hot synth: baseline / ${formatMs(synthMs!)} = ${formatRatio(synthSpeedup)})` : '')
        : 'not measured',
    explanation: hotSpeedup !== null ? profileText('hot-check') : notMeasured(byId, 'baseline', 'hot-check'),
  });

  const editMs = median('edit');
  const editSpeedup = ratioOf(baselineMs, editMs);
  targets.push({
    id: 'edit-vs-baseline',
    description: `edit path >= ${EDIT_MIN_SPEEDUP}x faster than the baseline`,
    value: editSpeedup,
    unit: 'ratio',
    threshold: EDIT_MIN_SPEEDUP,
    comparison: '>=',
    status: judge(editSpeedup, '>=', EDIT_MIN_SPEEDUP),
    measured:
      editSpeedup !== null ? `baseline ${formatMs(baselineMs!)} / edit ${formatMs(editMs!)} = ${formatRatio(editSpeedup)}` : 'not measured',
    explanation:
      editSpeedup !== null
        ? `edit stages: ${breakdownText('edit')} (compile = docker run of the builder container + cargo's incremental rebuild of sweep-lambda)`
        : notMeasured(byId, 'baseline', 'edit'),
  });

  for (const [kind, max] of [
    ['first', SCALE_FIRST_MAX_MS],
    ['repeated', SCALE_REPEATED_MAX_MS],
  ] as const) {
    const id = `scale-${SCALE_SIZE}-${kind}`;
    const ms = median(id);
    targets.push({
      id: `scale-${kind}`,
      description: `${SCALE_SIZE.toLocaleString('en-US')}-file fast path, ${kind} check < ${formatMs(max)}`,
      value: ms ?? null,
      unit: 'ms',
      threshold: max,
      comparison: '<',
      status: judge(ms, '<', max),
      measured: ms !== undefined ? `median ${formatMs(ms)} over ${byId.get(id)?.summary.n}` : 'not measured',
      explanation:
        ms !== undefined
          ? profileText(id)
          : counts.scaleSizes.includes(SCALE_SIZE)
            ? notMeasured(byId, id)
            : `quick mode does not generate ${SCALE_SIZE.toLocaleString('en-US')} files`,
    });
  }

  // Start-up (issue 12).
  targets.push(
    ratioTarget(
      'startup-status',
      `start-up: sweep-runtime status <= ${STATUS_MAX_RATIO}x node -e 0 (whole processes, hot)`,
      'startup-status',
      'startup-node',
      '<=',
      STATUS_MAX_RATIO,
      () => `status: ${breakdownText('startup-status')}`,
    ),
  );
  targets.push(
    ratioTarget(
      'startup-app',
      `start-up: the app command (bundle current) <= ${APP_MAX_RATIO}x a plain compiled cdktf app with one LambdaFunction`,
      'startup-app',
      'startup-plain',
      '<=',
      APP_MAX_RATIO,
      () => `app: ${breakdownText('startup-app')}; plain: ${breakdownText('startup-plain')}`,
    ),
  );
  const editStartMs = median('startup-edit');
  targets.push({
    id: 'startup-edit',
    description: 'start-up: first run of the app command after an edit of main.ts (the bundle rebuilt)',
    value: editStartMs ?? null,
    unit: 'ms',
    threshold: null,
    comparison: null,
    status: editStartMs !== undefined ? 'INFO' : 'N/A',
    measured:
      editStartMs !== undefined
        ? `median ${formatMs(editStartMs)} over ${byId.get('startup-edit')?.summary.n}` +
          (median('startup-app') !== undefined ? ` (hot: ${formatMs(median('startup-app')!)})` : '')
        : 'not measured',
    explanation: editStartMs !== undefined ? breakdownText('startup-edit') : notMeasured(byId, 'startup-edit'),
  });

  // Shared cache (issue 10).
  const remoteMs = median('remote-build');
  const remoteSynthMs = median('remote-synth');
  const remoteExplain = () =>
    `build: ${breakdownText('remote-build')}; synth: ${breakdownText('remote-synth')}` +
    (remoteSynthMs !== undefined ? ` (whole synth ${formatMs(remoteSynthMs)})` : '');
  targets.push({
    id: 'remote-hit-ms',
    description: `remote hit on a fresh machine (sweep-runtime build, whole process) < ${formatMs(REMOTE_MAX_MS)}`,
    value: remoteMs ?? null,
    unit: 'ms',
    threshold: REMOTE_MAX_MS,
    comparison: '<',
    status: judge(remoteMs, '<', REMOTE_MAX_MS),
    measured:
      remoteMs !== undefined
        ? `median ${formatMs(remoteMs)} over ${byId.get('remote-build')?.summary.n}` +
          (remoteSynthMs !== undefined ? `; whole synth in that state ${formatMs(remoteSynthMs)}` : '')
        : 'not measured',
    explanation: remoteMs !== undefined ? remoteExplain() : notMeasured(byId, 'remote-build'),
  });
  targets.push(
    ratioTarget(
      'remote-vs-cold',
      `remote hit >= ${REMOTE_MIN_SPEEDUP}x faster than the cold build (cold / remote build)`,
      'cold',
      'remote-build',
      '>=',
      REMOTE_MIN_SPEEDUP,
      remoteExplain,
    ),
  );
  const remoteRan = byId.get('remote-build');
  targets.push({
    id: 'remote-docker-calls',
    description: 'remote hit: zero Docker calls (SWEEP_DOCKER names a program that does not exist)',
    value: remoteRan && !remoteRan.error && remoteRan.summary.n > 0 ? 0 : null,
    unit: 'ms',
    threshold: 0,
    comparison: '<=',
    status: remoteRan && !remoteRan.error && remoteRan.summary.n > 0 ? 'PASS' : 'N/A',
    measured:
      remoteRan && !remoteRan.error && remoteRan.summary.n > 0
        ? `${remoteRan.summary.n * 2} runs (build and synth) with no Docker, every zip downloaded and verified`
        : 'not measured',
    explanation: notMeasured(byId, 'remote-build'),
  });

  // The 100-function fleet (issue 22).
  targets.push(...fleetTargets(byId, median, ratioTarget, breakdownText));
  // Signed shared cache (issue 19): what checking a signature adds to a remote hit.
  const signing = byId.get('signing');
  const verifyMs = signing && !signing.error && signing.summary.n > 0 ? signing.breakdownMs?.verify : undefined;
  targets.push({
    id: 'signature-check-ms',
    description: `signed shared cache: checking a signature adds < ${formatMs(SIGNATURE_CHECK_MAX_MS)} to a remote hit (verify, median)`,
    value: verifyMs ?? null,
    unit: 'ms',
    threshold: SIGNATURE_CHECK_MAX_MS,
    comparison: '<',
    status: judge(verifyMs, '<', SIGNATURE_CHECK_MAX_MS),
    measured:
      verifyMs !== undefined
        ? `median ${formatMs(verifyMs)} over ${signing?.summary.n} (sign + verify ${formatMs(signing!.summary.medianMs)})`
        : 'not measured',
    explanation: verifyMs !== undefined ? breakdownText('signing') : notMeasured(byId, 'signing'),
  });

  // Many functions (issue 11).
  const manyStages = (id: string) => {
    const details = byId.get(id)?.details;
    const busy = typeof details?.cpuBusyMedian === 'number' ? `, CPUs busy ${formatPercent(details.cpuBusyMedian)} of the run` : '';
    const containers = details?.builderContainers ?? '?';
    return `${containers} container${containers === 1 ? '' : 's'}${busy}: ${breakdownText(id)}`;
  };
  targets.push(
    ratioTarget(
      'many-edit',
      `${MANY_FUNCTIONS} functions, edit of the shared crate: batched <= ${MANY_EDIT_MAX_RATIO}x sequential`,
      'many-edit-batched',
      'many-edit-sequential',
      '<=',
      MANY_EDIT_MAX_RATIO,
      () => `batched ${manyStages('many-edit-batched')}; sequential ${manyStages('many-edit-sequential')}`,
    ),
  );
  const coldRatio = ratioTarget(
    'many-cold',
    `${MANY_FUNCTIONS} functions, cold: batched / sequential (no target)`,
    'many-cold-batched',
    'many-cold-sequential',
    '<=',
    1,
    () => `batched ${manyStages('many-cold-batched')}; sequential ${manyStages('many-cold-sequential')}`,
  );
  targets.push({ ...coldRatio, threshold: null, comparison: null, status: coldRatio.value !== null ? 'INFO' : 'N/A' });

  // The inner loop (issue 20).
  const watchMs = median('watch-edit');
  const floorMs = median('watch-cargo');
  const overFloor = watchMs !== undefined && floorMs !== undefined ? round(watchMs - floorMs) : undefined;
  targets.push({
    id: 'watch-over-cargo',
    description: `watch: edit -> new code answering <= cargo's own incremental build in a warm container + ${formatMs(WATCH_OVER_CARGO_MAX_MS)}`,
    value: overFloor ?? null,
    unit: 'ms',
    threshold: WATCH_OVER_CARGO_MAX_MS,
    comparison: '<=',
    status: judge(overFloor, '<=', WATCH_OVER_CARGO_MAX_MS),
    measured:
      overFloor !== undefined ? `${formatMs(watchMs!)} - ${formatMs(floorMs!)} = ${formatMs(overFloor)} over cargo` : 'not measured',
    explanation:
      overFloor !== undefined
        ? `watch: ${breakdownText('watch-edit')}; floor: ${breakdownText('watch-cargo')}`
        : notMeasured(byId, 'watch-edit', 'watch-cargo'),
  });
  const noWatch = ratioTarget(
    'watch-vs-build',
    'watch against build + invoke for the same edit (no target)',
    'watch-build',
    'watch-edit',
    '>=',
    1,
    () => `build + invoke: ${breakdownText('watch-build')}`,
  );
  targets.push({
    ...noWatch,
    threshold: null,
    comparison: null,
    status: noWatch.value !== null ? 'INFO' : 'N/A',
    measured: noWatch.value !== null ? `${noWatch.measured.replace(/ = .*/, '')} = ${formatRatio(noWatch.value)} faster` : noWatch.measured,
  });
  const invokeMs = median('invoke-api');
  const invokeRun = byId.get('invoke-api');
  targets.push({
    id: 'invoke-api-overhead',
    description: `Invoke API: a warm invocation's overhead over the handler's own time <= ${formatMs(INVOKE_API_OVERHEAD_MAX_MS)}`,
    value: invokeMs ?? null,
    unit: 'ms',
    threshold: INVOKE_API_OVERHEAD_MAX_MS,
    comparison: '<=',
    status: judge(invokeMs, '<=', INVOKE_API_OVERHEAD_MAX_MS),
    measured:
      invokeMs !== undefined
        ? `median ${formatMs(invokeMs)} over ${invokeRun?.summary.n} (round trip ${formatMs(invokeRun?.details.roundTripMedianMs as number)}, handler ${formatMs(invokeRun?.details.handlerMedianMs as number)})`
        : 'not measured',
    explanation:
      invokeMs !== undefined
        ? 'HTTP in and out, finding the function and an idle environment, handing the event over'
        : notMeasured(byId, 'invoke-api'),
  });
  return targets;
}

/** A warm invocation through the Invoke API, with sweep-lambda's zip built in the project (bench/invoke-api.ts). */
async function invokeApiScenario(ctx: Context, result: ScenarioResult, project: BenchProject): Promise<void> {
  await ensureBuilt(ctx, project);
  const zipPath = path.join(project.dist, 'sweep-lambda.zip');
  const metadata = artifactMetadataSchema.parse(JSON.parse(fs.readFileSync(path.join(project.dist, 'sweep-lambda.json'), 'utf8')));
  const builderImage = builderRecipe(appTargets(project, ctx.env).find((options) => options.name === 'sweep-lambda')!).tag;
  const measured = await measureInvokeApiOverhead({ zipPath, metadata, builderImage }, { iterations: ctx.counts.invokeApi });
  result.samplesMs.push(...measured.overheadSamplesMs);
  result.details.roundTripMedianMs = measured.roundTrip.medianMs;
  result.details.handlerMedianMs = measured.handler.medianMs;
  result.breakdownMs = { 'round trip': measured.roundTrip.medianMs, 'handler (REPORT Duration)': measured.handler.medianMs };
  ctx.progress.line(
    `invoke-api: median overhead ${formatMs(measured.medianOverheadMs)} over ${measured.overhead.n} warm invocations (round trip ${formatMs(measured.roundTrip.medianMs)})`,
  );
}

type RatioTarget = (
  id: string,
  description: string,
  a: string,
  b: string,
  comparison: '<=' | '>=',
  threshold: number,
  explanation: () => string,
) => TargetResult;

function fleetTargets(
  byId: ReadonlyMap<string, ScenarioResult>,
  median: (id: string) => number | undefined,
  ratioTarget: RatioTarget,
  breakdownText: (id: string) => string,
): TargetResult[] {
  const targets: TargetResult[] = [];
  const synth = byId.get('fleet-synth');
  const prebuilt = synth?.details.prebuiltSynthMs;
  targets.push(
    ratioTarget(
      'fleet-status',
      `fleet: hot status of ${FLEET_SIZE} functions <= ${FLEET_STATUS_MAX_RATIO}x node -e 0 (whole processes, alternated)`,
      'fleet-status',
      'fleet-node',
      '<=',
      FLEET_STATUS_MAX_RATIO,
      () => `the ${FLEET_SIZE} checks in-process: ${breakdownText('fleet-status')}; the rest is Node, loading the bundle and printing`,
    ),
    ratioTarget(
      'fleet-synth',
      `fleet: hot synth of ${FLEET_SIZE} functions <= ${FLEET_STATUS_MAX_RATIO}x node -e 0`,
      'fleet-synth',
      'fleet-node',
      '<=',
      FLEET_STATUS_MAX_RATIO,
      () =>
        `the same stack with prebuilt zips (engine skipped) takes ${typeof prebuilt === 'number' ? formatMs(prebuilt) : 'n/a'}: cdktf building and synthesizing ${FLEET_SIZE} functions and copying their assets; the engine's checks: ${breakdownText('fleet-status')}`,
    ),
    ratioTarget(
      'fleet-one',
      `fleet: hot status --function fn050 <= ${FLEET_ONE_MAX_RATIO}x node -e 0`,
      'fleet-one',
      'fleet-node',
      '<=',
      FLEET_ONE_MAX_RATIO,
      () => `its check in-process: ${breakdownText('fleet-one')}; the rest is Node and the bundle`,
    ),
  );
  const cold = byId.get('fleet-cold');
  const b = cold?.breakdownMs;
  const coldMs = median('fleet-cold');
  const cores = typeof cold?.details.cores === 'number' ? cold.details.cores : 2;
  const ratio = b && coldMs !== undefined && b.compile ? coldMs / b.compile : null;
  // Packaging's CPU: the engine process's own CPU time (every thread) over the run, which is the
  // packaging workers' plus the checks' and commits'; the workers' summed wall time overstates it
  // when other work shares the cores.
  const packageCpu = b ? Math.min(b['engine CPU (all threads)'] ?? Number.POSITIVE_INFINITY, b['package (workers, summed)'] ?? 0) : 0;
  const floor = b ? (b['builder-image'] ?? 0) + (b.features ?? 0) + b.compile + packageCpu / cores : undefined;
  targets.push({
    id: 'fleet-cold',
    description: `fleet: cold build of ${FLEET_SIZE} functions, total <= ${FLEET_COLD_MAX_RATIO}x its compile stage`,
    value: ratio,
    unit: 'ratio',
    threshold: FLEET_COLD_MAX_RATIO,
    comparison: '<=',
    status: judge(ratio ?? undefined, '<=', FLEET_COLD_MAX_RATIO),
    measured: ratio !== null ? `${formatMs(coldMs!)} / compile ${formatMs(b!.compile!)} = ${formatRatio(ratio)}` : 'not measured',
    explanation:
      ratio !== null && b && floor !== undefined
        ? `${breakdownText('fleet-cold')}. CPU arithmetic: packaging takes ${formatMs(packageCpu)} of CPU (${formatMs(packageCpu / FLEET_SIZE)} per function), so ${formatMs(packageCpu / cores)} of wall time on ${cores} cores at best, against a compile stage of ${formatMs(b.compile!)} (at most ${formatMs(b.compile! * cores)} of CPU); with the image check and cargo tree the total cannot be under ${formatMs(floor)} = ${formatRatio(floor / b.compile!)} of the compile stage here${floor / b.compile! > FLEET_COLD_MAX_RATIO ? ` (out of reach on ${cores} cores: it would need packaging under ${formatMs(Math.max(0, FLEET_COLD_MAX_RATIO * b.compile! - (floor - packageCpu / cores)) * cores)} of CPU)` : ''}; deflate levels measured on one binary: ${JSON.stringify(cold?.details.deflateLevels ?? {})}`
        : notMeasured(byId, 'fleet-cold'),
  });
  for (const [id, what] of [
    ['fleet-edit-main', "one function's main.rs"],
    ['fleet-edit-manifest', "another member's manifest"],
    ['fleet-new-crate', 'a new crate for one function'],
  ] as const) {
    const ms = median(id);
    const r = byId.get(id);
    targets.push({
      id,
      description: `fleet: edit of ${what}: 1 miss, 1 cargo run, ${FLEET_SIZE - 1} hits (asserted each run; no time target)`,
      value: ms ?? null,
      unit: 'ms',
      threshold: null,
      comparison: null,
      status: ms !== undefined ? 'INFO' : 'N/A',
      measured: ms !== undefined ? `median ${formatMs(ms)} over ${r?.summary.n}; ${String(r?.details.explanation ?? '')}` : 'not measured',
      explanation: ms !== undefined ? `the miss: ${breakdownText(id)}` : notMeasured(byId, id),
    });
  }
  return targets;
}

function notMeasured(byId: ReadonlyMap<string, ScenarioResult>, ...ids: string[]): string {
  const reasons = ids.flatMap((id) => {
    const r = byId.get(id);
    if (!r) return [`${id} was not run`];
    if (r.error) return [`${id} failed: ${r.error.split('\n')[0]}`];
    return r.summary.n > 0 ? [] : [`${id} has no samples`];
  });
  return reasons.join('; ');
}

function readRecordSha(project: BenchProject): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(project.dist, 'sweep-lambda.json'), 'utf8')) as { zip: { sha256: string } }).zip.sha256;
  } catch {
    return undefined;
  }
}

/** On Ctrl-C: remove this run's containers, images and temp folders, then stop. */
function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\nbench: ${signal}: removing this run's containers, images and temp folders\n`);
  try {
    // The baseline's containers and the engine's (named sweep-<stage>-<key>-<pid>-<n>).
    const ids = execaSync(DOCKER, ['ps', '-aq', '--filter', `name=-${process.pid}-`], { reject: false }).stdout.trim();
    if (ids) execaSync(DOCKER, ['rm', '-f', ...ids.split(/\s+/)], { reject: false });
    removeCreatedImagesSync();
  } catch {
    // best effort
  }
  removeAllProjects();
  process.exit(signal === 'SIGINT' ? 130 : 143);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

let code = 1;
try {
  code = await main();
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  code = 1;
} finally {
  removeAllProjects();
}
process.exit(code);
