// The local Invoke API driven by clients no one here wrote: the AWS SDK's LambdaClient and the
// AWS CLI v2, with the looping fake runtime (fake-warm-runtime.ts) for what a test must control
// (errors, sleeps, labels of code versions), and with the real Rust bootstrap built by the engine
// for a response and a warm start.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { builderRecipe } from '../../build/builder/recipe.js';
import { ensureArtifacts } from '../../build/engine/engine.js';
import { resolveArtifactOptions } from '../../build/options/resolve.js';
import { createRecordingOutput } from '../../build/support/reporter.js';
import type { CodeSource } from '../../invoke/function-code.js';
import type { LocalFunction, PoolInvocation } from '../../invoke/function-pool.js';
import { InvokeApiServer } from '../../invoke/invoke-api-server.js';
import { AWS_CLI, awsCliEnvironment, describeWithAwsCli } from '../helpers/aws-cli.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';
import { type WarmAnswer, warmCode } from './fake-warm-runtime.js';
import { tempFiles } from './zip-fixtures.js';

const BASE: LocalFunction = {
  key: 'fake',
  functionName: 'fake-deployed',
  memorySize: 128,
  timeoutSeconds: 30,
  environment: {},
  reservedConcurrency: null,
};
const SINGLE: LocalFunction = { ...BASE, key: 'single', functionName: 'single-deployed', reservedConcurrency: 1 };
/** 6 MiB of payload: Lambda refuses a synchronous invoke of 6291456 bytes or more. */
const OVERSIZED = JSON.stringify({ padding: 'x'.repeat(6 * 1024 * 1024) });

/** A server with the fake runtime as `fake` (no reserved concurrency) and `single` (reserved 1). */
function fakeServer() {
  const state = {
    server: undefined as unknown as InvokeApiServer,
    files: undefined as unknown as ReturnType<typeof tempFiles>,
    invocations: [] as Array<{ type: string; result: PoolInvocation }>,
  };
  beforeEach(async () => {
    state.files = tempFiles();
    state.invocations = [];
    state.server = await InvokeApiServer.start({
      port: 0,
      region: 'us-east-1',
      onInvocation: (_key, type, result) => state.invocations.push({ type, result }),
    });
    state.server.register(BASE, warmCode(state.files.write, 'v1'));
    state.server.register(SINGLE, warmCode(state.files.write, 'single'));
  });
  afterEach(async () => {
    await state.server.close();
    state.files.cleanup();
  });
  return state;
}

/** Resolves once `condition` holds, polling; a test that never sees it fails by its timeout. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('the local Invoke API, driven by the SDK LambdaClient', () => {
  const state = fakeServer();
  let client: LambdaClient;
  beforeEach(() => {
    client = new LambdaClient({
      endpoint: state.server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIALOCALTEST', secretAccessKey: 'local-test-secret' },
      // One attempt: the SDK retries a 429 by itself, which would hide the throttling asked for.
      maxAttempts: 1,
    });
  });
  afterEach(() => client.destroy());

  const send = (input: Partial<ConstructorParameters<typeof InvokeCommand>[0]> & { payload?: unknown }) => {
    const { payload, ...rest } = input;
    return client.send(new InvokeCommand({ FunctionName: 'fake-deployed', Payload: Buffer.from(JSON.stringify(payload ?? {})), ...rest }));
  };
  const answer = (output: InvokeCommandOutput) => JSON.parse(Buffer.from(output.Payload!).toString('utf8')) as WarmAnswer;

  it('gets the function response, with the version and the request id its runtime saw', async () => {
    const output = await send({ payload: { hello: 'world' } });
    expect(output.StatusCode).toBe(200);
    expect(output.ExecutedVersion).toBe('$LATEST');
    expect(output.FunctionError).toBeUndefined();
    expect(answer(output).event).toEqual({ hello: 'world' });
    expect(output.$metadata.requestId).toBe(answer(output).requestId);
  });

  it('gets a function error as FunctionError Unhandled with its error document', async () => {
    const output = await send({ payload: { fail: 'no such item' } });
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(output.Payload!).toString('utf8'))).toEqual({ errorType: 'Boom', errorMessage: 'no such item' });
  });

  it('gets the tail of the log with LogType Tail', async () => {
    const output = await send({ payload: { log: ['from the handler'] }, LogType: 'Tail' });
    const log = Buffer.from(output.LogResult!, 'base64').toString('utf8');
    expect(log).toMatch(
      new RegExp(`^START RequestId: ${output.$metadata.requestId} Version: \\$LATEST\\nfrom the handler\\nEND RequestId: `),
    );
    expect(log).toMatch(/\nREPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\t/);
  });

  it('gets 202 for an Event, which then runs, and 204 for a DryRun, which does not', async () => {
    const event = await send({ InvocationType: 'Event', payload: { n: 1 } });
    expect(event.StatusCode).toBe(202);
    await until(() => state.invocations.length === 1);
    expect(state.invocations[0]).toMatchObject({ type: 'Event', result: { kind: 'completed', outcome: { kind: 'response' } } });

    const dryRun = await send({ FunctionName: 'single', InvocationType: 'DryRun' });
    expect(dryRun.StatusCode).toBe(204);
    expect(state.server.pool('single')?.environmentInfo).toEqual([]);
  });

  it('gets ResourceNotFoundException (404) for an unknown function or version', async () => {
    await expect(send({ FunctionName: 'nope' })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(send({ FunctionName: 'fake-deployed', Qualifier: '3' })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('gets RequestEntityTooLargeException (413) for a payload of 6 MiB', async () => {
    const error = await client
      .send(new InvokeCommand({ FunctionName: 'fake-deployed', Payload: Buffer.from(OVERSIZED) }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'RequestEntityTooLargeException',
      message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
      $metadata: { httpStatusCode: 413 },
    });
  });

  it('reuses the warm process, and runs new code from the next invocation after a code update', async () => {
    const first = answer(await send({}));
    const warm = answer(await send({ FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:fake-deployed' }));
    expect(warm.pid).toBe(first.pid);
    expect(warm.count).toBe(2);

    await state.server.replaceCode('fake', warmCode(state.files.write, 'v2'));
    const reloaded = answer(await send({}));
    expect([first.label, reloaded.label]).toEqual(['v1', 'v2']);
    expect(reloaded.pid).not.toBe(first.pid);
  });

  it('gives two concurrent invocations two environments, and throttles beyond the reserved concurrency', async () => {
    const [a, b] = (await Promise.all([send({ payload: { sleepMs: 300 } }), send({ payload: { sleepMs: 300 } })])).map(answer);
    expect(a!.pid).not.toBe(b!.pid);
    expect(state.server.pool('fake')?.environmentInfo).toHaveLength(2);

    const holding = send({ FunctionName: 'single', payload: { sleepMs: 500 } });
    await until(() => state.server.pool('single')?.environmentInfo.length === 1);
    await expect(send({ FunctionName: 'single' })).rejects.toMatchObject({
      name: 'TooManyRequestsException',
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      $metadata: { httpStatusCode: 429 },
    });
    expect((await holding).StatusCode).toBe(200);
  });
});

describeWithAwsCli('the local Invoke API, driven by the AWS CLI v2', () => {
  const state = fakeServer();
  let folder: string;
  let out: string;
  beforeEach(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-aws-cli-'));
    out = path.join(folder, 'response.json');
  });
  afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

  /**
   * `aws lambda invoke`, the payload passed as is (`raw-in-base64-out`), the response written to
   * `outFile`; never throws on a non-zero exit.
   */
  const lambdaInvoke = (functionName: string, args: string[] = [], payload?: string, outFile = out) =>
    execa(
      AWS_CLI,
      [
        'lambda',
        'invoke',
        '--endpoint-url',
        state.server.endpoint,
        '--function-name',
        functionName,
        '--cli-binary-format',
        'raw-in-base64-out',
        ...(payload === undefined ? [] : ['--payload', payload]),
        ...args,
        outFile,
      ],
      { env: awsCliEnvironment(), extendEnv: false, reject: false },
    );
  const metadata = (stdout: string) =>
    JSON.parse(stdout) as { StatusCode: number; FunctionError?: string; LogResult?: string; ExecutedVersion?: string };
  const response = () => JSON.parse(fs.readFileSync(out, 'utf8')) as WarmAnswer;

  it('writes the response and prints StatusCode 200 and the version', async () => {
    const run = await lambdaInvoke('fake-deployed', [], '{"hello":"world"}');
    expect(run.exitCode).toBe(0);
    expect(metadata(run.stdout)).toEqual({ StatusCode: 200, ExecutedVersion: '$LATEST' });
    expect(response().event).toEqual({ hello: 'world' });
  });

  it('prints FunctionError Unhandled and writes the error document for a function error', async () => {
    const run = await lambdaInvoke('fake', [], '{"fail":"no such item"}');
    expect(metadata(run.stdout)).toEqual({ StatusCode: 200, FunctionError: 'Unhandled', ExecutedVersion: '$LATEST' });
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toEqual({ errorType: 'Boom', errorMessage: 'no such item' });
  });

  it('prints the tail of the log with --log-type Tail', async () => {
    const run = await lambdaInvoke('fake', ['--log-type', 'Tail'], '{"log":["from the handler"]}');
    const log = Buffer.from(metadata(run.stdout).LogResult ?? '', 'base64').toString('utf8');
    expect(log).toMatch(/^START RequestId: [0-9a-f-]{36} Version: \$LATEST\nfrom the handler\nEND RequestId: [0-9a-f-]{36}\nREPORT /);
  });

  it('prints StatusCode 202 for an Event (which then runs) and 204 for a DryRun', async () => {
    const event = await lambdaInvoke('fake', ['--invocation-type', 'Event'], '{}');
    expect(metadata(event.stdout)).toEqual({ StatusCode: 202 });
    await until(() => state.invocations.some((i) => i.type === 'Event'));
    const dryRun = await lambdaInvoke('fake', ['--invocation-type', 'DryRun'], '{}');
    expect(metadata(dryRun.stdout)).toEqual({ StatusCode: 204 });
  });

  it('fails with ResourceNotFoundException for an unknown function', async () => {
    const run = await lambdaInvoke('nope');
    expect(run.exitCode).toBe(254);
    expect(run.stderr.trim()).toBe(
      'An error occurred (ResourceNotFoundException) when calling the Invoke operation (reached max retries: 0): Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
    );
  });

  it('fails with RequestEntityTooLargeException for a payload of 6 MiB', async () => {
    const file = state.files.write('big.json', Buffer.from(OVERSIZED));
    const run = await lambdaInvoke('fake', [], `fileb://${file}`);
    expect(run.exitCode).toBe(254);
    expect(run.stderr.trim()).toBe(
      'An error occurred (RequestEntityTooLargeException) when calling the Invoke operation (reached max retries: 0): Request must be smaller than 6291456 bytes for the InvokeFunction operation',
    );
  });

  it('reuses the warm process, then runs new code after a code update', async () => {
    await lambdaInvoke('fake', [], '{}');
    const first = response();
    await lambdaInvoke('fake', [], '{}');
    const warm = response();
    expect(warm.pid).toBe(first.pid);
    expect(warm.count).toBe(2);
    await state.server.replaceCode('fake', warmCode(state.files.write, 'v2'));
    await lambdaInvoke('fake', [], '{}');
    expect(response().label).toBe('v2');
  });

  it('gives two concurrent invocations two environments, and fails with TooManyRequestsException beyond the reserved concurrency', async () => {
    const pair = await Promise.all(
      [1, 2].map(async (n) => {
        const own = path.join(folder, `pair-${n}.json`);
        // Each holds its environment 2.5 s: far longer than the CLI's start-up, so the two overlap.
        expect((await lambdaInvoke('fake', [], '{"sleepMs":2500}', own)).exitCode).toBe(0);
        return JSON.parse(fs.readFileSync(own, 'utf8')) as WarmAnswer;
      }),
    );
    expect(pair[0]!.pid).not.toBe(pair[1]!.pid);

    const holding = lambdaInvoke('single', [], '{"sleepMs":60000}');
    try {
      await until(() => state.server.pool('single')?.environmentInfo.length === 1);
      const throttled = await lambdaInvoke('single', [], undefined, path.join(folder, 'throttled.json'));
      expect(throttled.exitCode).toBe(254);
      expect(throttled.stderr.trim()).toBe(
        'An error occurred (TooManyRequestsException) when calling the Invoke operation (reached max retries: 0): Rate Exceeded.',
      );
    } finally {
      // Closing the server ends the held invocation, and the CLI with it: no process outlives the test.
      await state.server.close();
      await holding;
    }
  });
});

describeWithDocker('the local Invoke API running the real Rust bootstrap', () => {
  const SQUARE_EVENT = { start: 0, stop: 10, step: 2.5, function: 'square' };
  const SQUARE =
    '{"function":"square","count":5,"points":[{"x":0,"y":0},{"x":2.5,"y":6.25},{"x":5,"y":25},{"x":7.5,"y":56.25},{"x":10,"y":100}],"min":0,"max":100,"mean":37.5,"sum":187.5}';
  const LAMBDA: LocalFunction = {
    key: 'sweep-lambda',
    functionName: 'aws-serverless-sweep',
    memorySize: 256,
    timeoutSeconds: 30,
    environment: { SWEEP_MAX_POINTS: '1000' },
    reservedConcurrency: null,
  };
  let project: TestProject;
  let code: CodeSource;
  let server: InvokeApiServer | undefined;
  beforeAll(async () => {
    project = makeTestProject();
    const options = resolveArtifactOptions(
      { projectRoot: project.root, toolchainImage: TOOLCHAIN_IMAGE, package: 'sweep-lambda', binary: 'bootstrap' },
      { env: {} },
    );
    const [built] = await ensureArtifacts([options], { output: createRecordingOutput() });
    code = { zipPath: built!.zipPath, metadata: built!.metadata, builderImage: builderRecipe(options).tag };
  });
  afterEach(() => server?.close());
  afterAll(() => project.remove());

  it.each([
    ['on this machine', false, /^host$/],
    ['in its builder image', true, /^sweep-builder:/],
  ])('answers %s and reuses the warm process for the next invocation', async (_where, inContainer, runsOn) => {
    const results: PoolInvocation[] = [];
    server = await InvokeApiServer.start({
      port: 0,
      region: 'us-east-1',
      runner: { inContainer },
      onInvocation: (_k, _t, r) => results.push(r),
    });
    const pool = server.register(LAMBDA, code);
    expect(pool.runsOn).toMatch(runsOn);
    const client = new LambdaClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIALOCALTEST', secretAccessKey: 'local-test-secret' },
    });
    try {
      for (let i = 0; i < 2; i++) {
        const output = await client.send(
          new InvokeCommand({ FunctionName: 'aws-serverless-sweep', Payload: Buffer.from(JSON.stringify(SQUARE_EVENT)), LogType: 'Tail' }),
        );
        expect(output.FunctionError).toBeUndefined();
        expect(Buffer.from(output.Payload!).toString('utf8')).toBe(SQUARE);
      }
    } finally {
      client.destroy();
    }
    const [cold, warm] = results.map((r) => r as Extract<PoolInvocation, { kind: 'completed' }>);
    expect([cold!.coldStart, warm!.coldStart]).toEqual([true, false]);
    expect(warm!.pid).toBe(cold!.pid);
    expect(pool.environmentInfo).toEqual([expect.objectContaining({ pid: cold!.pid, invocations: 2, idle: true })]);
    expect(cold!.logTail.toString('utf8')).toMatch(/\tInit Duration: [\d.]+ ms\t/);
    expect(warm!.logTail.toString('utf8')).not.toContain('Init Duration');
  });
});
