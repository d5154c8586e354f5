import * as fs from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import * as path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { WarmBuilderContainers } from '../build/builder/warm-builder.js';
import { artifactPaths } from '../build/cache/paths.js';
import { DOCKER } from './docker.js';
import { appTargets, cargoFinishedMs } from './engine-run.js';
import { type BenchProject, LAMBDA_MAIN_RS, makeBenchProject, REPO_ROOT } from './project.js';
import { type Context, ensureBuilt, LAMBDA, type ScenarioResult, TARGET_TRIPLE } from './scenarios.js';
import { formatBreakdown, medianBreakdown } from './stats.js';

/**
 * Issue 20: an edit of the Lambda crate until the new code answers a request, three ways, in one
 * run, iterations interleaved (each on its own copy of the example, built first, untimed; an edit
 * of one project is never seen by another's watcher):
 *
 * - watch: `sweep-runtime watch --function sweep-lambda --port 0` running; the edit is written,
 *   and once watch prints its build line an Invoke API request is sent (polled every 10 ms while
 *   it still answers the old code). Timed: from the write to the new answer.
 * - build + invoke: the same edit, then `sweep-runtime build --function sweep-lambda` and
 *   `sweep-runtime invoke --function sweep-lambda --event FILE` (what a developer ran before
 *   watch), to the new answer on invoke's stdout.
 * - cargo floor: the same edit, then `docker exec <container> cargo build ...` of sweep-lambda in
 *   a warm builder container started with the engine's own arguments: cargo's incremental build
 *   of the edit and nothing else. Target: watch <= cargo floor + 0.4 s.
 *
 * Every edit gives the answer a new number (`{"edit":N,...}`), so each is a real change of the
 * binary and of the answer.
 */
const ANSWER_LINE = '        .map_err(|e| report(&e))';
const SQUARE_EVENT = '{"start": 0, "stop": 10, "step": 2.5, "function": "square"}';

export interface WatchLoopResults {
  readonly watch: ScenarioResult;
  readonly build: ScenarioResult;
  readonly cargo: ScenarioResult;
}

export async function watchLoopScenario(ctx: Context, r: WatchLoopResults, iterations: number): Promise<void> {
  const projects = { watch: makeBenchProject('watch'), build: makeBenchProject('watch-cli'), cargo: makeBenchProject('watch-cargo') };
  const watchBreakdowns: Record<string, number>[] = [];
  const buildBreakdowns: Record<string, number>[] = [];
  const cargoBreakdowns: Record<string, number>[] = [];
  const warm = new WarmBuilderContainers();
  let watching: RunningWatch | undefined;
  try {
    for (const project of Object.values(projects)) await ensureBuilt(ctx, project);
    const originals = new Map(Object.values(projects).map((project) => [project, fs.readFileSync(project.file(LAMBDA_MAIN_RS), 'utf8')]));
    const edit = (project: BenchProject, n: number) => writeEdit(project, originals.get(project)!, n);
    fs.writeFileSync(path.join(projects.build.root, 'event.json'), SQUARE_EVENT);

    // The floor's container: what the engine would start (same arguments, same image).
    const lambda = appTargets(projects.cargo, ctx.env).find((options) => options.name === LAMBDA)!;
    await warm.prepare([{ options: lambda, name: LAMBDA, artifactKey: artifactPaths(lambda, LAMBDA).key }], () => ({
      line: () => undefined,
      stream: () => () => undefined,
    }));
    const container = warm.containerNames[0]!;

    watching = await startWatch(projects.watch, ctx.env);
    ctx.progress.line(`watch: ready, Invoke API on ${watching.endpoint}`);
    // One untimed round of each: the first exec in a new container and the first invoke pay once.
    let n = 0;
    await watchRound(watching, edit, ++n);
    await cargoRound(projects.cargo, container, edit, ++n);
    await buildRound(projects.build, ctx.env, edit, ++n);

    for (let i = 1; i <= iterations; i++) {
      const watchDone = ctx.progress.iteration('watch: edit -> new answer', i, iterations);
      const w = await watchRound(watching, edit, ++n);
      r.watch.samplesMs.push(w.ms);
      watchBreakdowns.push(w.breakdown);
      watchDone(w.ms, formatBreakdown(w.breakdown));

      const cargoDone = ctx.progress.iteration('cargo floor: edit -> docker exec cargo build', i, iterations);
      const c = await cargoRound(projects.cargo, container, edit, ++n);
      r.cargo.samplesMs.push(c.ms);
      cargoBreakdowns.push(c.breakdown);
      cargoDone(c.ms, formatBreakdown(c.breakdown));

      const buildDone = ctx.progress.iteration('build + invoke: edit -> new answer', i, iterations);
      const b = await buildRound(projects.build, ctx.env, edit, ++n);
      r.build.samplesMs.push(b.ms);
      buildBreakdowns.push(b.breakdown);
      buildDone(b.ms, formatBreakdown(b.breakdown));
    }
  } finally {
    await watching?.stop();
    await warm.close();
    for (const project of Object.values(projects)) project.remove();
  }
  r.watch.breakdownMs = medianBreakdown(watchBreakdowns);
  r.build.breakdownMs = medianBreakdown(buildBreakdowns);
  r.cargo.breakdownMs = medianBreakdown(cargoBreakdowns);
  r.watch.details.command =
    'node bin/sweep-runtime.mjs watch --function sweep-lambda --port 0; edit; Invoke API request once the build line is printed';
  r.build.details.command =
    'edit; node bin/sweep-runtime.mjs build --function sweep-lambda; node bin/sweep-runtime.mjs invoke --function sweep-lambda --event event.json';
  r.cargo.details.command = `edit; ${DOCKER} exec -w /work <warm builder container> cargo build --locked --profile release --target ${TARGET_TRIPLE} --package sweep-lambda --bin bootstrap`;
}

function writeEdit(project: BenchProject, original: string, n: number): void {
  if (!original.includes(ANSWER_LINE)) throw new Error(`${LAMBDA_MAIN_RS} no longer has the line the benchmark edits: ${ANSWER_LINE}`);
  fs.writeFileSync(
    project.file(LAMBDA_MAIN_RS),
    original.replace(ANSWER_LINE, `        .map(|body| body.replacen('{', "{\\"edit\\":${n},", 1))\n${ANSWER_LINE}`),
  );
}

interface Round {
  readonly ms: number;
  readonly breakdown: Record<string, number>;
}

interface RunningWatch {
  readonly project: BenchProject;
  readonly endpoint: string;
  readonly agent: Agent;
  /** Resolves with the output after `from` once it matches `pattern`. */
  waitFor(pattern: RegExp, from: number): Promise<string>;
  outputLength(): number;
  stop(): Promise<void>;
}

async function startWatch(project: BenchProject, env: Record<string, string>): Promise<RunningWatch> {
  const child: ResultPromise = execa(
    process.execPath,
    [path.join(REPO_ROOT, 'bin', 'sweep-runtime.mjs'), 'watch', '--function', LAMBDA, '--port', '0'],
    {
      cwd: project.root,
      env,
      extendEnv: false,
      reject: false,
      all: true,
      stdin: 'ignore',
    },
  );
  let seen = '';
  let ended = false;
  const waiters = new Set<() => void>();
  child.all!.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    for (const waiter of waiters) waiter();
  });
  void child.then(() => {
    ended = true;
    for (const waiter of waiters) waiter();
  });
  const waitFor = (pattern: RegExp, from: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(seen.slice(from));
        if (match) {
          waiters.delete(check);
          resolve(seen.slice(from, from + match.index + match[0].length));
        } else if (ended) {
          waiters.delete(check);
          reject(new Error(`watch ended before printing ${pattern}:\n${seen.split('\n').slice(-30).join('\n')}`));
        }
      };
      waiters.add(check);
      check();
    });
  const ready = await waitFor(/\[watch\] ready: .*\n\[watch\] Invoke API on (http:\/\/127\.0\.0\.1:\d+)/, 0);
  const endpoint = /Invoke API on (http:\/\/127\.0\.0\.1:\d+)/.exec(ready)![1]!;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    project,
    endpoint,
    agent,
    waitFor,
    outputLength: () => seen.length,
    async stop() {
      agent.destroy();
      child.kill('SIGINT');
      await child;
    },
  };
}

/** Edit, then the watch's build line, then requests until the new code answers. */
async function watchRound(watching: RunningWatch, edit: (project: BenchProject, n: number) => void, n: number): Promise<Round> {
  const from = watching.outputLength();
  const started = performance.now();
  edit(watching.project, n);
  const output = await watching.waitFor(/\[watch\] build #\d+ \([^)]*main\.rs\) done in ([\d.]+) (ms|s): sweep-lambda (\S+)[^\n]*\n/, from);
  const built = performance.now();
  const summary = /done in ([\d.]+) (ms|s): sweep-lambda (\S+)/.exec(output)!;
  if (summary[3] !== 'rebuilt') throw new Error(`watch did not rebuild sweep-lambda after edit ${n}:\n${output}`);
  let answer = '';
  for (let attempt = 0; !answer.startsWith(`{"edit":${n},`); attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    if (attempt > 500) throw new Error(`edit ${n}: the Invoke API still answers ${answer} 5 s after watch's build line`);
    answer = await invokeApi(watching, LAMBDA_FUNCTION_NAME, SQUARE_EVENT);
  }
  const ended = performance.now();
  const buildMs = toMs(summary[1]!, summary[2]!);
  const stages = engineTimings(output);
  const cargo = cargoFinishedMs(output);
  return {
    ms: ended - started,
    breakdown: {
      'until the build starts (file event, quiet time)': built - started - buildMs,
      'watch build (its summary line)': buildMs,
      ...(cargo !== undefined && { 'of which cargo itself': cargo }),
      ...(stages.compile !== undefined && { 'of which compile stage (docker exec)': stages.compile }),
      ...(stages.package !== undefined && { 'of which package': stages.package }),
      'request answered by the new code': ended - built,
    },
  };
}

/** The deployed name of sweep-lambda in the repository's cdktf.json. */
const LAMBDA_FUNCTION_NAME = 'aws-serverless-sweep';

/** Edit, then cargo alone in the warm container. */
async function cargoRound(
  project: BenchProject,
  container: string,
  edit: (project: BenchProject, n: number) => void,
  n: number,
): Promise<Round> {
  const started = performance.now();
  edit(project, n);
  const run = await execa(
    DOCKER,
    [
      'exec',
      '-w',
      '/work',
      container,
      'cargo',
      'build',
      '--locked',
      '--profile',
      'release',
      '--target',
      TARGET_TRIPLE,
      '--package',
      LAMBDA,
      '--bin',
      'bootstrap',
    ],
    { reject: false, all: true, stdin: 'ignore' },
  );
  const ms = performance.now() - started;
  if (run.exitCode !== 0)
    throw new Error(`cargo in the warm container failed (exit ${run.exitCode}):\n${String(run.all).split('\n').slice(-15).join('\n')}`);
  const cargo = cargoFinishedMs(String(run.all));
  return { ms, breakdown: { ...(cargo !== undefined && { 'cargo itself': cargo }), 'docker exec and cargo start': ms - (cargo ?? 0) } };
}

/** Edit, then `sweep-runtime build` and `sweep-runtime invoke` as processes. */
async function buildRound(
  project: BenchProject,
  env: Record<string, string>,
  edit: (project: BenchProject, n: number) => void,
  n: number,
): Promise<Round> {
  const cli = path.join(REPO_ROOT, 'bin', 'sweep-runtime.mjs');
  const options = { cwd: project.root, env, extendEnv: false, reject: false, all: true, stdin: 'ignore' as const };
  const started = performance.now();
  edit(project, n);
  const build = await execa(process.execPath, [cli, 'build', '--function', LAMBDA], options);
  const built = performance.now();
  if (build.exitCode !== 0) throw new Error(`sweep-runtime build failed:\n${String(build.all).split('\n').slice(-15).join('\n')}`);
  const invoke = await execa(process.execPath, [cli, 'invoke', '--function', LAMBDA, '--event', 'event.json'], options);
  const ms = performance.now() - started;
  if (!String(invoke.stdout).startsWith(`{"edit":${n},`)) {
    throw new Error(`sweep-runtime invoke did not answer with edit ${n}:\n${String(invoke.all).split('\n').slice(-15).join('\n')}`);
  }
  const stages = engineTimings(String(build.all));
  return {
    ms,
    breakdown: {
      'sweep-runtime build': built - started,
      ...(cargoFinishedMs(String(build.all)) !== undefined && { 'of which cargo itself': cargoFinishedMs(String(build.all))! }),
      ...(stages.compile !== undefined && { 'of which compile stage (docker run)': stages.compile }),
      'sweep-runtime invoke': ms - (built - started),
    },
  };
}

/** The stage timings of sweep-lambda's `done:` line. */
function engineTimings(output: string): Record<string, number> {
  const line = /\[sweep-lambda\] done: [^\n]*/.exec(output)?.[0] ?? '';
  const stages: Record<string, number> = {};
  for (const match of line.matchAll(/([a-z-]+) ([\d.]+) (ms|s)\b/g)) stages[match[1]!] = toMs(match[2]!, match[3]!);
  return stages;
}

function toMs(value: string, unit: string): number {
  return Number(value) * (unit === 's' ? 1000 : 1);
}

/** One Invoke API request on the kept-alive connection; the response body. */
function invokeApi(watching: RunningWatch, functionName: string, body: string): Promise<string> {
  const url = new URL(watching.endpoint);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: `/2015-03-31/functions/${functionName}/invocations`,
        agent: watching.agent,
        headers: { 'Content-Type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}
