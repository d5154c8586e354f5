// invokeLocally on this machine, with a fake Node.js bootstrap (fake-runtime.ts): what reaches
// the function, how init and timeouts are counted, and what is refused before anything runs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { EVENT_SIZE_LIMIT_BYTES, MAX_RESPONSE_BYTES } from '../../invoke/limits.js';
import { invokeLocally, type LocalInvokeRequest } from '../../invoke/local-invoke.js';
import { sweepError } from '../helpers/errors.js';
import { FAKE_RUNTIME, fakeMetadata } from './fake-runtime.js';
import { makeZip, tempFiles, withDeclaredSize } from './zip-fixtures.js';

/**
 * What AWS's "Defined runtime environment variables" lists for an OS-only (provided.*) runtime
 * without X-Ray tracing or advanced logging: reserved ones minus the execution role's keys
 * (no role here) and the two the docs say such runtimes do not get (AWS_EXECUTION_ENV,
 * _X_AMZN_TRACE_ID), plus the unreserved LANG, PATH, LD_LIBRARY_PATH and TZ.
 */
const DOCUMENTED_FOR_CUSTOM_RUNTIME = [
  '_HANDLER',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
  'LANG',
  'PATH',
  'LD_LIBRARY_PATH',
  'TZ',
];

let files: ReturnType<typeof tempFiles>;
beforeEach(() => {
  files = tempFiles();
});
afterEach(() => files.cleanup());

function request(overrides: Partial<LocalInvokeRequest> & { zipPath: string }): LocalInvokeRequest {
  return {
    metadata: fakeMetadata(),
    event: '{"hello":"world"}',
    timeoutMs: 10_000,
    functionName: 'sweep-test',
    memorySize: 256,
    region: 'eu-west-1',
    environment: {},
    builderImage: 'sweep-builder:test',
    dockerCommand: 'docker',
    ...overrides,
  };
}

const fakeZip = () => files.write('app.zip', makeZip({ bootstrap: FAKE_RUNTIME }));

async function echoedEnvironment(environment: Record<string, string>): Promise<Record<string, string>> {
  const { outcome, ranOn } = await invokeLocally(request({ zipPath: fakeZip(), environment }));
  expect(ranOn).toBe('host');
  if (outcome.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(outcome)}`);
  return JSON.parse(outcome.body).env;
}

/** Temporary folders invokeLocally made, to prove it made none. */
const invokeDirs = () => fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('sweep-invoke-'));

describe('invokeLocally', () => {
  it("gives the function exactly Lambda's custom-runtime environment, its configuration, and no credentials", async () => {
    const hostHad = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'host-secret';
    let env: Record<string, string>;
    try {
      env = await echoedEnvironment({
        TABLE: 'items',
        LANG: 'C.UTF-8',
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_LAMBDA_FUNCTION_NAME: 'spoof',
      });
    } finally {
      if (hostHad === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = hostHad;
    }
    expect(env).toMatchObject({
      TABLE: 'items',
      LANG: 'C.UTF-8',
      AWS_LAMBDA_FUNCTION_NAME: 'sweep-test',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/sweep-test',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      _HANDLER: 'bootstrap',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      TZ: ':UTC',
      PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    });
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(env.AWS_LAMBDA_RUNTIME_API).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(env.LD_LIBRARY_PATH).toBe(
      `/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:${env.LAMBDA_TASK_ROOT}:${env.LAMBDA_TASK_ROOT}/lib:/opt/lib`,
    );
    // Nothing else: no credentials (configured or the host's), nothing of the host's environment.
    expect(Object.keys(env).sort()).toEqual([...DOCUMENTED_FOR_CUSTOM_RUNTIME, 'TABLE'].sort());
  });

  it('does not count a slow init against the function timeout', async () => {
    const zipPath = fakeZip();
    const { outcome } = await invokeLocally(
      request({ zipPath, timeoutMs: 300, environment: { FAKE_MODE: 'slow-init', FAKE_INIT_MS: '800' } }),
    );
    expect(outcome).toMatchObject({ kind: 'response' });
  });

  it('ends with init-timeout when bootstrap never asks for the event', async () => {
    const zipPath = fakeZip();
    const { outcome } = await invokeLocally(
      request({ zipPath, timeoutMs: 60_000, initTimeoutMs: 400, environment: { FAKE_MODE: 'never-poll' } }),
    );
    expect(outcome).toMatchObject({ kind: 'init-timeout', initTimeoutMs: 400 });
  }, 10_000);

  it('turns an error report over the cap into Function.ResponseSizeTooLarge', async () => {
    const zipPath = fakeZip();
    const { outcome } = await invokeLocally(
      request({ zipPath, environment: { FAKE_MODE: 'big-error', FAKE_ERROR_BYTES: String(MAX_RESPONSE_BYTES + 1) } }),
    );
    expect(outcome).toMatchObject({ kind: 'function-error', errorType: 'Function.ResponseSizeTooLarge' });
  });

  it("runs in the image this machine's configuration names, never the metadata's builderImage.tag (a download chose it)", async () => {
    // GIVEN metadata as a forged download would bring it, and a docker client that records its arguments.
    const argvFile = files.write('argv', new Uint8Array());
    const docker = files.write('docker', Buffer.from(`#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > '${argvFile}'\n`));
    fs.chmodSync(docker, 0o755);
    let prepared = 0;

    // WHEN
    const { outcome, ranOn } = await invokeLocally(
      request({
        zipPath: fakeZip(),
        metadata: fakeMetadata('--privileged'),
        inContainer: true,
        builderImage: 'sweep-builder:rust-1-bullseye-0123abcd',
        prepareBuilderImage: async () => {
          prepared++;
        },
        dockerCommand: docker,
      }),
    );

    // THEN the configured image ran (once made sure of), as the command, after every option.
    expect({ outcome, ranOn, prepared }).toEqual({
      outcome: { kind: 'exited', exitCode: 0, signal: undefined },
      ranOn: 'sweep-builder:rust-1-bullseye-0123abcd',
      prepared: 1,
    });
    const argv = fs.readFileSync(argvFile, 'utf8').split('\n').slice(0, -1);
    expect(argv.slice(-2)).toEqual(['sweep-builder:rust-1-bullseye-0123abcd', '/var/task/bootstrap']);
    expect(argv).not.toContain('--privileged');
  });

  it('does not make the builder image when the binary runs on this machine', async () => {
    let prepared = 0;
    const { ranOn } = await invokeLocally(
      request({
        zipPath: fakeZip(),
        prepareBuilderImage: async () => {
          prepared++;
        },
      }),
    );
    expect({ ranOn, prepared }).toEqual({ ranOn: 'host', prepared: 0 });
  });

  it('refuses an event of 6 MiB or more before touching the zip or starting anything', async () => {
    const before = invokeDirs();
    const event = `"${'x'.repeat(EVENT_SIZE_LIMIT_BYTES)}"`;
    const error = await invokeLocally(request({ zipPath: '/nonexistent/app.zip', event })).catch((e: unknown) => e);
    expect(sweepError(() => throwIt(error)).problem).toBe(
      `the event is ${EVENT_SIZE_LIMIT_BYTES + 2} bytes; Lambda refuses a synchronous invoke of 6291456 bytes or more (RequestEntityTooLargeException)`,
    );
    expect(invokeDirs()).toEqual(before);
  });

  it('refuses a zip over 250 MB unzipped, and a truncated zip, with one clear error each', async () => {
    const huge = files.write('huge.zip', withDeclaredSize(makeZip({ bootstrap: FAKE_RUNTIME }), 300_000_000));
    const hugeError = await invokeLocally(request({ zipPath: huge })).catch((e: unknown) => e);
    expect(sweepError(() => throwIt(hugeError)).problem).toBe(
      `${huge} unzips to 300000000 bytes; Lambda refuses code of 262144000 bytes or more unzipped`,
    );

    const zip = makeZip({ bootstrap: FAKE_RUNTIME });
    const truncated = files.write('truncated.zip', zip.subarray(0, zip.length - 30));
    const truncatedError = await invokeLocally(request({ zipPath: truncated })).catch((e: unknown) => e);
    const error = sweepError(() => throwIt(truncatedError));
    expect(error.stage).toBe('invoke');
    expect(error.problem).toBe(`cannot read ${truncated}: no end-of-central-directory record: the file is truncated or not a zip`);
  });
});

function throwIt(error: unknown): never {
  throw error;
}
