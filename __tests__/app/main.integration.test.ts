import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, REPO_ROOT, type TestProject } from '../helpers/project.js';

/**
 * The app (main.ts) as cdktf runs it, in a project folder with its own cdktf.json: the
 * operator's configuration loop ("env var updates") never rebuilds, and bad configuration
 * fails synth with one clear message.
 */
// What cdktf.json's `app` runs: main.ts through the compile cache.
const RUN_TS = path.join(REPO_ROOT, 'bin', 'run-ts.mjs');
const MAIN = path.join(REPO_ROOT, 'main.ts');

function writeCdktfJson(root: string, sweep: Record<string, unknown>): void {
  const base = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdktf.json'), 'utf8'));
  base.context.sweep = { ...base.context.sweep, ...sweep };
  fs.writeFileSync(path.join(root, 'cdktf.json'), JSON.stringify(base, null, 2));
}

function synth(root: string, env: Record<string, string> = { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE }) {
  return execa(process.execPath, [RUN_TS, MAIN], { cwd: root, env, reject: false, all: true });
}

function lambdaOf(root: string): Record<string, unknown> {
  const json = JSON.parse(fs.readFileSync(path.join(root, 'cdktf.out/stacks/aws-serverless-sweep/cdk.tf.json'), 'utf8'));
  return json;
}

/** The repository's cdktf.json with the sweep-lambda function's settings replaced by `settings`. */
function withLambdaSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const sweep = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdktf.json'), 'utf8')).context.sweep;
  return { functions: { ...sweep.functions, 'sweep-lambda': { ...sweep.functions['sweep-lambda'], ...settings } } };
}

describeWithDocker('the app: configuration changes do not rebuild', () => {
  let project: TestProject;
  beforeAll(() => {
    project = makeTestProject();
  });
  afterAll(() => project.remove());

  it("changing a function's memory, timeout and an environment variable changes only those attributes, with cache hits", async () => {
    writeCdktfJson(project.root, withLambdaSettings({ memorySize: 256, timeoutSeconds: 30, environment: { SWEEP_MAX_POINTS: '100000' } }));
    const first = await synth(project.root);
    expect(first.exitCode).toBe(0);
    expect(first.all).toContain('[sweep-lambda] cache-miss: no metadata (first build)');
    expect(first.all).toContain('[sweep-batch] cache-miss: no metadata (first build)');
    const before = lambdaOf(project.root);

    writeCdktfJson(project.root, withLambdaSettings({ memorySize: 512, timeoutSeconds: 60, environment: { SWEEP_MAX_POINTS: '5000' } }));
    const second = await synth(project.root);
    expect(second.exitCode).toBe(0);
    expect(second.all).toMatch(/\[sweep-lambda\] cache-hit: inputs unchanged/);
    expect(second.all).toMatch(/\[sweep-batch\] cache-hit: inputs unchanged/);
    expect(second.all).not.toContain('compile');

    const functionResource = Object.entries(
      (lambdaOf(project.root) as { resource: { aws_lambda_function: Record<string, { function_name: string }> } }).resource
        .aws_lambda_function,
    ).find(([, fn]) => fn.function_name === 'aws-serverless-sweep')![0];
    expect(differences(before, lambdaOf(project.root))).toEqual([
      `resource.aws_lambda_function.${functionResource}.environment.variables.SWEEP_MAX_POINTS`,
      `resource.aws_lambda_function.${functionResource}.memory_size`,
      `resource.aws_lambda_function.${functionResource}.timeout`,
    ]);
  });
});

describeWithDocker('the app: each function is checked once and forced to build once per synth, wherever its settings come from', () => {
  let project: TestProject;
  beforeAll(() => {
    project = makeTestProject();
  });
  afterAll(() => project.remove());

  // Each key set in cdktf.json's sweep.artifact, not in the environment: options resolved for the
  // stack and again for each artifact once named their source differently, so every function was
  // checked twice, and built twice under FORCE_REBUILD=1.
  const keys: [string, Record<string, unknown>, Record<string, string>][] = [
    ['pullPolicy', { pullPolicy: 'if-missing' }, { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE }],
    ['toolchainImage', { toolchainImage: TOOLCHAIN_IMAGE }, {}],
    // Read mode, forced: the shared cache is not asked, so no server is needed (nor reached).
    [
      'remoteCache',
      { remoteCache: { url: 's3://sweep-test-bucket/prefix', mode: 'read' } },
      {
        SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE,
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'y',
      },
    ],
  ];
  it.each(keys)(
    'GIVEN %s in cdktf.json WHEN synthesized, then forced THEN one line per function each time and one cargo run',
    async (_key, artifact, env) => {
      const sweep = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdktf.json'), 'utf8')).context.sweep;
      writeCdktfJson(project.root, { artifact: { ...sweep.artifact, ...artifact } });
      const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern.source, 'gm'))?.length ?? 0;

      const plain = await synth(project.root, env);
      expect(plain.exitCode).toBe(0);
      for (const name of ['sweep-lambda', 'sweep-batch']) {
        expect([name, count(plain.all, new RegExp(`^\\[${name}\\] (cache-hit|cache-miss)`))]).toEqual([name, 1]);
      }

      const forced = await synth(project.root, { ...env, FORCE_REBUILD: '1' });
      expect(forced.exitCode).toBe(0);
      for (const name of ['sweep-lambda', 'sweep-batch']) {
        expect([name, count(forced.all, new RegExp(`^\\[${name}\\] cache-miss: forced \\(FORCE_REBUILD=1\\)`))]).toEqual([name, 1]);
        expect([name, count(forced.all, new RegExp(`^\\[${name}\\] done: cache-miss`))]).toEqual([name, 1]);
      }
      expect(count(forced.all, /compile: cargo build/)).toBe(1);
    },
  );
});

describe('the app: bad configuration', () => {
  let project: TestProject;
  beforeAll(() => {
    project = makeTestProject();
  });
  afterAll(() => project.remove());

  it('fails synth naming the key, the value and what is accepted, before any build', async () => {
    writeCdktfJson(project.root, { memorySize: 64, artifact: { architecture: 'x86' } });
    const run = await synth(project.root);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      [
        `error (config): invalid ${'cdktf.json'}:`,
        '  context.sweep.memorySize: got 64; expected an integer number of MB from 128 to 10240',
        '  context.sweep.artifact.architecture: got "x86"; expected one of "x86_64", "arm64"',
        '  fix: correct the values above in cdktf.json',
      ].join('\n'),
    );
    expect(fs.existsSync(project.dist)).toBe(false);
  });
});

/** Dotted paths of the leaves that differ between two JSON values. */
function differences(a: unknown, b: unknown, at = ''): string[] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [at];
}
