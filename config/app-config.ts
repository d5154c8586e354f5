import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { invalidConfig, SweepError } from '../build/errors.js';
import { ARTIFACT_OPTIONS_EXPECTED, artifactOptionsSchema, toConfigIssues } from '../build/options.js';

/**
 * The app's configuration: the `sweep` key of cdktf.json's `context` (the CDKTF convention),
 * validated in one schema. The build controls that operators flip per run
 * (FORCE_REBUILD, SWEEP_DOCKER_PULL_POLICY, ...) are environment overrides applied by
 * build/options.ts, not here.
 */
export const CONTEXT_KEY = 'sweep';

/** Log retention values CloudWatch accepts (0 = never expire). */
const LOG_RETENTION_DAYS = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Variables Lambda sets itself and refuses in a function's configuration. */
const RESERVED_ENV =
  /^(_HANDLER|_X_AMZN_TRACE_ID|AWS_REGION|AWS_DEFAULT_REGION|AWS_EXECUTION_ENV|AWS_LAMBDA_.*|AWS_ACCESS_KEY.*|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_XRAY_.*|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR)$/;

const localBackend = z.object({ type: z.literal('local'), path: z.string().min(1).optional() }).strict();
const s3Backend = z
  .object({
    type: z.literal('s3'),
    bucket: z.string().min(3),
    key: z.string().min(1),
    region: z.string().min(1),
    /** S3-native state locking (Terraform 1.10+); the default. */
    useLockfile: z.boolean().optional(),
    /** DynamoDB table for state locking, for Terraform older than 1.10. */
    dynamodbTable: z.string().min(1).optional(),
    encrypt: z.boolean().optional(),
  })
  .strict();

export const appConfigSchema = z
  .object({
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_-]*$/)
      .default('aws-serverless-sweep'),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/)
      .default('us-east-1'),
    functionName: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default('aws-serverless-sweep'),
    memorySize: z.number().int().min(128).max(10240).default(256),
    timeoutSeconds: z.number().int().min(1).max(900).default(30),
    environment: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9_]*$/)
          .refine((name) => !RESERVED_ENV.test(name)),
        z.string(),
      )
      .default({}),
    reservedConcurrency: z.number().int().min(0).nullable().default(null),
    logRetentionDays: z
      .number()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days))
      .default(14),
    artifact: artifactOptionsSchema.omit({ projectRoot: true }).default({}),
    backend: z.discriminatedUnion('type', [localBackend, s3Backend]).default({ type: 'local' }),
  })
  .strict();

export type AppConfig = z.infer<typeof appConfigSchema>;

/** The keys an object accepts, from the schema itself (for a backend, those of its type). */
function knownKeysAt(at: readonly PropertyKey[], objectValue: unknown): readonly string[] {
  const where = at.join('.');
  if (where === '') return Object.keys(appConfigSchema.shape);
  if (where === 'artifact') return Object.keys(appConfigSchema.shape.artifact.unwrap().shape);
  if (where === 'backend') {
    const type = (objectValue as { type?: unknown } | undefined)?.type;
    return Object.keys((type === 's3' ? s3Backend : localBackend).shape);
  }
  return [];
}
export type BackendConfig = AppConfig['backend'];

const EXPECTED: Readonly<Record<string, string>> = {
  '': 'an object of settings (see README: Configuration)',
  stackName: 'a stack name (a letter, then letters, digits, _ or -)',
  region: 'an AWS region such as "us-east-1"',
  functionName: '1 to 64 letters, digits, _ or -',
  memorySize: 'an integer number of MB from 128 to 10240',
  timeoutSeconds: 'an integer number of seconds from 1 to 900',
  environment: 'an object of string values whose names are not reserved by Lambda (AWS_REGION, AWS_LAMBDA_*, _HANDLER, ...)',
  reservedConcurrency: 'null (no reservation) or an integer >= 0',
  logRetentionDays: `one of ${LOG_RETENTION_DAYS.join(', ')}`,
  artifact: 'an object of artifact options',
  ...Object.fromEntries(
    Object.entries(ARTIFACT_OPTIONS_EXPECTED)
      .filter(([k]) => k !== 'projectRoot') // the app sets it: the project is where cdktf.json is
      .map(([k, v]) => [`artifact.${k}`, v]),
  ),
  backend: '{"type": "local", "path"?} or {"type": "s3", "bucket", "key", "region", "useLockfile"?, "dynamodbTable"?, "encrypt"?}',
  'backend.type': '"local" or "s3"',
  'backend.path': 'a state file path',
  'backend.bucket': 'an S3 bucket name',
  'backend.key': 'the state object key, e.g. "aws-serverless-sweep/terraform.tfstate"',
  'backend.region': "the bucket's region",
  'backend.useLockfile': 'true or false',
  'backend.dynamodbTable': 'a DynamoDB table name',
  'backend.encrypt': 'true or false',
};

/** Validates the `sweep` context value; a SweepError names every bad key, its value and what is accepted. */
export function parseAppConfig(raw: unknown, source = 'cdktf.json'): AppConfig {
  const parsed = appConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw invalidConfig(source, toConfigIssues(parsed.error.issues, `context.${CONTEXT_KEY}.`, EXPECTED, raw, knownKeysAt));
  }
  return parsed.data;
}

/**
 * The `sweep` context from the cdktf.json in `projectRoot`, for callers that do not run under
 * the cdktf CLI (which passes context to the app itself). Undefined when there is no cdktf.json.
 */
export function readContextFromCdktfJson(projectRoot: string): unknown {
  const file = path.join(projectRoot, 'cdktf.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return (JSON.parse(text) as { context?: Record<string, unknown> }).context?.[CONTEXT_KEY];
  } catch (cause) {
    throw new SweepError({
      stage: 'config',
      problem: `${file} is not valid JSON: ${(cause as Error).message}`,
      fix: 'correct the syntax of cdktf.json',
      cause,
    });
  }
}
