import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { execaSync } from 'execa';
import { DOCKER, dockerServerVersion, imageId, toolchainVersion } from './docker.js';
import { Progress } from './progress.js';
import { type BenchProject, makeBenchProject, REPO_ROOT, removeAllProjects } from './project.js';
import { judge, ratioOf, renderBreakdowns, renderTable, renderTargets, type TargetResult } from './report.js';
import {
  baselineScenario,
  type Context,
  type Counts,
  cleanEnvironment,
  coldScenario,
  configScenario,
  editScenario,
  hotCheckScenario,
  hotSynthScenarios,
  restoreBuilderImage,
  runScenario,
  type ScenarioResult,
  scalingScenario,
  TOOLCHAIN_IMAGE,
  warmScenario,
} from './scenarios.js';
import { formatBreakdown, formatElapsed, formatMs, formatRatio, summarize } from './stats.js';

/**
 * `npm run bench [-- --quick] [-- --only=hot,scaling]`: the benchmark of the build engine against
 * the old flow (see bench/README.md). Prints progress on stderr, the table, the targets and the
 * notes on stdout, and writes the same data to bench/results/bench-<date>.json.
 *
 * Exit code: 0 when every scenario ran, 1 when one failed (or a precondition such as the Docker
 * engine or the toolchain image is missing). A missed performance target is reported, not an error.
 */
const SCENARIO_IDS = ['baseline', 'cold', 'warm', 'edit', 'hot', 'config', 'scaling'] as const;
type ScenarioId = (typeof SCENARIO_IDS)[number];

/**
 * Full-run counts. The brief's 3 baseline / 3 cold / 5 edit come to about 4 minutes here (the
 * baseline takes ~17 s and a cold build ~21 s on this machine, not the 40-60 s the 10-20 minute
 * estimate assumed), so the cheap scenarios and the baseline, the denominator of every ratio,
 * get more iterations; cold stays at 3 (each removes the builder image that other work uses).
 */
const FULL: Counts = {
  baseline: 8,
  cold: 3,
  warm: 8,
  edit: 15,
  hotCheck: 50,
  hotSynth: 50,
  config: 20,
  scaleSizes: [100, 1_000, 10_000],
  scaleFirst: 20,
  scaleRepeated: 50,
};

const QUICK: Counts = {
  baseline: 1,
  cold: 1,
  warm: 1,
  edit: 1,
  hotCheck: 5,
  hotSynth: 1,
  config: 1,
  scaleSizes: [100, 1_000],
  scaleFirst: 1,
  scaleRepeated: 1,
};

// Targets (medians, same run).
const HOT_CHECK_MAX_MS = 50;
const HOT_SYNTH_MAX_RATIO = 1.3;
const HOT_MIN_SPEEDUP = 100;
const EDIT_MIN_SPEEDUP = 5;
const SCALE_SIZE = 10_000;
const SCALE_FIRST_MAX_MS = 1000;
const SCALE_REPEATED_MAX_MS = 150;

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
  const ctx: Context = { counts, progress, env: cleanEnvironment(), startedMs: date.getTime() };
  const loadStart = os.loadavg();

  progress.line(`sweep benchmark, ${quick ? 'quick' : 'full'} mode${args.only ? ` (only ${[...only].join(', ')})` : ''}`);

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
  let engineProject: BenchProject | undefined;
  const engine = () => (engineProject ??= makeBenchProject('engine'));
  let restored = 'not needed';

  if (errors.length === 0) {
    try {
      if (selected('baseline'))
        add(
          await runScenario(ctx, 'baseline', 'baseline: old flow (fresh container, apt, cargo from scratch, zip)', (r) =>
            baselineScenario(ctx, r),
          ),
        );
      if (selected('cold')) add(await runScenario(ctx, 'cold', 'cold: engine, no caches at all', (r) => coldScenario(ctx, r, engine())));
      if (selected('warm')) add(await runScenario(ctx, 'warm', 'warm image, clean target', (r) => warmScenario(ctx, r, engine())));
      if (selected('edit'))
        add(await runScenario(ctx, 'edit', 'edit: one line in the Lambda crate', (r) => editScenario(ctx, r, engine())));
      if (selected('hot')) {
        add(await runScenario(ctx, 'hot-check', 'hot: engine check in-process (checkCache)', (r) => hotCheckScenario(ctx, r, engine())));
        let prebuilt: ScenarioResult | undefined;
        const hot = await runScenario(ctx, 'hot-synth', 'hot: synth of the app (npx tsx main.ts)', async (r) => {
          prebuilt = {
            id: 'prebuilt-synth',
            label: 'hot: synth, prebuilt zip, engine skipped',
            samplesMs: [],
            summary: r.summary,
            notes: [],
            details: {},
          };
          await hotSynthScenarios(ctx, r, prebuilt, engine());
        });
        add(hot);
        if (prebuilt) {
          prebuilt.summary = summarize(prebuilt.samplesMs);
          add(prebuilt);
        }
      }
      if (selected('config'))
        add(await runScenario(ctx, 'config', 'config only: env var changed -> synth', (r) => configScenario(ctx, r, engine())));
      if (selected('scaling')) {
        for (const size of counts.scaleSizes) {
          let repeated: ScenarioResult | undefined;
          const label = `${size.toLocaleString('en-US')} files`;
          const first = await runScenario(ctx, `scale-${size}-first`, `fast path, ${label}: first check`, async (r) => {
            repeated = {
              id: `scale-${size}-repeated`,
              label: `fast path, ${label}: repeated check`,
              samplesMs: [],
              summary: r.summary,
              notes: [],
              details: {},
            };
            await scalingScenario(ctx, size, r, repeated);
          });
          add(first);
          if (repeated) {
            repeated.summary = summarize(repeated.samplesMs);
            add(repeated);
          }
        }
      }
    } finally {
      if (selected('cold')) {
        try {
          restored = await restoreBuilderImage(ctx, date.getTime());
          progress.line(`builder image: ${restored}`);
        } catch (error) {
          restored = `FAILED: ${(error as Error).message}`;
          errors.push(`restoring the builder image: ${(error as Error).message}`);
        }
      }
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
    ...results.flatMap((r) => r.notes.map((n) => `${r.label}: ${n}`)),
  ];
  if (quick)
    notes.push(
      'Quick mode: 1 iteration of every scenario (baseline and cold included; hot check 1 warm-up + 5 calls), scaling at 100 and 1,000 files only, so the 10,000-file targets are N/A.',
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
    builderImageAtEnd: restored,
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

  targets.push({
    id: 'hot-check',
    description: `hot engine check on the example workspace < ${HOT_CHECK_MAX_MS} ms`,
    value: hotMs ?? null,
    unit: 'ms',
    threshold: HOT_CHECK_MAX_MS,
    comparison: '<',
    status: judge(hotMs, '<', HOT_CHECK_MAX_MS),
    measured: hotMs !== undefined ? `median ${formatMs(hotMs)} over ${hotCheck?.summary.n} calls` : 'not measured',
    explanation: hotMs !== undefined ? profileText('hot-check') : notMeasured(byId, 'hot-check'),
  });

  const synthMs = median('hot-synth');
  const prebuiltMs = median('prebuilt-synth');
  const synthRatio = ratioOf(synthMs, prebuiltMs);
  const engineInSynth = byId.get('hot-synth')?.breakdownMs?.['engine (its done: line)'];
  targets.push({
    id: 'hot-synth-ratio',
    description: `hot cdktf synth <= ${HOT_SYNTH_MAX_RATIO}x the synth of the same stack with a prebuilt zip (engine skipped)`,
    value: synthRatio,
    unit: 'ratio',
    threshold: HOT_SYNTH_MAX_RATIO,
    comparison: '<=',
    status: judge(synthRatio, '<=', HOT_SYNTH_MAX_RATIO),
    measured: synthRatio !== null ? `${formatMs(synthMs!)} / ${formatMs(prebuiltMs!)} = ${synthRatio.toFixed(2)}x` : 'not measured',
    explanation:
      synthRatio !== null
        ? `the engine adds ${formatMs(synthMs! - prebuiltMs!)} per synth (median difference); its own check reports ${engineInSynth !== undefined ? formatMs(engineInSynth) : 'n/a'} in-process; ${profileText('hot-check')}; the rest is process start-up and module loading, common to both apps`
        : notMeasured(byId, 'hot-synth'),
  });

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
  const editBreakdown = byId.get('edit')?.breakdownMs;
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
        ? `edit stages: ${editBreakdown ? formatBreakdown(editBreakdown) : 'n/a'} (compile = docker run of the builder container + cargo's incremental rebuild of sweep-lambda)`
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

/** On Ctrl-C: remove this run's containers and temp folders, then stop. */
function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\nbench: ${signal}: removing this run's containers and temp folders\n`);
  for (const prefix of [`sweep-bench-baseline-${process.pid}-`, `sweep-build-sweep-lambda-${process.pid}`]) {
    try {
      const ids = execaSync(DOCKER, ['ps', '-aq', '--filter', `name=${prefix}`], { reject: false }).stdout.trim();
      if (ids) execaSync(DOCKER, ['rm', '-f', ...ids.split(/\s+/)], { reject: false });
    } catch {
      // best effort
    }
  }
  removeAllProjects();
  process.stderr.write(
    'bench: if the cold scenario was running, the builder image may be missing: `npm run bench -- --only=warm --quick` (or any build) restores it\n',
  );
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
