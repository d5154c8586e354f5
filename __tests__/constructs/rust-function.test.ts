import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { App, TerraformStack, Testing, Token } from 'cdktf';
import { checkCache } from '../../build/cache/check.js';
import { writeMetadata } from '../../build/cache/metadata.js';
import { resolveArtifactOptions } from '../../build/options/resolve.js';
import { createLambdaZip } from '../../build/package/zip.js';
import { SweepError } from '../../build/support/errors.js';
import { FUNCTION_LIST_FILE, readFunctionList } from '../../config/function-list.js';
import { RustArtifact, RustFunction, type RustFunctionConfig } from '../../constructs/index.js';
import { PrebuiltArtifact } from '../../constructs/prebuilt-artifact.js';
import { recordFor } from '../helpers/artifact-records.js';
import '../helpers/cdktf-matchers.js';
import { REPO_ROOT } from '../helpers/project.js';

/**
 * RustFunction and RustArtifact without Docker: the functions' zips and records are written by
 * hand the way a build writes them, so every synth here is a cache hit answered in-process
 * (SWEEP_DOCKER names no program: a build would fail). What is tested is the construct's side:
 * the deferred build at synth, the values it hands to Terraform, the function list, the options
 * passed through, and the errors.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/workspaces/', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
const ELF = fs.readFileSync(path.join(REPO_ROOT, '__tests__/fixtures/elf/x86_64-static'));

let project: string;
let savedDocker: string | undefined;
beforeEach(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-rust-function-'));
  fs.cpSync(path.join(FIXTURES, 'multi-function'), path.join(project, 'rust'), { recursive: true });
  savedDocker = process.env.SWEEP_DOCKER;
  process.env.SWEEP_DOCKER = '/nonexistent/docker-that-must-not-run';
});
afterEach(() => {
  if (savedDocker === undefined) delete process.env.SWEEP_DOCKER;
  else process.env.SWEEP_DOCKER = savedDocker;
  fs.rmSync(project, { recursive: true, force: true });
});

/** dist/<name>.zip and the record a build of package `name` would have written: the next check is a hit. */
function recordBuild(name: string): { sha256: string; sha256Base64: string; fingerprint: string } {
  const check = checkCache(resolveArtifactOptions({ projectRoot: project, package: name, name }));
  const zip = createLambdaZip(ELF);
  const digest = createHash('sha256').update(zip).digest();
  fs.mkdirSync(path.dirname(check.paths.zip), { recursive: true });
  fs.writeFileSync(check.paths.zip, zip);
  const zipRecord = {
    file: `${name}.zip`,
    size: zip.byteLength,
    sha256: digest.toString('hex'),
    sha256Base64: digest.toString('base64'),
    originFingerprint: check.fingerprint.value,
  };
  writeMetadata(
    check.paths.metadata,
    recordFor(check.fingerprint, {
      artifact: name,
      zip: zipRecord,
      binary: { machine: 'x86_64', linkage: 'static', glibcRequired: null, glibcAvailable: '2.34', size: ELF.byteLength },
    }),
  );
  return { sha256: zipRecord.sha256, sha256Base64: zipRecord.sha256Base64, fingerprint: check.fingerprint.value };
}

const lambdas = (json: string) => Object.values(JSON.parse(json).resource.aws_lambda_function) as Record<string, unknown>[];

/** The error `run` throws (it must throw a SweepError). */
function thrown(run: () => unknown): SweepError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SweepError);
    return error as SweepError;
  }
  throw new Error('expected a SweepError, nothing was thrown');
}

describe('RustFunction: built at synth, all of an app at once', () => {
  it('GIVEN two functions in two stacks WHEN synthesized THEN each function gets its own zip, hash and settings', () => {
    const api = recordBuild('api');
    const worker = recordBuild('worker');
    const app = Testing.app();
    const one = new TerraformStack(app, 'one');
    const two = new TerraformStack(app, 'two');
    const apiFn = new RustFunction(one, 'api', { projectRoot: project, package: 'api', memorySize: 512, environment: { MODE: 'api' } });
    const workerFn = new RustFunction(two, 'worker', { projectRoot: project, package: 'worker', functionName: 'jobs', timeout: 300 });

    // Before synth, the build has not run: the values are tokens, and the outcome is not known yet.
    expect(Token.isUnresolved(apiFn.code.filename)).toBe(true);
    expect(thrown(() => (apiFn.code as RustArtifact).outcome).message).toBe(
      'config: outcome of RustArtifact "one/api/code" is known only once the app\'s functions are built, at synth\n' +
        '  fix: read it after app.synth() (or Testing.synth); inside resources, use the token properties (filename, codeSha256, ...), which resolve at synth',
    );

    const oneJson = Testing.synth(one);
    const twoJson = Testing.synth(two);
    expect(lambdas(oneJson)).toEqual([
      expect.objectContaining({
        function_name: 'api',
        filename: expect.stringMatching(new RegExp(`^assets/api_code_zip_[0-9A-F]{8}/${api.sha256}/api\\.zip$`)),
        source_code_hash: api.sha256Base64,
        runtime: 'provided.al2023',
        handler: 'bootstrap',
        architectures: ['x86_64'],
        memory_size: 512,
        timeout: 30,
        environment: { variables: { MODE: 'api' } },
      }),
    ]);
    expect(lambdas(twoJson)).toEqual([
      expect.objectContaining({ function_name: 'jobs', source_code_hash: worker.sha256Base64, memory_size: 256, timeout: 300 }),
    ]);
    const artifact = workerFn.code as RustArtifact;
    expect([artifact.outcome, artifact.via, artifact.zipPath]).toEqual(['cache-hit', 'local', path.join(project, 'dist', 'worker.zip')]);
    expect(artifact.artifactName).toBe('worker');
  });

  it('GIVEN code-defined functions WHEN synthesized THEN the app writes its function list for sweep-runtime, with each function settings', () => {
    recordBuild('api');
    recordBuild('worker');
    const app = Testing.app();
    const stack = new TerraformStack(app, 'stack');
    new RustFunction(stack, 'api', { projectRoot: project, package: 'api', environment: { MODE: 'api' } });
    new RustArtifact(stack, 'worker', { projectRoot: project, package: 'worker', features: [] });
    Testing.synth(stack);
    const list = readFunctionList(path.join(app.outdir, FUNCTION_LIST_FILE));
    expect(list?.functions).toEqual({
      api: {
        construct: 'stack/api',
        kind: 'RustFunction',
        functionName: 'api',
        memorySize: 256,
        timeoutSeconds: 30,
        environment: { MODE: 'api' },
        artifact: { projectRoot: project, package: 'api', binary: 'api', name: 'api' },
      },
      worker: {
        construct: 'stack/worker',
        kind: 'RustArtifact',
        functionName: 'worker',
        memorySize: 256,
        timeoutSeconds: 30,
        environment: {},
        artifact: { projectRoot: project, package: 'worker', binary: 'worker', name: 'worker', features: [] },
      },
    });
  });

  it('GIVEN a full synth of the app THEN the zip is copied into the stack at the asset path the function names', () => {
    const api = recordBuild('api');
    const outdir = fs.mkdtempSync(path.join(project, 'out-'));
    const app = new App({ outdir, skipValidation: true });
    const stack = new TerraformStack(app, 'stack');
    new RustFunction(stack, 'api', { projectRoot: project, package: 'api' });
    app.synth();
    const json = fs.readFileSync(path.join(outdir, 'stacks', 'stack', 'cdk.tf.json'), 'utf8');
    const filename = lambdas(json)[0]!.filename as string;
    expect(filename).toContain(api.sha256);
    expect(fs.readFileSync(path.join(outdir, 'stacks', 'stack', filename))).toEqual(fs.readFileSync(path.join(project, 'dist', 'api.zip')));
  });

  it('passes the other aws_lambda_function options through, and uses a given role instead of making one', () => {
    recordBuild('api');
    const stack = new TerraformStack(Testing.app(), 'stack');
    new RustFunction(stack, 'api', {
      projectRoot: project,
      package: 'api',
      role: 'arn:aws:iam::123456789012:role/existing',
      tracingConfig: { mode: 'Active' },
      layers: ['arn:aws:lambda:us-east-1:123456789012:layer:x:1'],
      deadLetterConfig: { targetArn: 'arn:aws:sqs:us-east-1:123456789012:dlq' },
      vpcConfig: { subnetIds: ['subnet-1'], securityGroupIds: ['sg-1'] },
      reservedConcurrentExecutions: 2,
      description: 'the API',
    });
    const json = Testing.synth(stack);
    expect(json).toHaveResourceWithProperties(LambdaFunction, {
      role: 'arn:aws:iam::123456789012:role/existing',
      tracing_config: { mode: 'Active' },
      layers: ['arn:aws:lambda:us-east-1:123456789012:layer:x:1'],
      dead_letter_config: { target_arn: 'arn:aws:sqs:us-east-1:123456789012:dlq' },
      vpc_config: { subnet_ids: ['subnet-1'], security_group_ids: ['sg-1'] },
      reserved_concurrent_executions: 2,
      description: 'the API',
    });
    expect(json).not.toHaveResource(IamRole);
  });

  it('deploys a given artifact (code) as it is, without building', () => {
    const zipPath = path.join(project, 'prebuilt.zip');
    fs.writeFileSync(zipPath, createLambdaZip(ELF));
    const stack = new TerraformStack(Testing.app(), 'stack');
    const fn = new RustFunction(stack, 'api', { code: new PrebuiltArtifact(stack, 'prebuilt', { zipPath, architecture: 'arm64' }) });
    expect(Testing.synth(stack)).toHaveResourceWithProperties(LambdaFunction, { filename: fn.code.filename, architectures: ['arm64'] });
    expect(fs.existsSync(path.join(project, 'dist'))).toBe(false);
  });
});

describe('RustFunction: errors name the option and the fix', () => {
  const stack = () => new TerraformStack(Testing.app(), 'stack');

  it('refuses settings Lambda would refuse, naming each with its accepted values', () => {
    const error = thrown(
      () =>
        new RustFunction(stack(), 'api', {
          projectRoot: project,
          package: 'api',
          memorySize: 64,
          timeout: 0,
          environment: { AWS_REGION: 'x' },
        }),
    );
    expect(error.message).toBe(
      [
        'config: invalid RustFunction "stack/api" config:',
        '  memorySize: got 64; expected an integer number of MB from 128 to 10240',
        '  timeout: got 0; expected an integer number of seconds from 1 to 900',
        '  environment.AWS_REGION: got "x"; expected an object of string values whose names are not reserved by Lambda (AWS_REGION, AWS_LAMBDA_*, _HANDLER, ...)',
        '  fix: correct the values above in RustFunction "stack/api" config',
      ].join('\n'),
    );
  });

  it('names the config the bad build option is in', () => {
    expect(
      thrown(() => new RustFunction(stack(), 'api', { projectRoot: project, package: 'api', architecture: 'x86' as 'x86_64' })).message,
    ).toBe(
      [
        'config: invalid RustFunction "stack/api" config:',
        '  architecture: got "x86"; expected one of "x86_64", "arm64"',
        '  fix: correct the value above in RustFunction "stack/api" config',
      ].join('\n'),
    );
  });

  it('refuses code together with build options', () => {
    const zipPath = path.join(project, 'prebuilt.zip');
    fs.writeFileSync(zipPath, createLambdaZip(ELF));
    const s = stack();
    const code = new PrebuiltArtifact(s, 'prebuilt', { zipPath });
    expect(thrown(() => new RustFunction(s, 'api', { code, package: 'api', features: ['x'] } as RustFunctionConfig)).message).toBe(
      'config: RustFunction "stack/api" has `code` and build options (package, features); the build options would not be used\n' +
        '  fix: remove the build options (the artifact in `code` is deployed as it is), or remove `code` to build the function from them',
    );
  });

  it('asks for an artifactName when the id cannot name a zip', () => {
    expect(thrown(() => new RustFunction(stack(), 'my api', { projectRoot: project, package: 'api' })).message).toBe(
      'config: RustFunction "stack/my api": its id "my api" cannot name its zip (dist/<name>.zip): only letters, digits, _, - and . are allowed\n' +
        '  fix: set `artifactName` (e.g. "api"), or give the construct such an id',
    );
  });

  it('a package that does not exist: the packages there are, and the option to set', () => {
    expect(thrown(() => new RustFunction(stack(), 'api', { projectRoot: project, package: 'nope' })).message).toBe(
      `workspace: the workspace ${path.join(project, 'rust')} has no package named "nope" (its packages: api, reporter, schedule, scheduler, shared, worker)\n` +
        '  fix: set `package` in the RustFunction "stack/api" config to one of the packages listed',
    );
  });

  it('a package with several binaries and no binary named: the binaries, and the option to set', () => {
    fs.rmSync(path.join(project, 'rust'), { recursive: true });
    fs.cpSync(path.join(FIXTURES, 'binary-discovery'), path.join(project, 'rust'), { recursive: true });
    expect(thrown(() => new RustFunction(stack(), 'api', { projectRoot: project, package: 'multi' })).message).toBe(
      'workspace: package "multi" has several binaries (multi, named, x, y), and no binary was named\n' +
        '  fix: set `binary` in the RustFunction "stack/api" config to the one to deploy',
    );
  });

  it('an uncaught error reads as one screen: the message with its fix, one frame (the line that made the function), no fields dumped', () => {
    const error = thrown(() => new RustFunction(stack(), 'api', { projectRoot: project, package: 'api', memorySize: 64 }));
    const frames = error.stack!.split('\n').filter((line) => /^\s+at /.test(line));
    expect(frames).toHaveLength(1);
    expect(frames[0]).toContain(THIS_FILE);
    expect(error.stack).toContain('  fix: correct the value above in RustFunction "stack/api" config');
    expect(Object.keys(error)).toEqual([]);
    // Still a SweepError for code that catches it, with its parts.
    expect([error.stage, error.fix]).toEqual(['config', 'correct the value above in RustFunction "stack/api" config']);
  });

  it('GIVEN a function that cannot be checked WHEN synthesized THEN synth fails with its error, and the app does not try again', () => {
    recordBuild('worker');
    const app = Testing.app();
    const one = new TerraformStack(app, 'one');
    const two = new TerraformStack(app, 'two');
    new RustFunction(one, 'api', { projectRoot: project, package: 'nope', binary: 'api' });
    new RustFunction(two, 'worker', { projectRoot: project, package: 'worker' });
    const first = thrown(() => Testing.synth(one));
    expect(first.message.split('\n')[0]).toBe(
      `workspace: api: the workspace ${path.join(project, 'rust')} has no package named "nope" (its packages: api, reporter, schedule, scheduler, shared, worker)`,
    );
    expect(thrown(() => Testing.synth(two))).toBe(first);
    // The function list was written before the build, so sweep-runtime can look at both.
    expect(Object.keys(readFunctionList(path.join(app.outdir, FUNCTION_LIST_FILE))!.functions)).toEqual(['api', 'worker']);
  });

  it('outside a stack: says to create it in one', () => {
    expect(thrown(() => new RustFunction(Testing.app(), 'api', { projectRoot: project, package: 'api' })).message).toBe(
      'config: RustFunction "api" is not inside a TerraformStack\n' +
        "  fix: create it in a stack: new RustFunction(stack, 'api', { ... }), where stack is a TerraformStack of your app",
    );
  });

  it('a function created after the app was built is an error saying when to create it', () => {
    recordBuild('api');
    const app = Testing.app();
    const s = new TerraformStack(app, 'stack');
    new RustFunction(s, 'api', { projectRoot: project, package: 'api' });
    Testing.synth(s);
    expect(thrown(() => new RustFunction(s, 'late', { projectRoot: project, package: 'worker' })).message).toBe(
      'config: RustArtifact "stack/late/code" was created after this app\'s functions were built (the build runs once, at synth, for all of them)\n' +
        "  fix: create every RustArtifact before app.synth() (or Testing.synth), e.g. in the stack's constructor",
    );
  });
});

describe('RustBuildOptions', () => {
  it('has a key for every artifact option the engine takes (its zip name as artifactName), and the remote cache settings the engine has', async () => {
    const { artifactOptionsSchema, remoteCacheSchema } = await import('../../build/options/schema.js');
    const { BUILD_OPTION_KEYS } = await import('../../constructs/build-options.js');
    const engine = Object.keys(artifactOptionsSchema.shape).map((key) => (key === 'name' ? 'artifactName' : key));
    expect([...BUILD_OPTION_KEYS].sort()).toEqual(engine.sort());
    // RemoteCacheConfig mirrors remoteCacheSchema: a key the engine adds must be added there too.
    const config: Required<import('../../constructs/build-options.js').RemoteCacheConfig> = {
      url: '',
      mode: 'read',
      region: '',
      trustedKeys: [],
    };
    expect(Object.keys(config).sort()).toEqual(Object.keys(remoteCacheSchema.shape).sort());
  });
});
