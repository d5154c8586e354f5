import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { runCli } from '../helpers/cli.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, REPO_ROOT, type TestProject } from '../helpers/project.js';

/**
 * `sweep-runtime invoke`: the zip that will be deployed, run once against the local Runtime
 * API, on this machine or in the builder container.
 */
describeWithDocker('sweep-runtime invoke', () => {
  const env = { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE };
  const SQUARE =
    '{"function":"square","count":5,"points":[{"x":0,"y":0},{"x":2.5,"y":6.25},{"x":5,"y":25},{"x":7.5,"y":56.25},{"x":10,"y":100}],"min":0,"max":100,"mean":37.5,"sum":187.5}';
  let project: TestProject;
  /** The repository's cdktf.json, with the sweep-lambda function's environment replaced. */
  const writeConfig = (environment: Record<string, string>) => {
    const config = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdktf.json'), 'utf8'));
    config.context.sweep.functions['sweep-lambda'].environment = environment;
    fs.writeFileSync(path.join(project.root, 'cdktf.json'), JSON.stringify(config));
  };
  /** `sweep-runtime invoke` of the sweep-lambda function (cdktf.json has two). */
  const invoke = (args: string[], options: { input?: string } = {}) =>
    runCli(['invoke', '--function', 'sweep-lambda', ...args], { cwd: project.root, env, ...options });
  beforeAll(() => {
    project = makeTestProject();
    writeConfig({ SWEEP_MAX_POINTS: '1000' });
    fs.writeFileSync(path.join(project.root, 'square.json'), '{"start": 0, "stop": 10, "step": 2.5, "function": "square"}');
  });
  afterAll(() => project.remove());

  it('prints the function response on stdout for a real event (building the zip first if needed)', async () => {
    const run = await invoke(['--event', 'square.json']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(SQUARE);
    expect(run.stderr).toContain('[sweep-lambda] cache-miss: no metadata (first build)');
    expect(run.stderr).toMatch(/\[sweep-lambda\] invoke: response in [\d.]+ ms \(request [0-9a-f-]{36}, ran on host\)/);
  });

  it('runs the artifact in the builder container when asked, with the same answer', async () => {
    const run = await invoke(['--event', '-', '--in-container'], { input: '{"start": 0, "stop": 10, "step": 2.5, "function": "square"}' });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(SQUARE);
    expect(run.stderr).toMatch(/ran on sweep-builder:rust-1-bullseye-[0-9a-f]{8}\)/);
  });

  it('reports a handler error with its type and exits 1', async () => {
    const run = await invoke(['--event', '-'], { input: '{"start": 0, "stop": 10, "step": 0, "function": "square"}' });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe('{"errorMessage":"field \\"step\\" must be greater than 0, got 0","errorType":"InvalidEvent"}');
    expect(run.stderr).toContain('[sweep-lambda] invoke: function error InvalidEvent: field "step" must be greater than 0, got 0');
  });

  it("passes the function's configured environment, so a bad setting is an init error", async () => {
    writeConfig({ SWEEP_MAX_POINTS: '0' });
    const run = await invoke(['--event', 'square.json']);
    writeConfig({ SWEEP_MAX_POINTS: '1000' });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(
      /\[sweep-lambda\] invoke: init error Runtime\.ConfigInvalid: SWEEP_MAX_POINTS must be a whole number from 1 to 100000, got "0"/,
    );
  });

  it("refuses an event over Lambda's 6 MiB request limit instead of delivering it", async () => {
    const event = JSON.stringify({ start: 0, stop: 10, step: 2.5, function: 'square', padding: 'x'.repeat(6 * 1024 * 1024) });
    fs.writeFileSync(path.join(project.root, 'big.json'), event);
    const run = await invoke(['--event', 'big.json']);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      `error (invoke): the event is ${event.length} bytes; Lambda refuses a synchronous invoke of 6291456 bytes or more (RequestEntityTooLargeException)`,
    );
    expect(run.stderr).not.toContain('invoke: response');
  });

  it('refuses an event that is not JSON before running anything', async () => {
    const run = await invoke(['--event', '-'], { input: '{not json' });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/^error \(invoke\): the event in standard input is not JSON: /);
    expect(run.stderr).toContain('fix: Lambda events are JSON documents; check the file');
  });
});
