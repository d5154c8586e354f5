import * as fs from 'node:fs';
import * as path from 'node:path';
import { appCommand, appTargets, assertAllHits, type ChildRun, runApp, runChild } from './engine-run.js';
import { type BenchProject, bundleCacheOf, REPO_ROOT } from './project.js';
import { type Context, ensureBuilt, type ScenarioResult } from './scenarios.js';
import { medianBreakdown } from './stats.js';

/**
 * Start-up (issue 12): whole processes, hot (everything cached: the zips, the bundles of the
 * TypeScript entry points), measured alternately in the same run:
 *
 * - `node -e 0` against `node bin/sweep-runtime.mjs status` (the CLI's cheapest useful command:
 *   config, a check of every function, a report);
 * - a plain cdktf app (bench/apps/plain-lambda.mjs: plain JavaScript, an AWS provider and one
 *   LambdaFunction) against cdktf.json's app command in the project folder, which includes the
 *   compile step: run-ts checks that the bundle of main.ts is current (it is), then runs it.
 *
 * Then, as information, the first run after an edit of main.ts: the bundle is rebuilt by esbuild.
 * "Where the time goes" comes from bench/apps/startup-probe.mjs, which runs the same work with
 * marks inside the process (node's own start, the bundle check, loading, running).
 */
const PROBE = path.join(REPO_ROOT, 'bench', 'apps', 'startup-probe.mjs');
const PLAIN_APP = path.join(REPO_ROOT, 'bench', 'apps', 'plain-lambda.mjs');
const CLI = 'bin/sweep-runtime.mjs';
const PROBE_RUNS = 5;

export interface StartupResults {
  readonly node: ScenarioResult;
  readonly status: ScenarioResult;
  readonly plain: ScenarioResult;
  readonly app: ScenarioResult;
  readonly edit: ScenarioResult;
}

export async function startupScenario(ctx: Context, r: StartupResults, project: BenchProject): Promise<void> {
  await ensureBuilt(ctx, project);
  const names = appTargets(project, ctx.env).map((t) => t.name!);
  const env = ctx.env;
  const status = () => runChild('node', [CLI, 'status'], project.root, env);
  const checkStatus = (run: ChildRun) => {
    for (const name of names)
      if (!run.output.includes(`[${name}] cache-hit`)) throw new Error(`status does not say cache-hit for ${name}:\n${run.output}`);
  };
  const plain = () => runChild('node', [PLAIN_APP], project.root, env);
  const [command, args] = appCommand(project);
  ctx.progress.line(`start-up: app command \`${command} ${args.join(' ')}\`; 1 warm-up each, then alternately`);

  // Warm-ups: the bundles exist and are current, the OS caches hold node and the modules.
  checkStatus(await status());
  await runChild('node', ['-e', '0'], project.root, env);
  await plain();
  assertAllHits((await runApp(project, env)).output, names, 'the hot app');

  for (let i = 1; i <= ctx.counts.startupNode; i++) {
    const doneNode = ctx.progress.iteration('node -e 0', i, ctx.counts.startupNode);
    const n = await runChild('node', ['-e', '0'], project.root, env);
    r.node.samplesMs.push(n.ms);
    doneNode(n.ms);
    const doneStatus = ctx.progress.iteration('sweep-runtime status', i, ctx.counts.startupNode);
    const s = await status();
    checkStatus(s);
    r.status.samplesMs.push(s.ms);
    doneStatus(s.ms);
  }
  for (let i = 1; i <= ctx.counts.startupApp; i++) {
    const donePlain = ctx.progress.iteration('plain cdktf app', i, ctx.counts.startupApp);
    const p = await plain();
    r.plain.samplesMs.push(p.ms);
    donePlain(p.ms);
    const doneApp = ctx.progress.iteration('app command (hot)', i, ctx.counts.startupApp);
    const a = await runApp(project, env);
    assertAllHits(a.output, names, `app run ${i}`);
    r.app.samplesMs.push(a.ms);
    doneApp(a.ms);
  }

  // Where the time goes, from inside the processes.
  const probe = async (mode: string, target: string[]) => {
    const run = await runChild('node', [PROBE, mode, ...target], project.root, env);
    return probeBreakdown(run, mode);
  };
  const probes = async (mode: string, target: string[]) => {
    const list: Record<string, number>[] = [];
    for (let i = 0; i < Math.min(PROBE_RUNS, Math.max(1, ctx.counts.startupApp)); i++) list.push(await probe(mode, target));
    return medianBreakdown(list);
  };
  r.status.breakdownMs = await probes('cli', ['status']);
  r.plain.breakdownMs = await probes('plain', [PLAIN_APP]);
  r.app.breakdownMs = await probes('app', ['main.ts']);

  // The first run after an edit of main.ts: a comment appended, so the bundle must be rebuilt.
  const original = fs.readFileSync(project.mainTs, 'utf8');
  const currentBuild = () =>
    (JSON.parse(fs.readFileSync(path.join(bundleCacheOf(project.root), 'current.json'), 'utf8')) as { build: string }).build;
  const editBreakdowns: Record<string, number>[] = [];
  try {
    for (let i = 1; i <= ctx.counts.startupEdit; i++) {
      fs.writeFileSync(project.mainTs, `${original}// bench edit ${ctx.runId} ${i}\n`);
      const before = currentBuild();
      const done = ctx.progress.iteration('first app run after an edit of main.ts', i, ctx.counts.startupEdit);
      const a = await runApp(project, env);
      assertAllHits(a.output, names, `app run after edit ${i}`);
      if (currentBuild() === before) throw new Error(`edit ${i}: the bundle of main.ts was not rebuilt`);
      r.edit.samplesMs.push(a.ms);
      done(a.ms, 'bundle rebuilt');
      // Its breakdown: the same again, probed (another edit, so the bundle is rebuilt again).
      fs.writeFileSync(project.mainTs, `${original}// bench edit ${ctx.runId} ${i} probe\n`);
      editBreakdowns.push(await probe('app', ['main.ts']));
    }
  } finally {
    fs.writeFileSync(project.mainTs, original);
  }
  r.edit.breakdownMs = medianBreakdown(editBreakdowns);

  r.node.details.command = 'node -e 0';
  r.status.details.command = 'node bin/sweep-runtime.mjs status, in the project folder (every function a hit)';
  r.plain.details.command = 'node bench/apps/plain-lambda.mjs: App, TerraformStack, AwsProvider, one LambdaFunction, synth';
  r.app.details.command = `${command} ${args.join(' ')} (cdktf.json "app"), in the project folder, the bundle current`;
  r.edit.details.command = 'the same, after a comment was appended to main.ts (esbuild rebuilds the bundle)';
}

/** The probe's marks as phases: node's start, the bundle check, loading (and running), and the exit the parent saw. */
function probeBreakdown(run: ChildRun, mode: string): Record<string, number> {
  const json = /@@probe (\{.*\})/.exec(run.output)?.[1];
  if (!json) throw new Error(`the start-up probe printed no marks:\n${run.output.split('\n').slice(-10).join('\n')}`);
  const m = JSON.parse(json) as { boot: number; bundle: number; load?: number; run: number; end: number };
  const out: Record<string, number> = { 'node start': m.boot };
  if (mode !== 'plain') out['bundle check'] = m.bundle - m.boot;
  if (m.load !== undefined) {
    out['load modules'] = m.load - m.bundle;
    out['run the command'] = m.run - m.load;
  } else {
    out[mode === 'plain' ? 'load modules + synth' : 'load bundle + app + synth'] = m.run - m.bundle;
  }
  out['exit (and spawn)'] = Math.max(0, run.ms - m.end);
  return out;
}
