import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { App, Testing } from 'cdktf';
import { createLambdaZip } from '../../build/package/zip.js';
import { parseAppConfig } from '../../config/app-config.js';
import { PrebuiltArtifact } from '../../constructs/prebuilt-artifact.js';
import { executionRoleName } from '../../constructs/rust-lambda-function.js';
import { SweepStack } from '../../constructs/sweep-stack.js';
import '../helpers/cdktf-matchers.js';
import { sha256Digest } from '../helpers/hash.js';
import { REPO_ROOT } from '../helpers/project.js';

/**
 * The stack's resources and wiring, synthesized with a prebuilt zip (no Docker): what the
 * function gets from the artifact and the configuration, and nothing more.
 */
let dir: string;
let zipPath: string;
/** The zip's SHA-256, computed here from its bytes: what the stack must hand Terraform. */
let zipSha256: Buffer;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-stack-'));
  zipPath = path.join(dir, 'bootstrap.zip');
  const zip = createLambdaZip(fs.readFileSync(path.join(REPO_ROOT, '__tests__/fixtures/elf/x86_64-static')));
  fs.writeFileSync(zipPath, zip);
  zipSha256 = sha256Digest(zip);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function synth(config: Record<string, unknown> = {}, architecture: 'x86_64' | 'arm64' = 'x86_64'): { json: string; stack: SweepStack } {
  const app = Testing.app();
  const stack = new SweepStack(app, 'test', {
    app: parseAppConfig(config),
    projectRoot: dir,
    artifactFor: (scope, fn) => new PrebuiltArtifact(scope, `${fn.key}-code`, { zipPath, architecture }),
  });
  return { json: Testing.synth(stack), stack };
}

/** The one function's artifact and construct, for a config without sweep.functions. */
const only = (stack: SweepStack) => [...stack.functions.values()][0]!;
/** Terraform's name for the resource of `type` (there must be exactly one). */
const nameOf = (json: string, type: string) => {
  const names = Object.keys(JSON.parse(json).resource[type] ?? JSON.parse(json).data[type]);
  expect(names).toHaveLength(1);
  return names[0]!;
};

describe('SweepStack', () => {
  it('deploys the zip as a provided.al2023 function with handler bootstrap, the artifact hash and the configured settings', () => {
    const { json } = synth({
      memorySize: 512,
      timeoutSeconds: 20,
      environment: { SWEEP_MAX_POINTS: '1000' },
      functionName: 'sweeper',
    });
    const filename = (Object.values(JSON.parse(json).resource.aws_lambda_function)[0] as { filename: string }).filename;
    // The asset's folder is named by the zip's hash, so the plan changes exactly when the bytes do.
    expect(filename).toMatch(new RegExp(`^assets/sweeper-code_zip_[0-9A-F]{8}/${zipSha256.toString('hex')}/bootstrap\\.zip$`));
    expect(json).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'sweeper',
      runtime: 'provided.al2023',
      handler: 'bootstrap',
      architectures: ['x86_64'],
      source_code_hash: zipSha256.toString('base64'),
      memory_size: 512,
      timeout: 20,
      environment: { variables: { SWEEP_MAX_POINTS: '1000' } },
      logging_config: { log_format: 'Text', log_group: `\${aws_cloudwatch_log_group.${nameOf(json, 'aws_cloudwatch_log_group')}.name}` },
    });
  });

  it('maps the arm64 architecture to the function', () => {
    expect(synth({}, 'arm64').json).toHaveResourceWithProperties(LambdaFunction, { architectures: ['arm64'] });
  });

  it('leaves out the environment block when there are no variables, and reserves concurrency only when asked', () => {
    const plain = JSON.parse(synth().json).resource.aws_lambda_function;
    const fn = Object.values(plain)[0] as Record<string, unknown>;
    expect(fn.environment).toBeUndefined();
    expect(fn.reserved_concurrent_executions).toBeUndefined();
    expect(synth({ reservedConcurrency: 5 }).json).toHaveResourceWithProperties(LambdaFunction, { reserved_concurrent_executions: 5 });
  });

  it('gives the role only what the function needs: assumable by Lambda, writing to its own log group', () => {
    const { json } = synth({ logRetentionDays: 30 });
    expect(json).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/aws/lambda/aws-serverless-sweep', retention_in_days: 30 });
    expect(json).toHaveDataSourceWithProperties(DataAwsIamPolicyDocument, {
      statement: [{ actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }] }],
    });
    const logGroup = nameOf(json, 'aws_cloudwatch_log_group');
    const documents = Object.keys(JSON.parse(json).data.aws_iam_policy_document);
    const assumeRole = documents.find((name) => name.includes('assume-role'))!;
    const writeLogs = documents.find((name) => name.includes('write-logs'))!;
    expect(json).toHaveDataSourceWithProperties(DataAwsIamPolicyDocument, {
      statement: [
        { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`\${aws_cloudwatch_log_group.${logGroup}.arn}:*`] },
      ],
    });
    expect(json).toHaveResourceWithProperties(IamRole, { assume_role_policy: `\${data.aws_iam_policy_document.${assumeRole}.json}` });
    expect(json).toHaveResourceWithProperties(IamRolePolicy, { policy: `\${data.aws_iam_policy_document.${writeLogs}.json}` });
    const fn = Object.values(JSON.parse(json).resource.aws_lambda_function)[0] as { depends_on: string[]; role: string };
    expect(fn.role).toBe(`\${aws_iam_role.${nameOf(json, 'aws_iam_role')}.arn}`);
    expect(fn.depends_on).toEqual([`aws_cloudwatch_log_group.${logGroup}`, `aws_iam_role_policy.${nameOf(json, 'aws_iam_role_policy')}`]);
    // No managed policy: AWSLambdaBasicExecutionRole would allow every log group of the account.
    expect(JSON.stringify(JSON.parse(json).resource)).not.toContain('AWSLambdaBasicExecutionRole');
  });

  it("names each execution role within IAM's 64 characters, unique per function, keeping short names as they were", () => {
    const long = 'f'.repeat(60);
    const { json } = synth({ functions: { a: { functionName: `${long}-one` }, b: { functionName: `${long}-two` }, short: {} } });
    const roles = Object.values(JSON.parse(json).resource.aws_iam_role as Record<string, { name: string }>).map((role) => role.name);
    expect(roles).toHaveLength(3);
    for (const name of roles) expect(name.length).toBeLessThanOrEqual(64);
    expect(new Set(roles).size).toBe(3);
    expect(roles).toContain('short-execution');
    expect(executionRoleName(`${long}-one`)).toMatch(/^f{45}-[0-9a-f]{8}-execution$/);
  });

  it('configures the region and outputs, per function, its name, ARN, deployed fingerprint and code hash', () => {
    const { json } = synth({ region: 'eu-west-1' });
    expect(json).toHaveProviderWithProperties(AwsProvider, { region: 'eu-west-1' });
    const outputs = JSON.parse(json).output;
    expect(Object.keys(outputs)).toEqual(['aws-serverless-sweep']);
    expect(Object.keys(outputs['aws-serverless-sweep'].value).sort()).toEqual([
      'artifact_fingerprint',
      'code_sha256',
      'function_arn',
      'function_name',
    ]);
    // A prebuilt zip's deployed fingerprint is its own SHA-256.
    expect(outputs['aws-serverless-sweep'].value.artifact_fingerprint).toBe(zipSha256.toString('hex'));
    expect(outputs['aws-serverless-sweep'].value.code_sha256).toBe(zipSha256.toString('base64'));
  });

  it('GIVEN sweep.functions WHEN synthesized THEN one function, role, log group and output per function, each with its settings', () => {
    const { json } = synth({
      memorySize: 512,
      functions: {
        api: { functionName: 'sweep-api', environment: { MODE: 'api' } },
        worker: { memorySize: 2048, timeoutSeconds: 300, reservedConcurrency: 1 },
      },
    });
    const resources = JSON.parse(json).resource;
    for (const type of ['aws_lambda_function', 'aws_iam_role', 'aws_iam_role_policy', 'aws_cloudwatch_log_group']) {
      expect(Object.keys(resources[type])).toHaveLength(2);
    }
    expect(json).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'sweep-api',
      memory_size: 512,
      timeout: 30,
      environment: { variables: { MODE: 'api' } },
    });
    expect(json).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'worker',
      memory_size: 2048,
      timeout: 300,
      reserved_concurrent_executions: 1,
    });
    expect(json).toHaveResourceWithProperties(IamRole, { name: 'sweep-api-execution' });
    expect(json).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/aws/lambda/worker' });
    expect(Object.keys(JSON.parse(json).output).sort()).toEqual(['api', 'worker']);
  });

  it('keeps state locally by default, in the project folder', () => {
    expect(JSON.parse(synth().json).terraform.backend).toEqual({
      local: { path: path.join(dir, 'terraform.aws-serverless-sweep.tfstate') },
    });
  });

  it('uses an S3 backend with S3-native locking when configured', () => {
    const backend = JSON.parse(
      synth({ backend: { type: 's3', bucket: 'team-state', key: 'sweep/terraform.tfstate', region: 'eu-west-1' } }).json,
    ).terraform.backend;
    expect(backend).toEqual({
      s3: { bucket: 'team-state', key: 'sweep/terraform.tfstate', region: 'eu-west-1', encrypt: true, use_lockfile: true },
    });
    const withTable = JSON.parse(
      synth({ backend: { type: 's3', bucket: 'team-state', key: 'k', region: 'eu-west-1', dynamodbTable: 'locks' } }).json,
    ).terraform.backend;
    expect(withTable.s3.dynamodb_table).toBe('locks');
    expect(withTable.s3.use_lockfile).toBeUndefined();
  });

  it('synthesizes byte-identical cdk.tf.json and the same asset path twice', () => {
    const fullSynth = () => {
      const outdir = fs.mkdtempSync(path.join(dir, 'out-'));
      const app = new App({ outdir, skipValidation: true });
      const stack = new SweepStack(app, 'test', {
        app: parseAppConfig({}),
        projectRoot: dir,
        artifactFor: (scope) => new PrebuiltArtifact(scope, 'runtime', { zipPath }),
      });
      app.synth();
      return { json: fs.readFileSync(path.join(outdir, 'stacks', 'test', 'cdk.tf.json')), asset: only(stack).artifact.asset.path, outdir };
    };
    const first = fullSynth();
    const second = fullSynth();
    expect(Buffer.compare(first.json, second.json)).toBe(0);
    expect(second.asset).toBe(first.asset);
    expect(fs.existsSync(path.join(second.outdir, 'stacks', 'test', first.asset))).toBe(true);
  });
});
