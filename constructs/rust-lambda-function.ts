import { createHash } from 'node:crypto';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { Construct } from 'constructs';
import { LAMBDA_ENTRY_POINT } from '../build/index.js';
import { FUNCTION_DEFAULTS } from '../config/app-config.js';
import type { LambdaArtifact } from './lambda-artifact.js';

/** Props of {@link RustLambdaFunction}. */
export interface RustLambdaFunctionConfig {
  /** The code: a RuntimeArtifact, or a PrebuiltArtifact. */
  readonly artifact: LambdaArtifact;
  readonly functionName: string;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default 30 */
  readonly timeoutSeconds?: number;
  /** @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** Reserved concurrent executions; null leaves the function unreserved. @default null */
  readonly reservedConcurrency?: number | null;
  /** @default 14 */
  readonly logRetentionDays?: number;
}

/**
 * A Rust function on Lambda's custom runtime, with the least it needs: an execution role that
 * may write only to the function's own log group, and that log group (created here, with a
 * retention, so Lambda does not create one that lives forever).
 *
 * Only `filename` and `source_code_hash` come from the artifact, so changing the memory, the
 * timeout or an environment variable changes only those attributes in the plan and never
 * rebuilds the zip.
 */
export class RustLambdaFunction extends Construct {
  readonly role: IamRole;
  readonly logGroup: CloudwatchLogGroup;
  readonly function: LambdaFunction;

  constructor(scope: Construct, id: string, config: RustLambdaFunctionConfig) {
    super(scope, id);
    const { artifact, functionName } = config;

    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${functionName}`,
      retentionInDays: config.logRetentionDays ?? FUNCTION_DEFAULTS.logRetentionDays,
    });

    const assumeRole = new DataAwsIamPolicyDocument(this, 'assume-role', {
      statement: [{ actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }] }],
    });
    this.role = new IamRole(this, 'role', { name: executionRoleName(functionName), assumeRolePolicy: assumeRole.json });

    // Basic execution, narrowed to this function's log group (the managed
    // AWSLambdaBasicExecutionRole allows every log group in the account).
    const writeLogs = new DataAwsIamPolicyDocument(this, 'write-logs', {
      statement: [{ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${this.logGroup.arn}:*`] }],
    });
    const policy = new IamRolePolicy(this, 'write-logs-policy', { name: 'write-own-logs', role: this.role.id, policy: writeLogs.json });

    const environment = config.environment ?? {};
    this.function = new LambdaFunction(this, 'function', {
      functionName,
      role: this.role.arn,
      runtime: artifact.runtime,
      handler: LAMBDA_ENTRY_POINT,
      architectures: [artifact.architecture],
      filename: artifact.asset.path,
      sourceCodeHash: artifact.codeSha256,
      memorySize: config.memorySize ?? FUNCTION_DEFAULTS.memorySize,
      timeout: config.timeoutSeconds ?? FUNCTION_DEFAULTS.timeoutSeconds,
      // An empty `environment` block plans a change on every run: leave it out when empty.
      ...(Object.keys(environment).length > 0 && { environment: { variables: { ...environment } } }),
      ...(config.reservedConcurrency != null && { reservedConcurrentExecutions: config.reservedConcurrency }),
      loggingConfig: { logFormat: 'Text', logGroup: this.logGroup.name },
      // The role must be able to write logs before the first invocation.
      dependsOn: [this.logGroup, policy],
    });
  }
}

/** IAM's limit on a role name. */
const ROLE_NAME_MAX = 64;
const ROLE_SUFFIX = '-execution';

/**
 * The execution role's name: `<function name>-execution`, or, when that is longer than IAM allows
 * (a Lambda function name may be 64 characters itself), the name cut short and made unique again
 * by a hash of the whole function name. Existing short names keep their role.
 */
export function executionRoleName(functionName: string): string {
  const plain = `${functionName}${ROLE_SUFFIX}`;
  if (plain.length <= ROLE_NAME_MAX) return plain;
  const hash = createHash('sha256').update(functionName).digest('hex').slice(0, 8);
  return `${functionName.slice(0, ROLE_NAME_MAX - ROLE_SUFFIX.length - hash.length - 1)}-${hash}${ROLE_SUFFIX}`;
}
