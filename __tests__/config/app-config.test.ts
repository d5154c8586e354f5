import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { SweepError } from '../../build/support/errors.js';
import { parseAppConfig, readContextFromCdktfJson, selectFunctions } from '../../config/app-config.js';
import { sweepError } from '../helpers/errors.js';

function configError(raw: unknown, source?: string): SweepError {
  return sweepError(() => parseAppConfig(raw, source), 'config');
}

const RETENTION = 'one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653';
const ENVIRONMENT = 'an object of string values whose names are not reserved by Lambda (AWS_REGION, AWS_LAMBDA_*, _HANDLER, ...)';

const SINGLE_DEFAULTS = {
  key: 'aws-serverless-sweep',
  functionName: 'aws-serverless-sweep',
  memorySize: 256,
  timeoutSeconds: 30,
  environment: {},
  reservedConcurrency: null,
  logRetentionDays: 14,
  artifact: {},
  origin: { kind: 'context' },
};

describe('parseAppConfig: defaults', () => {
  it.each([[undefined], [null], [{}]])('fills every default for %p: one function', (raw) => {
    expect(parseAppConfig(raw)).toEqual({
      stackName: 'aws-serverless-sweep',
      region: 'us-east-1',
      artifact: {},
      backend: { type: 'local' },
      functions: [SINGLE_DEFAULTS],
    });
  });

  it('keeps valid values', () => {
    const config = parseAppConfig({
      region: 'eu-central-1',
      memorySize: 1024,
      timeoutSeconds: 900,
      environment: { LOG_LEVEL: 'debug' },
      reservedConcurrency: 0,
      logRetentionDays: 0,
      artifact: { architecture: 'arm64', features: ['trace'] },
    });
    expect(config.region).toBe('eu-central-1');
    expect(config.artifact).toEqual({ architecture: 'arm64', features: ['trace'] });
    expect(config.functions).toEqual([
      {
        ...SINGLE_DEFAULTS,
        memorySize: 1024,
        timeoutSeconds: 900,
        environment: { LOG_LEVEL: 'debug' },
        reservedConcurrency: 0,
        logRetentionDays: 0,
        artifact: { architecture: 'arm64', features: ['trace'] },
      },
    ]);
  });

  it('names the one function by its artifact name, else its package, else its function name', () => {
    expect(parseAppConfig({ artifact: { name: 'api', package: 'sweep-lambda' } }).functions[0]!.key).toBe('api');
    expect(parseAppConfig({ artifact: { package: 'sweep-lambda' } }).functions[0]!).toMatchObject({
      key: 'sweep-lambda',
      artifact: { package: 'sweep-lambda' },
    });
    expect(parseAppConfig({ functionName: 'my-fn' }).functions[0]!.key).toBe('my-fn');
  });

  it('accepts an s3 backend', () => {
    const backend = {
      type: 's3',
      bucket: 'my-state',
      key: 'aws-serverless-sweep/terraform.tfstate',
      region: 'us-east-1',
      useLockfile: true,
      encrypt: true,
    };
    expect(parseAppConfig({ backend }).backend).toEqual(backend);
  });

  it('accepts a local backend with a path', () => {
    expect(parseAppConfig({ backend: { type: 'local', path: 'state/terraform.tfstate' } }).backend).toEqual({
      type: 'local',
      path: 'state/terraform.tfstate',
    });
  });
});

describe('parseAppConfig: each bad key names context.sweep.<key>, the value and what is accepted', () => {
  it.each<[string, unknown, string]>([
    ['memorySize 64', { memorySize: 64 }, 'context.sweep.memorySize: got 64; expected an integer number of MB from 128 to 10240'],
    ['memorySize 128.5', { memorySize: 128.5 }, 'context.sweep.memorySize: got 128.5; expected an integer number of MB from 128 to 10240'],
    ['timeoutSeconds 0', { timeoutSeconds: 0 }, 'context.sweep.timeoutSeconds: got 0; expected an integer number of seconds from 1 to 900'],
    [
      'timeoutSeconds 901',
      { timeoutSeconds: 901 },
      'context.sweep.timeoutSeconds: got 901; expected an integer number of seconds from 1 to 900',
    ],
    ['region "mars"', { region: 'mars' }, 'context.sweep.region: got "mars"; expected an AWS region such as "us-east-1"'],
    [
      'environment with AWS_REGION',
      { environment: { AWS_REGION: 'us-west-2' } },
      `context.sweep.environment.AWS_REGION: got "us-west-2"; expected ${ENVIRONMENT}`,
    ],
    [
      'environment with AWS_LAMBDA_FUNCTION_NAME',
      { environment: { AWS_LAMBDA_FUNCTION_NAME: 'x' } },
      `context.sweep.environment.AWS_LAMBDA_FUNCTION_NAME: got "x"; expected ${ENVIRONMENT}`,
    ],
    [
      'environment with a number value',
      { environment: { LOG_LEVEL: 3 } },
      `context.sweep.environment.LOG_LEVEL: got 3; expected ${ENVIRONMENT}`,
    ],
    ['logRetentionDays 13', { logRetentionDays: 13 }, `context.sweep.logRetentionDays: got 13; expected ${RETENTION}`],
    [
      'artifact.architecture "x86"',
      { artifact: { architecture: 'x86' } },
      'context.sweep.artifact.architecture: got "x86"; expected one of "x86_64", "arm64"',
    ],
    [
      'artifact.features with a space',
      { artifact: { features: ['a b'] } },
      'context.sweep.artifact.features.0: got "a b"; expected a list of Cargo feature names',
    ],
    ['backend type "gcs"', { backend: { type: 'gcs' } }, 'context.sweep.backend.type: got "gcs"; expected "local" or "s3"'],
    [
      'unknown key "memory"',
      { memory: 512 },
      'context.sweep.memory: got 512; expected no such key (known keys: stackName, region, functionName, memorySize, timeoutSeconds, environment, reservedConcurrency, logRetentionDays, artifact, functions, backend)',
    ],
    [
      'reservedConcurrency -1',
      { reservedConcurrency: -1 },
      'context.sweep.reservedConcurrency: got -1; expected null (no reservation) or an integer >= 0',
    ],
    [
      'functionName too long',
      { functionName: 'f'.repeat(65) },
      `context.sweep.functionName: got "${'f'.repeat(65)}"; expected 1 to 64 letters, digits, _ or -`,
    ],
  ])('%s', (_what, raw, issue) => {
    const error = configError(raw);
    expect(error.message).toBe(`config: invalid cdktf.json:\n  ${issue}`);
    expect(error.fix).toBe('correct the value above in cdktf.json');
  });

  it('lists every issue of an s3 backend missing its key and region, with the plural fix', () => {
    const error = configError({ backend: { type: 's3', bucket: 'my-state' } });
    expect(error.message).toBe(
      'config: invalid cdktf.json:\n' +
        '  context.sweep.backend.key: got nothing; expected the state object key, e.g. "aws-serverless-sweep/terraform.tfstate"\n' +
        "  context.sweep.backend.region: got nothing; expected the bucket's region",
    );
    expect(error.fix).toBe('correct the values above in cdktf.json');
  });

  it('names an unknown key of the s3 backend', () => {
    const error = configError({ backend: { type: 's3', bucket: 'my-state', key: 'k', region: 'us-east-1', lock: true } });
    expect(
      error.message.startsWith(
        'config: invalid cdktf.json:\n  context.sweep.backend.lock: got true; expected no such key (known keys: type, ',
      ),
    ).toBe(true);
    expect(error.message.split('\n')).toHaveLength(2);
  });

  // Regression (fixed bug in config/app-config.ts, EXPECTED + knownKeys in build/options/schema.ts): the known keys of
  // `backend` are those of both variants, so an s3 backend with `path` (a local-backend key) is
  // refused as "no such key" while the same line lists `path` as known.
  it('lists only the s3 keys when refusing a local-backend key in an s3 backend', () => {
    const error = configError({ backend: { type: 's3', bucket: 'my-state', key: 'k', region: 'us-east-1', path: 'x' } });
    expect(error.message).toBe(
      'config: invalid cdktf.json:\n  context.sweep.backend.path: got "x"; expected no such key (known keys: type, bucket, key, region, useLockfile, dynamodbTable, encrypt)',
    );
  });

  it('uses the source the caller names', () => {
    expect(
      configError({ memorySize: 64 }, 'cdktf.json (context.sweep)').message.startsWith('config: invalid cdktf.json (context.sweep):\n'),
    ).toBe(true);
  });

  it('shortens the list after eight issues', () => {
    const error = configError({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10 });
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(1 + 8 + 1);
    expect(lines.at(-1)).toBe('  and 2 more');
  });

  // Regression (fixed bug in config/app-config.ts, EXPECTED: spreads every ARTIFACT_OPTIONS_EXPECTED key, including
  // projectRoot, which the schema omits): the error refuses `artifact.projectRoot` as "no such
  // key" and in the same line lists projectRoot among the known keys.
  it('does not list artifact.projectRoot as a known key when it refuses it', () => {
    const error = configError({ artifact: { projectRoot: '..' } });
    expect(error.message).toBe(
      'config: invalid cdktf.json:\n  context.sweep.artifact.projectRoot: got ".."; expected no such key (known keys: workspace, pullPolicy, forceRebuild, distDir, cacheDir, remoteCache, package, binary, name, architecture, runtime, profile, features, toolchainImage)',
    );
  });

  // Regression (fixed bug in build/options/schema.ts toConfigIssues, used by config/app-config.ts parseAppConfig): an
  // issue at the root (the `sweep` context is not an object) gets the key `context.sweep.` with a
  // trailing dot, and zod's own words instead of what is accepted.
  it('names context.sweep itself when it is not an object', () => {
    const error = configError('us-east-1');
    expect(error.message).toBe(
      'config: invalid cdktf.json:\n  context.sweep: got "us-east-1"; expected an object of settings (see README: Configuration)',
    );
  });
});

describe('readContextFromCdktfJson', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-app-config-'));
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('returns the sweep context of cdktf.json', () => {
    fs.writeFileSync(path.join(root, 'cdktf.json'), JSON.stringify({ app: 'npx tsx main.ts', context: { sweep: { memorySize: 512 } } }));
    expect(readContextFromCdktfJson(root)).toEqual({ memorySize: 512 });
  });

  it('is undefined without cdktf.json or without the key', () => {
    expect(readContextFromCdktfJson(root)).toBeUndefined();
    fs.writeFileSync(path.join(root, 'cdktf.json'), JSON.stringify({ app: 'x' }));
    expect(readContextFromCdktfJson(root)).toBeUndefined();
  });

  it('is an error naming the file when cdktf.json is not JSON', () => {
    const file = path.join(root, 'cdktf.json');
    fs.writeFileSync(file, '{ "context": ');
    const error = sweepError(() => readContextFromCdktfJson(root));
    expect(error.message.startsWith(`config: cannot use ${file}: it is not valid JSON: `)).toBe(true);
    expect(error.fix).toBe('correct the syntax of cdktf.json');
  });

  it.each([
    ['null', 'it must be a JSON object, not null'],
    ['[]', 'it must be a JSON object, not an array'],
    ['"text"', 'it must be a JSON object, not string'],
    ['{"context": []}', '"context" must be an object'],
  ])('is an error naming the file when cdktf.json is %s', (text, problem) => {
    const file = path.join(root, 'cdktf.json');
    fs.writeFileSync(file, text);
    expect(sweepError(() => readContextFromCdktfJson(root)).message).toBe(`config: cannot use ${file}: ${problem}`);
  });

  it('is an error naming the file when cdktf.json is a folder', () => {
    fs.mkdirSync(path.join(root, 'cdktf.json'));
    expect(sweepError(() => readContextFromCdktfJson(root)).message).toBe(
      `config: cannot use ${path.join(root, 'cdktf.json')}: it is not a regular file`,
    );
  });
});

describe('parseAppConfig: sweep.functions', () => {
  const twoFunctions = {
    memorySize: 512,
    environment: { LOG_LEVEL: 'info' },
    artifact: { workspace: 'rust', profile: 'release' },
    functions: {
      api: { environment: { MODE: 'api' }, artifact: { package: 'sweep-lambda', binary: 'bootstrap' } },
      worker: {
        functionName: 'sweep-worker',
        memorySize: 1024,
        reservedConcurrency: 2,
        artifact: { package: 'sweep-batch', binary: 'sweep-batch', features: ['x'] },
      },
    },
  };

  it('GIVEN two functions WHEN parsed THEN each has its own settings over the top-level defaults, in order', () => {
    const { functions } = parseAppConfig(twoFunctions);
    expect(functions.map((f) => f.key)).toEqual(['api', 'worker']);
    expect(functions[0]).toEqual({
      key: 'api',
      functionName: 'api',
      memorySize: 512,
      timeoutSeconds: 30,
      environment: { LOG_LEVEL: 'info', MODE: 'api' },
      reservedConcurrency: null,
      logRetentionDays: 14,
      artifact: { workspace: 'rust', profile: 'release', package: 'sweep-lambda', binary: 'bootstrap', name: 'api' },
      origin: { kind: 'context', function: 'api' },
    });
    expect(functions[1]).toMatchObject({
      key: 'worker',
      functionName: 'sweep-worker',
      memorySize: 1024,
      reservedConcurrency: 2,
      environment: { LOG_LEVEL: 'info' },
      artifact: { workspace: 'rust', package: 'sweep-batch', binary: 'sweep-batch', features: ['x'], name: 'worker' },
    });
  });

  it('a map of one is one function', () => {
    expect(parseAppConfig({ functions: { only: {} } }).functions.map((f) => f.key)).toEqual(['only']);
  });

  it.each<[string, unknown, string]>([
    ['an empty map', { functions: {} }, 'context.sweep.functions: got {}; expected at least one function'],
    [
      'a top-level functionName with the map',
      { functionName: 'x', functions: { a: {} } },
      'context.sweep.functionName: got "x"; expected no top-level functionName with sweep.functions: set it per function (context.sweep.functions.<name>.functionName)',
    ],
    [
      'a shared artifact name with the map',
      { artifact: { name: 'x' }, functions: { a: {} } },
      'context.sweep.artifact.name: got "x"; expected no shared artifact name with sweep.functions: set it per function (context.sweep.functions.<name>.artifact.name)',
    ],
    [
      'a workspace-wide option in a function',
      { functions: { a: { artifact: { distDir: 'out' } } } },
      'context.sweep.functions.a.artifact.distDir: got "out"; expected no such key (known keys: package, binary, name, architecture, runtime, profile, features, toolchainImage)',
    ],
    [
      'two functions with the same Lambda name',
      { functions: { a: { functionName: 'same' }, b: { functionName: 'same' } } },
      'context.sweep.functions.b: got "same"; expected a function name of its own (function a has it too)',
    ],
    [
      'two functions with the same zip name',
      { functions: { a: { artifact: { name: 'zip' } }, b: { artifact: { name: 'zip' } } } },
      'context.sweep.functions.b: got "zip"; expected an artifact name (dist/<name>.zip) of its own (function a has it too)',
    ],
    [
      'two functions whose names differ only in case (one dist/ file on a case-insensitive file system)',
      { functions: { Api: {}, api: {} } },
      'context.sweep.functions.api: got "api"; expected an artifact name (dist/<name>.zip) that differs from function Api\'s (Api) in more than case: on a case-insensitive file system they are one file',
    ],
    [
      'a function name that is not a name',
      { functions: { '1st': {} } },
      'context.sweep.functions.1st: got {}; expected an object mapping function names (a letter, then letters, digits, _ or -) to their settings',
    ],
    [
      'a bad setting of a function',
      { functions: { a: { memorySize: 1 } } },
      'context.sweep.functions.a.memorySize: got 1; expected an integer number of MB from 128 to 10240',
    ],
  ])('%s is an error naming the key', (_what, raw, issue) => {
    expect(configError(raw).message).toBe(`config: invalid cdktf.json:\n  ${issue}`);
  });

  it('selectFunctions picks by name and names the known ones for an unknown name', () => {
    const config = parseAppConfig(twoFunctions);
    expect(selectFunctions(config, []).map((f) => f.key)).toEqual(['api', 'worker']);
    expect(selectFunctions(config, ['worker']).map((f) => f.key)).toEqual(['worker']);
    const error = sweepError(() => selectFunctions(config, ['nope']));
    expect(error.message).toBe(
      'config: invalid --function:\n  --function: got "nope"; expected the name of a function in cdktf.json (api, worker)',
    );
  });
});
