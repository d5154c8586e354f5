import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { unzipSync } from 'fflate';
import { buildArtifact } from '../../build/build-artifact.js';
import { resolveArtifactOptions } from '../../build/options.js';
import { createRecordingReporter } from '../../build/reporter.js';
import { RuntimeApiServer } from '../../invoke/runtime-api-server.js';
import { DOCKER, describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { EXAMPLE_WORKSPACE, makeTestProject, type TestProject } from '../helpers/project.js';

/**
 * The example workspace itself: its crates' own tests pass in the toolchain container, and the
 * `bootstrap` built by the engine is a working Lambda custom runtime.
 */
describeWithDocker('the example Rust workspace', () => {
  it("passes its crates' own cargo tests in the toolchain container", async () => {
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-cargo-test-'));
    try {
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
          'cargo',
          'test',
          '--locked',
          '--offline',
          '--workspace',
        ],
        { reject: false, all: true },
      );
      expect(run.exitCode).toBe(0);
      const results = String(run.all).match(/^test result: .*$/gm) ?? [];
      // sweep-core's unit tests and doc tests, sweep-lambda's unit tests and its binary tests.
      expect(results.length).toBeGreaterThanOrEqual(4);
      for (const line of results) expect(line).toMatch(/^test result: ok\. \d+ passed; 0 failed/);
      const passed = results.reduce((sum, line) => sum + Number(/(\d+) passed/.exec(line)![1]), 0);
      expect(passed).toBeGreaterThanOrEqual(60);
    } finally {
      fs.rmSync(target, { recursive: true, force: true });
    }
  });

  defineBootstrapTests();
});

function defineBootstrapTests(): void {
  let project: TestProject;
  let bootstrap: string;
  let server: RuntimeApiServer | undefined;
  beforeAll(async () => {
    project = makeTestProject();
    const result = await buildArtifact(resolveArtifactOptions({ projectRoot: project.root, toolchainImage: TOOLCHAIN_IMAGE }, {}), {
      reporter: createRecordingReporter(),
    });
    bootstrap = path.join(project.root, 'bootstrap');
    fs.writeFileSync(bootstrap, unzipSync(fs.readFileSync(result.zipPath)).bootstrap!, { mode: 0o755 });
  });
  afterAll(async () => {
    await server?.close();
    project.remove();
  });

  const runBootstrap = (endpoint: string) =>
    execa(bootstrap, [], { env: { AWS_LAMBDA_RUNTIME_API: endpoint }, extendEnv: false, reject: false, all: true });

  it('bootstrap answers a real invocation over the Runtime API with the handler result', async () => {
    server = await RuntimeApiServer.start();
    const runtime = runBootstrap(server.endpoint);
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
    await server.close(); // answers the pending `next` with 500: the runtime exits
    server = undefined;
    expect((await runtime).exitCode).toBe(1);
  });

  it('bootstrap reports a bad configuration to the init error endpoint and exits', async () => {
    server = await RuntimeApiServer.start();
    const runtime = execa(bootstrap, [], {
      env: { AWS_LAMBDA_RUNTIME_API: server.endpoint, SWEEP_MAX_POINTS: 'many' },
      extendEnv: false,
      reject: false,
    });
    const outcome = await server.invoke('{}', { timeoutMs: 10_000 });
    expect(outcome).toMatchObject({ kind: 'init-error', errorType: 'Runtime.ConfigInvalid' });
    expect((await runtime).exitCode).toBe(1);
  });
}
