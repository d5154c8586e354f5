import * as path from 'node:path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { LocalBackend, S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { ArtifactOptions } from '../build/index.js';
import type { AppConfig, FunctionConfig } from '../config/app-config.js';
import { type RustBuildOptions, withOrigin } from './build-options.js';
import type { LambdaArtifact } from './lambda-artifact.js';
import { RustFunction, type RustFunctionConfig } from './rust-function.js';

/** Props of {@link SweepStack}. */
export interface SweepStackConfig {
  readonly app: AppConfig;
  /** Folder that relative paths (workspace, dist, state file) are resolved against. @default process.cwd() */
  readonly projectRoot?: string;
  /**
   * Supplies each function's code instead of building it (tests, the benchmark's baseline, zips
   * built by another CI job).
   * @default - each function built from its cdktf.json settings, all in one engine run
   */
  readonly artifactFor?: (scope: Construct, fn: FunctionConfig) => LambdaArtifact;
}

/**
 * The stack this repository deploys, from cdktf.json's `sweep` context: the AWS provider, the
 * state backend, and per function a RustFunction (the same construct an app of your own uses)
 * and an output named after it.
 */
export class SweepStack extends TerraformStack {
  /** Per function key. */
  readonly functions: ReadonlyMap<string, RustFunction>;

  constructor(scope: Construct, id: string, config: SweepStackConfig) {
    super(scope, id);
    const { app } = config;
    const projectRoot = path.resolve(config.projectRoot ?? process.cwd());

    new AwsProvider(this, 'aws', { region: app.region });
    configureBackend(this, app, projectRoot);

    const functions = new Map<string, RustFunction>();
    for (const fn of app.functions) {
      const settings: RustFunctionConfig = {
        functionName: fn.functionName,
        memorySize: fn.memorySize,
        timeout: fn.timeoutSeconds,
        environment: fn.environment,
        ...(fn.reservedConcurrency !== null && { reservedConcurrentExecutions: fn.reservedConcurrency }),
        logRetentionDays: fn.logRetentionDays,
      };
      const code = config.artifactFor?.(this, fn);
      // Messages about a function's build options name its cdktf.json keys.
      const lambda = new RustFunction(
        this,
        fn.key,
        code ? { ...settings, code } : withOrigin({ ...settings, ...buildOptions(fn.artifact, projectRoot) }, fn.origin),
      );
      functions.set(fn.key, lambda);
      const output = new TerraformOutput(this, `${fn.key}-output`, {
        description: `Lambda function ${fn.functionName}`,
        value: {
          function_name: lambda.function.functionName,
          function_arn: lambda.function.arn,
          // The fingerprint of the build that produced the deployed bytes (not of the current
          // inputs): a byte-identical rebuild must plan no change, outputs included.
          artifact_fingerprint: lambda.code.deployedFingerprint,
          code_sha256: lambda.code.codeSha256,
        },
      });
      // `npx cdktf output` shows it under the function's own name.
      output.overrideLogicalId(fn.key);
    }
    this.functions = functions;
  }
}

/** A function's artifact options from cdktf.json, as RustFunction's build options. */
function buildOptions(artifact: ArtifactOptions, projectRoot: string): RustBuildOptions {
  const { name, ...rest } = artifact;
  return { ...rest, projectRoot, ...(name !== undefined && { artifactName: name }) };
}

/** Local state by default; S3 (with locking) for teams that share state. */
function configureBackend(stack: TerraformStack, app: AppConfig, projectRoot: string): void {
  const backend = app.backend;
  if (backend.type === 'local') {
    new LocalBackend(stack, { path: path.resolve(projectRoot, backend.path ?? `terraform.${app.stackName}.tfstate`) });
    return;
  }
  const s3 = new S3Backend(stack, {
    bucket: backend.bucket,
    key: backend.key,
    region: backend.region,
    encrypt: backend.encrypt ?? true,
    ...(backend.dynamodbTable !== undefined && { dynamodbTable: backend.dynamodbTable }),
  });
  // S3-native locking (Terraform 1.10+) is on unless a DynamoDB table is named; cdktf 0.21's
  // S3Backend predates the option, hence the override.
  if (backend.useLockfile ?? backend.dynamodbTable === undefined) s3.addOverride('use_lockfile', true);
}
