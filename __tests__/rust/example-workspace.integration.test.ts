import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { unzipSync } from 'fflate';
import { ensureArtifact } from '../../build/engine/engine.js';
import { resolveArtifactOptions } from '../../build/options/resolve.js';
import { createRecordingOutput } from '../../build/support/reporter.js';
import { RuntimeApiServer } from '../../invoke/runtime-api-server.js';
import { DOCKER, describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { EXAMPLE_WORKSPACE, makeTestProject, type TestProject } from '../helpers/project.js';

/**
 * The example workspace itself: every crate's own tests pass in the toolchain container, and
 * both functions built by the engine (sweep-lambda's `bootstrap`, sweep-batch's `sweep-batch`,
 * zipped as `bootstrap`) are working Lambda custom runtimes.
 */
describeWithDocker('the example Rust workspace', () => {
  it("passes every crate's own cargo tests in the toolchain container", async () => {
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-cargo-test-'));
    try {
      // One stream (2>&1 in the container), so that each "Running" line precedes its results.
      const run = await execa(
        DOCKER,
        [
          'run',
          '--rm',
          '-v',
          `${EXAMPLE_WORKSPACE}:/work:ro`,
          '-v',
          `${target}:/target`,
          '-e',
          'CARGO_TARGET_DIR=/target',
          '-w',
          '/work',
          TOOLCHAIN_IMAGE,
          'sh',
          '-c',
          'cargo test --locked --offline --workspace 2>&1',
        ],
        { reject: false },
      );
      expect(run.exitCode).toBe(0);
      const suites = testSuites(run.stdout);
      // Each crate's unit tests, each function's binary test, and the doc tests; every suite
      // must have run tests, so a crate whose tests were dropped fails here.
      const expected = [
        'sweep_core src/lib.rs',
        'doc-tests sweep-core',
        'sweep_lambda_runtime src/lib.rs',
        'doc-tests sweep-lambda-runtime',
        'sweep_lambda_testkit src/lib.rs',
        'bootstrap src/main.rs',
        'bootstrap tests/bootstrap.rs',
        'sweep_batch src/main.rs',
        'batch tests/batch.rs',
      ];
      expect([...suites.keys()]).toEqual(expect.arrayContaining(expected));
      for (const [suite, result] of suites) expect(`${suite}: ${result.line}`).toMatch(/: test result: ok\. \d+ passed; 0 failed/);
      for (const suite of expected) expect(`${suite}: ${suites.get(suite)!.passed} passed`).not.toMatch(/: 0 passed$/);
      const passed = [...suites.values()].reduce((sum, result) => sum + result.passed, 0);
      expect(passed).toBeGreaterThanOrEqual(90);
    } finally {
      fs.rmSync(target, { recursive: true, force: true });
    }
  });

  describe('built by the engine', defineFunctionTests);
});

/** cargo test's `test result:` line of each suite, keyed "<crate or test> <source>" or "doc-tests <package>". */
function testSuites(output: string): Map<string, { line: string; passed: number }> {
  const suites = new Map<string, { line: string; passed: number }>();
  let suite: string | undefined;
  for (const line of output.split('\n')) {
    const running = /^\s+Running (?:unittests )?(\S+) \(.*\/deps\/(\w+)-[0-9a-f]+\)$/.exec(line);
    const doc = /^\s+Doc-tests (\S+)$/.exec(line);
    if (running) suite = `${running[2]} ${running[1]}`;
    else if (doc) suite = `doc-tests ${doc[1]}`;
    else if (suite !== undefined && line.startsWith('test result: ')) {
      suites.set(suite, { line, passed: Number(/(\d+) passed/.exec(line)?.[1]) });
      suite = undefined;
    }
  }
  return suites;
}

function defineFunctionTests(): void {
  let project: TestProject;
  /** The `bootstrap` entry of each function's zip, written out as an executable. */
  const executables: Record<'sweep-lambda' | 'sweep-batch', string> = { 'sweep-lambda': '', 'sweep-batch': '' };
  let server: RuntimeApiServer | undefined;

  beforeAll(async () => {
    project = makeTestProject();
    const builds = [
      { name: 'sweep-lambda', options: {} },
      { name: 'sweep-batch', options: { package: 'sweep-batch', binary: 'sweep-batch' } },
    ] as const;
    for (const { name, options } of builds) {
      const result = await ensureArtifact(
        resolveArtifactOptions({ projectRoot: project.root, toolchainImage: TOOLCHAIN_IMAGE, ...options }, { env: {} }),
        { output: createRecordingOutput() },
      );
      expect(path.basename(result.zipPath)).toBe(`${name}.zip`);
      executables[name] = path.join(project.root, `${name}.bootstrap`);
      fs.writeFileSync(executables[name], unzipSync(fs.readFileSync(result.zipPath)).bootstrap!, { mode: 0o755 });
    }
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => project.remove());

  const start = (name: keyof typeof executables, endpoint: string, settings: Record<string, string> = {}) =>
    execa(executables[name], [], { env: { AWS_LAMBDA_RUNTIME_API: endpoint, ...settings }, extendEnv: false, reject: false, all: true });

  /** Closing the server answers the pending `next` with 500: the runtime must then exit 1. */
  const stop = async (runtime: ReturnType<typeof start>) => {
    await server!.close();
    server = undefined;
    expect((await runtime).exitCode).toBe(1);
  };

  it('sweep-lambda answers a real invocation over the Runtime API with the handler result', async () => {
    server = await RuntimeApiServer.start();
    const runtime = start('sweep-lambda', server.endpoint);
    const outcome = await server.invoke('{"start": 0, "stop": 10, "step": 2.5, "function": "square"}', {
      timeoutMs: 10_000,
      requestId: 'req-1',
    });
    expect(outcome).toMatchObject({
      kind: 'response',
      requestId: 'req-1',
      body: '{"function":"square","count":5,"points":[{"x":0,"y":0},{"x":2.5,"y":6.25},{"x":5,"y":25},{"x":7.5,"y":56.25},{"x":10,"y":100}],"min":0,"max":100,"mean":37.5,"sum":187.5}',
    });

    // A handler error arrives at the error endpoint, with Lambda's error shape.
    const failed = await server.invoke('{"start": 0, "stop": 10, "step": 0, "function": "square"}', {
      timeoutMs: 10_000,
      requestId: 'req-2',
    });
    expect(failed).toMatchObject({
      kind: 'function-error',
      requestId: 'req-2',
      errorType: 'InvalidEvent',
      errorMessage: 'field "step" must be greater than 0, got 0',
    });
    const paths = server.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'GET /2018-06-01/runtime/invocation/next',
        'POST /2018-06-01/runtime/invocation/req-1/response',
        'POST /2018-06-01/runtime/invocation/req-2/error',
      ]),
    );
    await stop(runtime);
  });

  it('sweep-lambda reports a bad configuration to the init error endpoint and exits', async () => {
    server = await RuntimeApiServer.start();
    const runtime = start('sweep-lambda', server.endpoint, { SWEEP_MAX_POINTS: 'many' });
    const outcome = await server.invoke('{}', { timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ kind: 'init-error', errorType: 'Runtime.ConfigInvalid' });
    expect((await runtime).exitCode).toBe(1);
  });

  it('sweep-batch answers a batch, and an EventBridge event carrying one, with a summary per job', async () => {
    server = await RuntimeApiServer.start();
    const runtime = start('sweep-batch', server.endpoint);
    const batch = await server.invoke(
      JSON.stringify({
        jobs: [
          { function: 'square', start: 0, stop: 10, step: 2.5 },
          { function: 'sqrt', values: [4, -1] },
        ],
      }),
      { timeoutMs: 10_000, requestId: 'req-1' },
    );
    // The failed job is reported in its place; the invocation itself succeeds.
    expect(batch).toMatchObject({
      kind: 'response',
      requestId: 'req-1',
      body: '{"count":2,"succeeded":1,"failed":1,"results":[{"function":"square","count":5,"min":0,"max":100,"mean":37.5},{"errorMessage":"sqrt(-1) is undefined","errorType":"DomainError"}]}',
    });

    const scheduled = await server.invoke(
      JSON.stringify({
        version: '0',
        id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '123456789012',
        time: '2026-11-26T06:00:00Z',
        region: 'us-east-1',
        resources: ['arn:aws:events:us-east-1:123456789012:rule/nightly-sweeps'],
        detail: { jobs: [{ function: 'cube', values: [-1, 2] }] },
      }),
      { timeoutMs: 10_000, requestId: 'req-2' },
    );
    expect(scheduled).toMatchObject({
      kind: 'response',
      body: '{"count":1,"succeeded":1,"failed":0,"results":[{"function":"cube","count":2,"min":-1,"max":8,"mean":3.5}]}',
    });

    // A scheduled rule without an input sends an empty detail: not a batch, so the invocation fails.
    const empty = await server.invoke('{"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}', {
      timeoutMs: 10_000,
      requestId: 'req-3',
    });
    expect(empty).toMatchObject({
      kind: 'function-error',
      requestId: 'req-3',
      errorType: 'InvalidEvent',
      errorMessage: 'missing field "detail.jobs" (an array of sweep events)',
    });
    await stop(runtime);
  });

  it('sweep-batch applies SWEEP_MAX_JOBS, and reports a bad value to the init error endpoint', async () => {
    server = await RuntimeApiServer.start();
    const limited = start('sweep-batch', server.endpoint, { SWEEP_MAX_JOBS: '1' });
    const tooMany = await server.invoke('{"jobs": [{"function": "sin", "values": [0]}, {"function": "cos", "values": [0]}]}', {
      timeoutMs: 10_000,
    });
    expect(tooMany).toMatchObject({
      kind: 'function-error',
      errorType: 'InvalidEvent',
      errorMessage: 'too many jobs: "jobs" has 2 entries, the limit is 1',
    });
    await stop(limited);

    server = await RuntimeApiServer.start();
    const misconfigured = start('sweep-batch', server.endpoint, { SWEEP_MAX_JOBS: '5000' });
    const outcome = await server.invoke('{}', { timeoutMs: 10_000 });
    expect(outcome).toMatchObject({
      kind: 'init-error',
      errorType: 'Runtime.ConfigInvalid',
      errorMessage: 'SWEEP_MAX_JOBS must be a whole number from 1 to 1000, got "5000"',
    });
    const exited = await misconfigured;
    expect(exited.exitCode).toBe(1);
    expect(exited.all).toContain('sweep-batch: initialization failed: SWEEP_MAX_JOBS');
  });
}
