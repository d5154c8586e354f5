import * as path from 'node:path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { LocalBackend, S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config/app-config.js';
import type { LambdaArtifact } from './lambda-artifact.js';
import { RuntimeArtifact } from './runtime-artifact.js';
import { RustLambdaFunction } from './rust-lambda-function.js';

/** Props of {@link SweepStack}. */
export interface SweepStackConfig {
  readonly app: AppConfig;
  /** Folder that relative paths (workspace, dist, state file) are resolved against. @default process.cwd() */
  readonly projectRoot?: string;
  /**
   * Supplies the code instead of building it with RuntimeArtifact (tests, the benchmark's
   * baseline, a zip built by another CI job).
   * @default - a RuntimeArtifact built from `app.artifact`
   */
  readonly artifact?: (scope: Construct) => LambdaArtifact;
}

/** The deployed stack: the AWS provider, the state backend, the artifact, the function, its outputs. */
export class SweepStack extends TerraformStack {
  readonly artifact: LambdaArtifact;
  readonly lambda: RustLambdaFunction;

  constructor(scope: Construct, id: string, config: SweepStackConfig) {
    super(scope, id);
    const { app } = config;
    const projectRoot = path.resolve(config.projectRoot ?? process.cwd());

    new AwsProvider(this, 'aws', { region: app.region });
    configureBackend(this, app, projectRoot);

    this.artifact = config.artifact?.(this) ?? new RuntimeArtifact(this, 'runtime', { ...app.artifact, projectRoot });
    this.lambda = new RustLambdaFunction(this, 'lambda', {
      artifact: this.artifact,
      functionName: app.functionName,
      memorySize: app.memorySize,
      timeoutSeconds: app.timeoutSeconds,
      environment: app.environment,
      reservedConcurrency: app.reservedConcurrency,
      logRetentionDays: app.logRetentionDays,
    });

    new TerraformOutput(this, 'function_name', { value: this.lambda.function.functionName });
    new TerraformOutput(this, 'function_arn', { value: this.lambda.function.arn });
    // The fingerprint of the build that produced the deployed bytes (not of the current inputs):
    // a byte-identical rebuild must plan no change, outputs included.
    new TerraformOutput(this, 'artifact_fingerprint', { value: this.artifact.deployedFingerprint });
    new TerraformOutput(this, 'code_sha256', { value: this.artifact.codeSha256 });
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
