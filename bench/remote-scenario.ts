import * as fs from 'node:fs';
import * as path from 'node:path';
import { artifactMetadataSchema } from '../build/cache/metadata.js';
import { repositoryTags } from './docker.js';
import { appTargets, type ChildRun, readStackJson, runApp, runChild } from './engine-run.js';
import { type BenchProject, makeBenchProject, wipeProjectState } from './project.js';
import type { Context, ScenarioResult } from './scenarios.js';
import { formatBreakdown, formatMs, medianBreakdown } from './stats.js';

/**
 * The shared cache (issue 10): "a fresh machine, and the shared cache has the build".
 *
 * A real S3 server (Ceph radosgw, __tests__/helpers/s3-server.ts) is primed by one read-write
 * build in another project (untimed). Then each iteration starts from nothing: no dist/, no
 * .cache/, no builder image of the configured repository (one no image has), and SWEEP_DOCKER
 * naming a program that does not exist, so a single Docker call would fail the run: a pass means
 * zero Docker calls. The remote cache is read-only here, as on a developer's machine.
 *
 * Timed whole, as a user meets them: `sweep-runtime build` (every function's zip verified and in
 * dist/), and the app command (`node bin/run-ts.mjs main.ts`, a whole synth, whose engine process
 * downloads), each from that empty state. The TypeScript bundles are current (one untimed round
 * first): they are made once per checkout, and the start-up scenario measures making them.
 */
const BUCKET = 'sweep-bench';
const CLI = 'bin/sweep-runtime.mjs';

export async function remoteScenario(ctx: Context, build: ScenarioResult, synth: ScenarioResult): Promise<void> {
  const { cephMissingReason, startS3Server } = await import('../__tests__/helpers/s3-server.js');
  const missing = cephMissingReason();
  if (missing) throw new Error(`needs a real S3 server: ${missing}`);
  const started = performance.now();
  const server = await startS3Server();
  const primer = makeBenchProject('remote-primer');
  const fresh = makeBenchProject('remote-fresh');
  try {
    await server.createBucket(BUCKET);
    ctx.progress.line(`remote: S3 server (radosgw) at ${server.endpoint} up in ${formatMs(performance.now() - started)} (not timed)`);
    const url = `s3://${BUCKET}/${ctx.runId}`;
    const remoteEnv = { ...ctx.env, ...server.env(), SWEEP_REMOTE_CACHE: url };
    const names = appTargets(primer, remoteEnv).map((t) => t.name!);

    // Prime: one publishing build (its own cargo target folder, from scratch).
    const primeStarted = performance.now();
    const prime = await runChild('node', [CLI, 'build'], primer.root, { ...remoteEnv, SWEEP_REMOTE_CACHE_MODE: 'read-write' });
    const uploaded = names.filter((name) => new RegExp(`\\[${name}\\] remote: uploaded`).test(prime.output));
    if (uploaded.length !== names.length)
      throw new Error(`the priming build did not upload every function:\n${prime.output.split('\n').slice(-15).join('\n')}`);
    ctx.progress.line(
      `remote: primed ${url} with ${names.join(', ')} by one read-write build in ${formatMs(performance.now() - primeStarted)} (not timed)`,
    );
    const primed = new Map(names.map((name) => [name, readMetadata(primer, name).zip.sha256]));

    // The fresh machine.
    const repository = `sweep-bench-fresh-${ctx.runId}`;
    if ((await repositoryTags(repository)).length > 0) throw new Error(`the builder repository ${repository} has images`);
    const freshEnv = {
      ...remoteEnv,
      SWEEP_REMOTE_CACHE_MODE: 'read',
      SWEEP_DOCKER: path.join(fresh.root, 'no-such-docker'),
      SWEEP_BUILDER_REPOSITORY: repository,
    };
    const check = (run: ChildRun, what: string) => {
      // Each function: the local check misses (nothing in dist/), the shared cache has it.
      if (run.output.includes('done: cache-miss')) throw new Error(`${what} built something:\n${run.output}`);
      for (const name of names) {
        if (!run.output.includes(`[${name}] cache-hit (remote`)) throw new Error(`${what}: ${name} was not downloaded:\n${run.output}`);
        const metadata = readMetadata(fresh, name);
        if (metadata.origin.kind !== 'remote') throw new Error(`${what}: ${name}'s metadata says origin ${metadata.origin.kind}`);
        if (metadata.zip.sha256 !== primed.get(name)) throw new Error(`${what}: ${name}'s zip is not the primed one`);
      }
    };
    // One untimed round first: the bundles of cli/main.ts and of this project's main.ts are
    // built once per checkout (the start-up scenario measures that), not per download.
    for (const warmup of [() => runChild('node', [CLI, 'build'], fresh.root, freshEnv), () => runApp(fresh, freshEnv)]) {
      wipeProjectState(fresh);
      check(await warmup(), 'remote warm-up');
    }
    const buildBreakdowns: Record<string, number>[] = [];
    const synthBreakdowns: Record<string, number>[] = [];
    for (let i = 1; i <= ctx.counts.remote; i++) {
      wipeProjectState(fresh);
      const doneBuild = ctx.progress.iteration('remote hit, fresh machine: sweep-runtime build', i, ctx.counts.remote);
      const b = await runChild('node', [CLI, 'build'], fresh.root, freshEnv);
      check(b, `remote build ${i}`);
      build.samplesMs.push(b.ms);
      const bb = remoteBreakdown(b);
      buildBreakdowns.push(bb);
      doneBuild(b.ms, formatBreakdown(bb));

      wipeProjectState(fresh);
      const doneSynth = ctx.progress.iteration('remote hit, fresh machine: synth (app command)', i, ctx.counts.remote);
      const s = await runApp(fresh, freshEnv);
      check(s, `remote synth ${i}`);
      readStackJson(fresh, appStackName(fresh));
      synth.samplesMs.push(s.ms);
      const sb = remoteBreakdown(s);
      synthBreakdowns.push(sb);
      doneSynth(s.ms, formatBreakdown(sb));
    }
    if ((await repositoryTags(repository)).length > 0) throw new Error(`a builder image of ${repository} appeared`);
    build.breakdownMs = medianBreakdown(buildBreakdowns);
    synth.breakdownMs = medianBreakdown(synthBreakdowns);
    for (const r of [build, synth]) {
      r.details.remote = `${url} on a local Ceph radosgw (memstore)`;
      r.details.functions = names;
      r.details.dockerCommand = 'a path that does not exist (any Docker call would fail the run)';
      r.details.dockerCalls = 0;
    }
    build.details.command = 'node bin/sweep-runtime.mjs build, SWEEP_REMOTE_CACHE_MODE=read, empty dist/ and .cache/';
    synth.details.command = 'node bin/run-ts.mjs main.ts (cdktf.json "app"), same state';
  } finally {
    primer.remove();
    fresh.remove();
    // stop() awaits the exit of daemons it spawned unref'd: outside jest nothing else may keep
    // the event loop alive meanwhile, and node would end the run with exit code 13.
    const keepAlive = setInterval(() => {}, 1000);
    await server.stop().finally(() => clearInterval(keepAlive));
  }
}

function readMetadata(project: BenchProject, name: string) {
  return artifactMetadataSchema.parse(JSON.parse(fs.readFileSync(path.join(project.dist, `${name}.json`), 'utf8')));
}

function appStackName(project: BenchProject): string {
  return (JSON.parse(fs.readFileSync(project.cdktfJson, 'utf8')) as { context: { sweep: { stackName: string } } }).context.sweep.stackName;
}

/**
 * From the engine's `done: cache-hit (remote), ...: fingerprint 9.1 ms, lock 0.3 ms, remote 310 ms,
 * total 930 ms` lines, of the function that finished last (the lookups run in parallel): its
 * check, its lookup (GET of the metadata and the zip, SHA-256 and verification), the rest of the
 * engine (loading the AWS SDK and opening the client, committing the zip), and the rest of the
 * process (node, the bundle, the config; for a synth also the app itself and starting the engine
 * process).
 */
function remoteBreakdown(run: ChildRun): Record<string, number> {
  let last: Record<string, number> = {};
  for (const match of run.output.matchAll(/done: cache-hit \(remote\).*: (.*)$/gm)) {
    const stages: Record<string, number> = {};
    for (const part of match[1]!.split(', ')) {
      const m = /^(\S+) ([\d.]+) (ms|s)$/.exec(part);
      if (m) stages[m[1]!] = Number(m[2]) * (m[3] === 's' ? 1000 : 1);
    }
    if ((stages.total ?? 0) >= (last.total ?? 0)) last = stages;
  }
  const check = (last.fingerprint ?? 0) + (last.lock ?? 0);
  const remote = last.remote ?? 0;
  const total = last.total ?? 0;
  return {
    'check + lock': check,
    'remote lookup, download, verify': remote,
    'engine: SDK load, S3 client, commit': Math.max(0, total - check - remote),
    'rest of the process': Math.max(0, run.ms - total),
  };
}
