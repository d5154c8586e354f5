import * as path from 'node:path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { LocalBackend, S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { AppConfig, FunctionConfig } from '../config/app-config.js';
import type { LambdaArtifact } from './lambda-artifact.js';
import { RuntimeArtifacts } from './runtime-artifact.js';
import { RustLambdaFunction } from './rust-lambda-function.js';

/** Props of {@link SweepStack}. */
export interface SweepStackConfig {
  readonly app: AppConfig;
  /** Folder that relative paths (workspace, dist, state file) are resolved against. @default process.cwd() */
  readonly projectRoot?: string;
  /**
   * Supplies each function's code instead of building it (tests, the benchmark's baseline, zips
   * built by another CI job).
   * @default - the artifacts of one RuntimeArtifacts for every function
   */
  readonly artifactFor?: (scope: Construct, fn: FunctionConfig) => LambdaArtifact;
}

/**
 * The deployed stack: the AWS provider, the state backend, and per function of cdktf.json its
 * artifact, its function (with role and log group) and an output named after it.
 */
export class SweepStack extends TerraformStack {
  /** Per function key. */
  readonly functions: ReadonlyMap<string, { readonly artifact: LambdaArtifact; readonly lambda: RustLambdaFunction }>;

  constructor(scope: Construct, id: string, config: SweepStackConfig) {
    super(scope, id);
    const { app } = config;
    const projectRoot = path.resolve(config.projectRoot ?? process.cwd());

    new AwsProvider(this, 'aws', { region: app.region });
    configureBackend(this, app, projectRoot);

    const built = config.artifactFor
      ? undefined
      : new RuntimeArtifacts(this, 'runtime', {
          shared: { projectRoot },
          functions: Object.fromEntries(app.functions.map((fn) => [fn.key, fn.artifact])),
          origins: Object.fromEntries(app.functions.map((fn) => [fn.key, fn.origin])),
        });
    const functions = new Map<string, { artifact: LambdaArtifact; lambda: RustLambdaFunction }>();
    for (const fn of app.functions) {
      const artifact = config.artifactFor?.(this, fn) ?? built!.get(fn.key);
      const lambda = new RustLambdaFunction(this, fn.key, {
        artifact,
        functionName: fn.functionName,
        memorySize: fn.memorySize,
        timeoutSeconds: fn.timeoutSeconds,
        environment: fn.environment,
        reservedConcurrency: fn.reservedConcurrency,
        logRetentionDays: fn.logRetentionDays,
      });
      functions.set(fn.key, { artifact, lambda });
      const output = new TerraformOutput(this, `${fn.key}-output`, {
        description: `Lambda function ${fn.functionName}`,
        value: {
          function_name: lambda.function.functionName,
          function_arn: lambda.function.arn,
          // The fingerprint of the build that produced the deployed bytes (not of the current
          // inputs): a byte-identical rebuild must plan no change, outputs included.
          artifact_fingerprint: artifact.deployedFingerprint,
          code_sha256: artifact.codeSha256,
        },
      });
      // `npx cdktf output` shows it under the function's own name.
      output.overrideLogicalId(fn.key);
    }
    this.functions = functions;
  }
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
