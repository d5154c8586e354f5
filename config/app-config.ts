import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import {
  type ArtifactOptions,
  artifactOptionsSchema,
  CONTEXT_KEY,
  type ConfigIssue,
  functionArtifactSchema,
  invalidConfig,
  type OptionsOrigin,
  toConfigIssues,
} from '../build/index.js';
import { cdktfJsonUnusable } from './errors.js';

/*
 * The app's configuration: the `sweep` key of cdktf.json's `context` (the CDKTF convention),
 * validated by one schema. The build controls that operators flip per run (FORCE_REBUILD,
 * SWEEP_DOCKER_PULL_POLICY, ...) are environment overrides applied by build/options/schema.ts.
 *
 * Functions: `sweep.functions` maps a function's name to its settings and its `artifact`. The
 * same settings at the top level (`sweep.memorySize`, `sweep.artifact`, ...) are the defaults of
 * every function. Without `sweep.functions`, the top level describes the one function.
 */
export { CONTEXT_KEY };

/** Log retention values CloudWatch accepts (0 = never expire). */
const LOG_RETENTION_DAYS = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Variables Lambda sets itself and refuses in a function's configuration. */
const RESERVED_ENV =
  /^(_HANDLER|_X_AMZN_TRACE_ID|AWS_REGION|AWS_DEFAULT_REGION|AWS_EXECUTION_ENV|AWS_LAMBDA_.*|AWS_ACCESS_KEY.*|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_XRAY_.*|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR)$/;

/** The function settings' defaults, in one place (the constructs use them too). */
export const FUNCTION_DEFAULTS = {
  /** Without `sweep.functions`; in the map, a function is named by its key. */
  functionName: 'aws-serverless-sweep',
  memorySize: 256,
  timeoutSeconds: 30,
  environment: {} as Readonly<Record<string, string>>,
  reservedConcurrency: null as number | null,
  logRetentionDays: 14,
} as const;

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A function's settings; at the top level they are every function's defaults. */
const functionSettingsShape = {
  functionName: z.string().regex(FUNCTION_NAME).optional().meta({ expected: '1 to 64 letters, digits, _ or -' }),
  memorySize: z.number().int().min(128).max(10240).optional().meta({ expected: 'an integer number of MB from 128 to 10240' }),
  timeoutSeconds: z.number().int().min(1).max(900).optional().meta({ expected: 'an integer number of seconds from 1 to 900' }),
  environment: z
    .record(
      z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9_]*$/)
        .refine((name) => !RESERVED_ENV.test(name)),
      z.string(),
    )
    .optional()
    .meta({ expected: 'an object of string values whose names are not reserved by Lambda (AWS_REGION, AWS_LAMBDA_*, _HANDLER, ...)' }),
  reservedConcurrency: z.number().int().min(0).nullable().optional().meta({ expected: 'null (no reservation) or an integer >= 0' }),
  logRetentionDays: z
    .number()
    .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days))
    .optional()
    .meta({ expected: `one of ${LOG_RETENTION_DAYS.join(', ')}` }),
};

/** A key of `sweep.functions`: also a Terraform output name and the default Lambda function name. */
const functionKey = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/);

const functionEntrySchema = z
  .object({
    ...functionSettingsShape,
    artifact: functionArtifactSchema.optional().meta({
      expected: `an object of the function's artifact options (${Object.keys(functionArtifactSchema.shape).join(', ')})`,
    }),
  })
  .strict()
  .meta({ expected: 'an object of function settings (functionName, memorySize, ..., artifact)' });

const backendType = { expected: '"local" or "s3"' };
const localBackend = z
  .object({ type: z.literal('local').meta(backendType), path: z.string().min(1).optional().meta({ expected: 'a state file path' }) })
  .strict();
const s3Backend = z
  .object({
    type: z.literal('s3').meta(backendType),
    bucket: z.string().min(3).meta({ expected: 'an S3 bucket name' }),
    key: z.string().min(1).meta({ expected: 'the state object key, e.g. "aws-serverless-sweep/terraform.tfstate"' }),
    region: z.string().min(1).meta({ expected: "the bucket's region" }),
    /** S3-native state locking (Terraform 1.10+); the default. */
    useLockfile: z.boolean().optional().meta({ expected: 'true or false' }),
    /** DynamoDB table for state locking, for Terraform older than 1.10. */
    dynamodbTable: z.string().min(1).optional().meta({ expected: 'a DynamoDB table name' }),
    encrypt: z.boolean().optional().meta({ expected: 'true or false' }),
  })
  .strict();

export const appConfigSchema = z
  .object({
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_-]*$/)
      .default('aws-serverless-sweep')
      .meta({ expected: 'a stack name (a letter, then letters, digits, _ or -)' }),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/)
      .default('us-east-1')
      .meta({ expected: 'an AWS region such as "us-east-1"' }),
    ...functionSettingsShape,
    artifact: artifactOptionsSchema.omit({ projectRoot: true }).optional().meta({ expected: 'an object of artifact options' }),
    functions: z
      .record(functionKey, functionEntrySchema)
      .optional()
      .meta({ expected: 'an object mapping function names (a letter, then letters, digits, _ or -) to their settings' }),
    backend: z.discriminatedUnion('type', [localBackend, s3Backend]).default({ type: 'local' }).meta({
      expected: '{"type": "local", "path"?} or {"type": "s3", "bucket", "key", "region", "useLockfile"?, "dynamodbTable"?, "encrypt"?}',
    }),
  })
  .strict()
  .meta({ expected: 'an object of settings (see README: Configuration)' });

export type BackendConfig = z.infer<typeof appConfigSchema>['backend'];

/** One function, every setting filled in: its own value, else the top level's, else the default. */
export interface FunctionConfig {
  /** Its key in `sweep.functions` (without the map: the function name). */
  readonly key: string;
  readonly functionName: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly reservedConcurrency: number | null;
  readonly logRetentionDays: number;
  /** The top level's artifact options, overridden by the function's own. */
  readonly artifact: ArtifactOptions;
  /** Where its artifact options live in cdktf.json, for fix hints. */
  readonly origin: Extract<OptionsOrigin, { kind: 'context' }>;
}

export interface AppConfig {
  readonly stackName: string;
  readonly region: string;
  readonly backend: BackendConfig;
  /** `sweep.artifact` as written (the workspace-wide options and every function's defaults). */
  readonly artifact: ArtifactOptions;
  readonly functions: readonly FunctionConfig[];
}

/** Validates the `sweep` context value; a SweepError names every bad key, its value and what is accepted. */
export function parseAppConfig(raw: unknown, source = 'cdktf.json'): AppConfig {
  const value = raw ?? {};
  const parsed = appConfigSchema.safeParse(value);
  if (!parsed.success) throw invalidConfig(source, toConfigIssues(parsed.error.issues, `context.${CONTEXT_KEY}.`, appConfigSchema, value));
  const config = parsed.data;
  // The artifact options stay as written: defaults are filled once, by resolveArtifactOptions,
  // which also needs to know which options were given (to say where a setting came from).
  const shared: ArtifactOptions = (value as { artifact?: ArtifactOptions }).artifact ?? {};
  const ownArtifacts = (value as { functions?: Record<string, { artifact?: ArtifactOptions }> }).functions ?? {};
  const functions = config.functions ? mapFunctions(config, shared, ownArtifacts, source) : [singleFunction(config, shared)];
  return { stackName: config.stackName, region: config.region, backend: config.backend, artifact: shared, functions };
}

type ParsedConfig = z.infer<typeof appConfigSchema>;
type FunctionSettings = Pick<ParsedConfig, keyof typeof functionSettingsShape>;

/**
 * Without `sweep.functions`: one function, named by its artifact's name, else its package, else its
 * function name. Its artifact's name stays what was written (the engine's default: the package name).
 */
function singleFunction(config: ParsedConfig, shared: ArtifactOptions): FunctionConfig {
  const functionName = config.functionName ?? FUNCTION_DEFAULTS.functionName;
  const key = shared.name ?? shared.package ?? functionName;
  return { key, functionName, ...settings(config, {}), artifact: shared, origin: { kind: 'context' } };
}

function mapFunctions(
  config: ParsedConfig,
  shared: ArtifactOptions,
  ownArtifacts: Readonly<Record<string, { artifact?: ArtifactOptions }>>,
  source: string,
): FunctionConfig[] {
  const issues: ConfigIssue[] = [];
  const at = (...keys: string[]) => `context.${CONTEXT_KEY}.${keys.join('.')}`;
  const entries = Object.entries(config.functions ?? {});
  if (entries.length === 0) issues.push({ key: at('functions'), got: {}, expected: 'at least one function' });
  if (config.functionName !== undefined) {
    issues.push({
      key: at('functionName'),
      got: config.functionName,
      expected: `no top-level functionName with sweep.functions: set it per function (${at('functions', '<name>', 'functionName')})`,
    });
  }
  if (shared.name !== undefined) {
    issues.push({
      key: at('artifact', 'name'),
      got: shared.name,
      expected: `no shared artifact name with sweep.functions: set it per function (${at('functions', '<name>', 'artifact', 'name')})`,
    });
  }
  const functions = entries.map(([key, entry]): FunctionConfig => {
    const own = ownArtifacts[key]?.artifact ?? {};
    const artifact: ArtifactOptions = { ...shared, ...own, name: own.name ?? key };
    return {
      key,
      functionName: entry.functionName ?? key,
      ...settings(config, entry),
      artifact,
      origin: { kind: 'context', function: key },
    };
  });
  // Artifact names become file names in dist/: on a case-insensitive file system (macOS,
  // Windows) `Api` and `api` are one file, so they must differ in more than case.
  for (const [what, nameOf, fold] of [
    ['function name', (f: FunctionConfig) => f.functionName, (name: string) => name],
    ['artifact name (dist/<name>.zip)', (f: FunctionConfig) => f.artifact.name!, (name: string) => name.toLowerCase()],
  ] as const) {
    const seen = new Map<string, FunctionConfig>();
    for (const f of functions) {
      const earlier = seen.get(fold(nameOf(f)));
      if (earlier !== undefined) {
        const caseOnly = nameOf(earlier) !== nameOf(f);
        issues.push({
          key: at('functions', f.key),
          got: nameOf(f),
          expected: caseOnly
            ? `${article(what)} ${what} that differs from function ${earlier.key}'s (${nameOf(earlier)}) in more than case: on a case-insensitive file system they are one file`
            : `${article(what)} ${what} of its own (function ${earlier.key} has it too)`,
        });
      }
      seen.set(fold(nameOf(f)), f);
    }
  }
  if (issues.length > 0) throw invalidConfig(source, issues);
  return functions;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/** A function's settings: its own, else the top level's, else the defaults. */
function settings(top: FunctionSettings, own: FunctionSettings) {
  return {
    memorySize: own.memorySize ?? top.memorySize ?? FUNCTION_DEFAULTS.memorySize,
    timeoutSeconds: own.timeoutSeconds ?? top.timeoutSeconds ?? FUNCTION_DEFAULTS.timeoutSeconds,
    environment: { ...FUNCTION_DEFAULTS.environment, ...top.environment, ...own.environment },
    reservedConcurrency:
      own.reservedConcurrency !== undefined ? own.reservedConcurrency : (top.reservedConcurrency ?? FUNCTION_DEFAULTS.reservedConcurrency),
    logRetentionDays: own.logRetentionDays ?? top.logRetentionDays ?? FUNCTION_DEFAULTS.logRetentionDays,
  };
}

/** The functions `names` select (all when none are named); an unknown name is an error listing the known ones. */
export function selectFunctions(config: AppConfig, names: readonly string[]): FunctionConfig[] {
  if (names.length === 0) return [...config.functions];
  const known = config.functions.map((f) => f.key);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw invalidConfig(
      '--function',
      unknown.map((name) => ({ key: '--function', got: name, expected: `the name of a function in cdktf.json (${known.join(', ')})` })),
    );
  }
  return config.functions.filter((f) => names.includes(f.key));
}

/**
 * The `sweep` context from the cdktf.json in `projectRoot`, for callers that do not run under
 * the cdktf CLI (which passes context to the app itself). Undefined when there is no cdktf.json.
 */
export function readContextFromCdktfJson(projectRoot: string): unknown {
  const file = path.join(projectRoot, 'cdktf.json');
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw cdktfJsonUnusable(file, 'it is not a regular file', 'replace it with the JSON file cdktf expects');
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((error as NodeJS.ErrnoException).code) throw cdktfJsonUnusable(file, (error as Error).message, 'make it readable');
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw cdktfJsonUnusable(file, `it is not valid JSON: ${(cause as Error).message}`, 'correct the syntax of cdktf.json', cause);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw cdktfJsonUnusable(
      file,
      `it must be a JSON object, not ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`,
      'see the cdktf.json of this repository',
    );
  }
  const context = (json as { context?: unknown }).context;
  if (context === undefined) return undefined;
  if (context === null || typeof context !== 'object' || Array.isArray(context)) {
    throw cdktfJsonUnusable(file, '"context" must be an object', `put the settings under "context": {"${CONTEXT_KEY}": {...}}`);
  }
  return (context as Record<string, unknown>)[CONTEXT_KEY];
}
