import { createHash } from 'node:crypto';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { LambdaFunction, type LambdaFunctionConfig } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { invalidConfig, isSafeName, LAMBDA_ENTRY_POINT } from '../build/index.js';
import { FUNCTION_DEFAULTS, functionPropsIssues } from '../config/app-config.js';
import { BUILD_OPTION_KEYS, originOf, pickBuildOptions, type RustBuildOptions, withOrigin } from './build-options.js';
import { checkFlavour, codeWithBuildOptions, forUser, unusableId } from './errors.js';
import type { LambdaArtifact } from './lambda-artifact.js';
import { describeFunction, RustArtifact } from './rust-artifact.js';

/** What RustFunction sets itself, from the artifact and its own options. */
type OwnedKeys =
  | 'functionName'
  | 'role'
  | 'memorySize'
  | 'timeout'
  | 'environment'
  | 'filename'
  | 'sourceCodeHash'
  | 'handler'
  | 'runtime'
  | 'architectures'
  | 'packageType'
  | 'imageUri'
  | 'imageConfig'
  | 's3Bucket'
  | 's3Key'
  | 's3ObjectVersion'
  | 'count'
  | 'forEach';

/**
 * Props of {@link RustFunction}: what to build (the build options, each with a default), the
 * function's settings, and any other option of the AWS provider's `aws_lambda_function` (VPC,
 * layers, tracing, dead-letter queue, tags, ...), passed through as they are.
 */
export interface RustFunctionConfig extends RustBuildOptions, Omit<LambdaFunctionConfig, OwnedKeys> {
  /** The Lambda function's name; also names its log group (`/aws/lambda/<name>`) and role (`<name>-execution`). @default - the construct's id */
  readonly functionName?: string;
  /** Memory in MB, 128 to 10240. @default 256 */
  readonly memorySize?: number;
  /** How long an invocation may run, in seconds, 1 to 900. @default 30 */
  readonly timeout?: number;
  /** The function's environment variables (names Lambda reserves, like AWS_REGION, are refused). @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** Retention of the function's log group, in days (a CloudWatch value; 0 = never expire). @default 14 */
  readonly logRetentionDays?: number;
  /**
   * The ARN of an execution role to use; it must let the function write to its log group.
   * @default - a role of its own that may write only to the function's own log group
   */
  readonly role?: string;
  /**
   * A zip made elsewhere (a PrebuiltArtifact, or a RuntimeArtifact), deployed as it is; the build
   * options must then be left out.
   * @default - a RustArtifact built from this config's build options
   */
  readonly code?: LambdaArtifact;
}

/**
 * A Rust function on Lambda's custom runtime (`provided.al2023`, handler `bootstrap`), with its
 * code built from a Cargo workspace at synth, and the least it needs: an execution role that may
 * write only to the function's own log group, and that log group (with a retention, so Lambda
 * does not create one that lives forever).
 *
 * Every RustFunction of an app is built in one engine run at synth (see {@link RustArtifact}):
 * declare as many as you like, the misses are compiled together in as few cargo runs as their
 * features allow. Only `filename` and `source_code_hash` come from the build, so changing the
 * memory, the timeout or an environment variable changes only those attributes in the plan and
 * never rebuilds the zip.
 */
export class RustFunction extends Construct {
  /** The `aws_lambda_function`. */
  readonly function: LambdaFunction;
  /** The function's log group, `/aws/lambda/<functionName>`. */
  readonly logGroup: CloudwatchLogGroup;
  /** The execution role, unless `role` was given. */
  readonly role: IamRole | undefined;
  /** The function's code: its RustArtifact, or the `code` it was given. */
  readonly code: LambdaArtifact;

  constructor(scope: Construct, id: string, config: RustFunctionConfig = {}) {
    super(scope, id);
    const label = `RustFunction "${this.node.path}" config`;
    let functionName: string;
    try {
      checkFlavour(this, 'RustFunction');
      if (!config.code && config.artifactName === undefined && originOf(config) === undefined && !isSafeName(id))
        throw unusableId('RustFunction', this.node.path, id);
      functionName = config.functionName ?? id;
      checkSettings(config, functionName, label);
      this.code = config.code ? checkedCode(this, config) : this.buildArtifact(id, config, label);
    } catch (error) {
      throw forUser(error, new.target);
    }
    const { code } = this;
    const provider = config.provider;

    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${functionName}`,
      retentionInDays: config.logRetentionDays ?? FUNCTION_DEFAULTS.logRetentionDays,
      ...(provider && { provider }),
      ...(config.region !== undefined && { region: config.region }),
    });

    let role = config.role;
    let policy: IamRolePolicy | undefined;
    if (role === undefined) {
      const assumeRole = new DataAwsIamPolicyDocument(this, 'assume-role', {
        statement: [{ actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }] }],
        ...(provider && { provider }),
      });
      this.role = new IamRole(this, 'role', {
        name: executionRoleName(functionName),
        assumeRolePolicy: assumeRole.json,
        ...(provider && { provider }),
      });
      // Basic execution, narrowed to this function's log group (the managed
      // AWSLambdaBasicExecutionRole allows every log group in the account).
      const writeLogs = new DataAwsIamPolicyDocument(this, 'write-logs', {
        statement: [{ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${this.logGroup.arn}:*`] }],
        ...(provider && { provider }),
      });
      policy = new IamRolePolicy(this, 'write-logs-policy', {
        name: 'write-own-logs',
        role: this.role.id,
        policy: writeLogs.json,
        ...(provider && { provider }),
      });
      role = this.role.arn;
    }

    const {
      functionName: _name,
      memorySize,
      timeout,
      environment = {},
      logRetentionDays: _retention,
      role: _role,
      code: _code,
      loggingConfig,
      dependsOn = [],
      ...passThrough
    } = withoutBuildOptions(config);
    this.function = new LambdaFunction(this, 'function', {
      ...passThrough,
      functionName,
      role,
      runtime: code.runtime,
      handler: LAMBDA_ENTRY_POINT,
      architectures: [code.architecture],
      filename: code.filename,
      sourceCodeHash: code.codeSha256,
      memorySize: memorySize ?? FUNCTION_DEFAULTS.memorySize,
      timeout: timeout ?? FUNCTION_DEFAULTS.timeoutSeconds,
      // An empty `environment` block plans a change on every run: leave it out when empty.
      ...(Object.keys(environment).length > 0 && { environment: { variables: { ...environment } } }),
      loggingConfig: { logFormat: 'Text', logGroup: this.logGroup.name, ...loggingConfig },
      // The role must be able to write logs before the first invocation.
      dependsOn: [this.logGroup, ...(policy ? [policy] : []), ...dependsOn],
    });
  }

  /** The function's name (a token when the name is only known at deploy). */
  get functionName(): string {
    return this.function.functionName;
  }

  /** The function's ARN (known at deploy). */
  get arn(): string {
    return this.function.arn;
  }

  /** The function's RustArtifact, built with the app's others at synth. */
  private buildArtifact(id: string, config: RustFunctionConfig, label: string): RustArtifact {
    const origin = originOf(config) ?? { kind: 'props' as const, label };
    // Named after this function, not after its `code` child; cdktf.json's functions are named by cdktf.json's rule.
    const artifactName = config.artifactName ?? (origin.kind === 'props' ? id : undefined);
    const artifact = new RustArtifact(this, 'code', withOrigin({ ...pickBuildOptions(config), artifactName }, origin));
    describeFunction(artifact, () => {
      // A value known only at deploy (a reference to another resource) cannot be used locally.
      const known = (value: string) => (Token.isUnresolved(value) ? '<known at deploy>' : value);
      const name = config.functionName ?? id;
      return {
        construct: this.node.path,
        kind: 'RustFunction',
        functionName: Token.isUnresolved(name) ? artifact.artifactName : name,
        memorySize: Token.isUnresolved(config.memorySize)
          ? FUNCTION_DEFAULTS.memorySize
          : (config.memorySize ?? FUNCTION_DEFAULTS.memorySize),
        timeoutSeconds: Token.isUnresolved(config.timeout)
          ? FUNCTION_DEFAULTS.timeoutSeconds
          : (config.timeout ?? FUNCTION_DEFAULTS.timeoutSeconds),
        environment: Object.fromEntries(Object.entries(config.environment ?? {}).map(([name, value]) => [name, known(value)])),
      };
    });
    return artifact;
  }
}

/** IAM's limit on a role name. */
const ROLE_NAME_MAX = 64;
const ROLE_SUFFIX = '-execution';

/**
 * The execution role's name: `<function name>-execution`, or, when that is longer than IAM allows
 * (a Lambda function name may be 64 characters itself), the name cut short and made unique again
 * by a hash of the whole function name. Existing short names keep their role. A name known only
 * at deploy (a token) is used as it is.
 */
export function executionRoleName(functionName: string): string {
  const plain = `${functionName}${ROLE_SUFFIX}`;
  if (plain.length <= ROLE_NAME_MAX || Token.isUnresolved(functionName)) return plain;
  const hash = createHash('sha256').update(functionName).digest('hex').slice(0, 8);
  return `${functionName.slice(0, ROLE_NAME_MAX - ROLE_SUFFIX.length - hash.length - 1)}-${hash}${ROLE_SUFFIX}`;
}

/** The function settings Lambda would refuse, as one error naming each (tokens are left to deploy). */
function checkSettings(config: RustFunctionConfig, functionName: string, label: string): void {
  const given: Record<string, unknown> = {
    functionName,
    memorySize: config.memorySize,
    timeout: config.timeout,
    environment: config.environment,
    reservedConcurrentExecutions: config.reservedConcurrentExecutions,
    logRetentionDays: config.logRetentionDays,
  };
  const known = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined && !Token.isUnresolved(value)));
  const issues = functionPropsIssues(known);
  if (issues.length > 0) throw invalidConfig(label, issues);
}

/** `code`, when no build option asks for a build as well. */
function checkedCode(fn: RustFunction, config: RustFunctionConfig): LambdaArtifact {
  const given = BUILD_OPTION_KEYS.filter((key) => config[key] !== undefined);
  if (given.length > 0) throw codeWithBuildOptions(fn.node.path, given);
  return config.code!;
}

/** The config without its build options: what is left is the function's. */
function withoutBuildOptions(config: RustFunctionConfig): Omit<RustFunctionConfig, (typeof BUILD_OPTION_KEYS)[number]> {
  const rest: Record<string, unknown> = { ...config };
  for (const key of BUILD_OPTION_KEYS) delete rest[key];
  return rest as Omit<RustFunctionConfig, (typeof BUILD_OPTION_KEYS)[number]>;
}
