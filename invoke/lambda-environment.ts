/**
 * The environment Lambda gives a custom runtime's `bootstrap` (the `provided.al2` /
 * `provided.al2023` family), taken from AWS's "Defined runtime environment variables" (Lambda
 * developer guide, "Working with Lambda environment variables") and checked against the values
 * AWS's Runtime Interface Emulator sets for a zip function. Real runtime clients depend on them:
 * AWS's Node.js client refuses to start without AWS_LAMBDA_LOG_GROUP_NAME and
 * AWS_LAMBDA_LOG_STREAM_NAME, and the Rust `lambda_runtime` crate reads them at start-up too.
 *
 * Deliberately absent, as on Lambda for this runtime family or because nothing here provides them:
 * - AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (and the legacy AWS_ACCESS_KEY,
 *   AWS_SECRET_KEY, AWS_SECURITY_TOKEN): on Lambda they are the execution role's; locally there
 *   is no role, and the host's credentials must not leak into code under test. They are removed
 *   even from the configured environment (Lambda would refuse them there: reserved keys).
 * - AWS_EXECUTION_ENV and _X_AMZN_TRACE_ID: the docs say neither is defined for OS-only runtimes
 *   (the trace id arrives per invocation in the Lambda-Runtime-Trace-Id header instead).
 * - AWS_XRAY_CONTEXT_MISSING, AWS_XRAY_DAEMON_ADDRESS: set only with X-Ray tracing, and no
 *   daemon runs here. AWS_LAMBDA_LOG_FORMAT/LEVEL: only with advanced logging configured.
 *   NODE_PATH, PYTHONPATH, GEM_PATH: managed runtimes only.
 */
import { randomBytes } from 'node:crypto';

/** Keys Lambda sets itself and refuses in a function's configuration. */
export const RESERVED_KEYS = [
  '_HANDLER',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
] as const;

/** Credential keys: reserved on Lambda, never set locally. */
export const CREDENTIAL_KEYS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ACCESS_KEY',
  'AWS_SECRET_KEY',
  'AWS_SECURITY_TOKEN',
] as const;

/** Reserved keys Lambda leaves unset for an OS-only runtime; never taken from the configuration. */
export const UNSET_RESERVED_KEYS = ['AWS_EXECUTION_ENV', '_X_AMZN_TRACE_ID'] as const;

/** Keys Lambda sets but a function's configuration may override (the docs' "unreserved"). */
export const UNRESERVED_KEYS = ['LANG', 'PATH', 'LD_LIBRARY_PATH', 'TZ'] as const;

/** Where Lambda puts the runtime's own files; nothing is there for a custom runtime. */
export const LAMBDA_RUNTIME_DIR = '/var/runtime';
/** Where Lambda unpacks the function's code. */
export const LAMBDA_TASK_ROOT = '/var/task';

export interface LambdaEnvironmentInput {
  readonly functionName: string;
  readonly memorySize: number;
  readonly region: string;
  /** The `host:port` of the Runtime API. */
  readonly runtimeApi: string;
  /** The handler setting; for a custom runtime conventionally the executable's name. */
  readonly handler: string;
  /** Where the code is: `/var/task` in a container, the temporary folder on the host. */
  readonly taskRoot: string;
  /** The function's configured environment variables. */
  readonly configured: Readonly<Record<string, string>>;
  /** For the log stream's date; default now. */
  readonly now?: Date;
}

export function lambdaEnvironment(input: LambdaEnvironmentInput): Record<string, string> {
  const { taskRoot } = input;
  const version = '$LATEST';
  const now = input.now ?? new Date();
  const day = `${now.getUTCFullYear()}/${pad(now.getUTCMonth() + 1)}/${pad(now.getUTCDate())}`;
  const unreserved: Record<(typeof UNRESERVED_KEYS)[number], string> = {
    LANG: 'en_US.UTF-8',
    PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    // Lambda's order, with the task root wherever the code really is.
    LD_LIBRARY_PATH: `/var/lang/lib:/lib64:/usr/lib64:${LAMBDA_RUNTIME_DIR}:${LAMBDA_RUNTIME_DIR}/lib:${taskRoot}:${taskRoot}/lib:/opt/lib`,
    // The leading colon is what Lambda sets: glibc then reads the zone file "UTC" directly.
    TZ: ':UTC',
  };
  const reserved: Record<(typeof RESERVED_KEYS)[number], string> = {
    _HANDLER: input.handler,
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    AWS_LAMBDA_FUNCTION_NAME: input.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(input.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: version,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${input.functionName}`,
    // Lambda's stream names: date, version in brackets, 32 hex digits for the environment.
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[${version}]${randomBytes(16).toString('hex')}`,
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR,
  };
  const configured = { ...input.configured };
  for (const key of [...CREDENTIAL_KEYS, ...UNSET_RESERVED_KEYS]) delete configured[key];
  // Configured values override the unreserved defaults; reserved values override everything.
  return { ...unreserved, ...configured, ...reserved };
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
