import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { parseRemoteCacheUrl, type RemoteCacheLocation } from '../remote/store.js';
import { type ConfigIssue, invalidConfig, unusableFolder } from '../support/errors.js';
import { isSafeName } from '../support/safe-name.js';

/**
 * The options of a runtime artifact. `artifactOptionsSchema` is the one source of every option:
 * its type (`ArtifactOptions` is inferred from it), its default (`.default(...)`), and what it
 * accepts in words (`.meta({ expected })`, used by every config error). A new option is one
 * entry here; the compiler finds everything else that must handle it.
 *
 * `resolveArtifactOptions` turns what a user gave (construct config, cdktf.json context, CLI
 * flags) into `ResolvedArtifactOptions`: defaults filled, environment overrides applied, every
 * path absolute, and a note of where each operator-facing setting came from.
 */

export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export const RUNTIMES = ['provided.al2023', 'provided.al2'] as const;
export const PULL_POLICIES = ['always', 'if-missing', 'never'] as const;
export const REMOTE_CACHE_MODES = ['read', 'read-write', 'off'] as const;

export type Architecture = (typeof ARCHITECTURES)[number];
export type LambdaRuntime = (typeof RUNTIMES)[number];
export type PullPolicy = (typeof PULL_POLICIES)[number];
export type RemoteCacheMode = (typeof REMOTE_CACHE_MODES)[number];

/** What each Lambda architecture builds: the Rust target and the Debian architecture of its libraries. */
export const TARGETS: Readonly<Record<Architecture, { readonly triple: string; readonly debianArch: string }>> = {
  x86_64: { triple: 'x86_64-unknown-linux-gnu', debianArch: 'amd64' },
  arm64: { triple: 'aarch64-unknown-linux-gnu', debianArch: 'arm64' },
};

/** The highest glibc symbol version each runtime provides (Amazon Linux 2023: 2.34, Amazon Linux 2: 2.26). */
export const RUNTIME_GLIBC: Readonly<Record<LambdaRuntime, string>> = {
  'provided.al2023': '2.34',
  'provided.al2': '2.26',
};

/** The file Lambda's custom runtime starts, and so the handler name and the zip's one entry. */
export const LAMBDA_ENTRY_POINT = 'bootstrap';

// Cargo feature names, including `dependency/feature` and `dep:name` forms.
const FEATURE = /^[A-Za-z0-9_][A-Za-z0-9_+.:/-]*$/;
// A Docker image reference: [registry[:port]/]path[:tag][@digest], lower-case path components.
const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

const safeName = z.string().refine(isSafeName);
const folder = z.string().min(1).max(4096);
const expectOneOf = (values: readonly string[]) => `one of ${values.map((v) => `"${v}"`).join(', ')}`;

export const remoteCacheSchema = z
  .object({
    url: z
      .string()
      .refine((url) => safeParse(() => parseRemoteCacheUrl(url)))
      .meta({ expected: 'an S3 location "s3://bucket" or "s3://bucket/prefix"' }),
    mode: z
      .enum(REMOTE_CACHE_MODES)
      .default('read')
      .meta({ expected: expectOneOf(REMOTE_CACHE_MODES) }),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/)
      .optional()
      .meta({ expected: 'the bucket\'s AWS region, e.g. "eu-west-1" (default: AWS_REGION, else us-east-1)' }),
  })
  .strict();

/**
 * What a function's own artifact can set (cdktf.json `sweep.functions.<name>.artifact`); these
 * are also accepted in `sweep.artifact`, as defaults for every function.
 */
export const functionArtifactShape = {
  /** The Cargo package that has the Lambda binary. @default - the member that declares a binary named `binary`; an error if none or several do */
  package: safeName.optional().meta({ expected: 'a Cargo package name' }),
  /** The binary target; Lambda starts a file called `bootstrap`, so it is zipped under that name. @default 'bootstrap' */
  binary: safeName.default(LAMBDA_ENTRY_POINT).meta({ expected: 'a Cargo binary name' }),
  /** The file names in `distDir` (`<name>.zip`, `<name>.json`) and the prefix of log lines. @default - the function's name, else the package name */
  name: safeName.optional().meta({ expected: 'a file-name-safe artifact name (letters, digits, _ . -)' }),
  /** The Lambda architecture; selects the Rust target triple. @default 'x86_64' */
  architecture: z
    .enum(ARCHITECTURES)
    .default('x86_64')
    .meta({ expected: expectOneOf(ARCHITECTURES) }),
  /** The Lambda runtime; its glibc bounds what the binary may need. @default 'provided.al2023' */
  runtime: z
    .enum(RUNTIMES)
    .default('provided.al2023')
    .meta({ expected: expectOneOf(RUNTIMES) }),
  /** The Cargo profile (`release`, `dev`, or a custom profile). @default 'release' */
  profile: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('release')
    .meta({ expected: 'a Cargo profile name such as "release" or "dev"' }),
  /** Cargo features to enable on the package. @default - none */
  features: z.array(z.string().regex(FEATURE)).default([]).meta({ expected: 'a list of Cargo feature names' }),
  /** The Rust toolchain image the builder image extends. Overridden by SWEEP_TOOLCHAIN_IMAGE. @default 'rust:1-bullseye' */
  toolchainImage: z
    .string()
    .regex(IMAGE_REFERENCE)
    .default('rust:1-bullseye')
    .meta({ expected: 'a Docker image reference such as "rust:1-bullseye"' }),
};

/** What only makes sense once per workspace (cdktf.json `sweep.artifact`, or a construct's config). */
export const workspaceArtifactShape = {
  /** The Cargo workspace (or single package) folder. @default 'rust', relative to `projectRoot` */
  workspace: folder.default('rust').meta({ expected: 'a folder path' }),
  /** When to pull the toolchain image. Overridden by SWEEP_DOCKER_PULL_POLICY. @default 'if-missing' */
  pullPolicy: z
    .enum(PULL_POLICIES)
    .default('if-missing')
    .meta({ expected: expectOneOf(PULL_POLICIES) }),
  /** Rebuild even when the cache says the zip is current. Overridden by FORCE_REBUILD / SWEEP_FORCE_REBUILD. @default false */
  forceRebuild: z.boolean().default(false).meta({ expected: 'true or false' }),
  /** The folder every relative path is resolved against. @default - the current directory (where cdktf.json is) */
  projectRoot: folder.optional().meta({ expected: 'a folder path' }),
  /** Where the zip and its metadata are written. @default 'dist', relative to `projectRoot` */
  distDir: folder.default('dist').meta({ expected: 'a folder path' }),
  /** Persistent caches: cargo target folders, cargo's downloads, file hashes. Overridden by SWEEP_CACHE_DIR. @default '.cache' */
  cacheDir: folder.default('.cache').meta({ expected: 'a folder path' }),
  /** The shared artifact cache on S3. Overridden by SWEEP_REMOTE_CACHE / SWEEP_REMOTE_CACHE_MODE. @default - none */
  remoteCache: remoteCacheSchema.optional().meta({ expected: '{"url": "s3://bucket/prefix", "mode": "read" | "read-write" | "off"}' }),
};

export const artifactOptionsSchema = z.object({ ...workspaceArtifactShape, ...functionArtifactShape }).strict();
export const functionArtifactSchema = z.object(functionArtifactShape).strict();

/** The options as a user gives them: every field optional. */
export type ArtifactOptions = z.input<typeof artifactOptionsSchema>;
/** The keys a function's own `artifact` may set. */
export type FunctionArtifactOptions = z.input<typeof functionArtifactSchema>;

/** The defaults, read from the schema (for constructs that show them, e.g. a prebuilt zip's architecture). */
export const ARTIFACT_DEFAULTS = artifactOptionsSchema.parse({});

/** The key of this project's settings in cdktf.json's `context`. */
export const CONTEXT_KEY = 'sweep';

/**
 * Where options came from, for fix hints that name a key the user can actually set: cdktf.json
 * (`sweep.artifact`, or a function's `sweep.functions.<name>.artifact`; `cli` when flags could
 * set it too), or a construct's config.
 */
const originSchema = z.union([
  z.object({ kind: z.literal('context'), function: z.string().optional(), cli: z.boolean().optional() }),
  z.object({ kind: z.literal('props'), label: z.string() }),
]);
export type OptionsOrigin = z.infer<typeof originSchema>;

const CLI_FLAGS: Partial<Record<keyof ArtifactOptions, string>> = { workspace: '--workspace', package: '--package', binary: '--bin' };

/** The cdktf.json context key of option `key` for options from `origin` (workspace-wide options live in `sweep.artifact`). */
export function contextKeyOf(origin: { readonly function?: string }, key: keyof ArtifactOptions): string {
  const perFunction = origin.function !== undefined && key in functionArtifactShape;
  return [CONTEXT_KEY, ...(perFunction ? ['functions', origin.function!] : []), 'artifact', key].join('.');
}

/**
 * How to set option `key` where these options came from, e.g. "`package` (cdktf.json context
 * sweep.artifact.package, or --package)" or "`package` in the RuntimeArtifact "stack/runtime" config".
 */
export function optionHint(origin: OptionsOrigin, key: keyof ArtifactOptions): string {
  if (origin.kind === 'props') return `\`${key}\` in the ${origin.label}`;
  const flag = origin.cli ? CLI_FLAGS[key] : undefined;
  return `\`${key}\` (cdktf.json context ${contextKeyOf(origin, key)}${flag ? `, or ${flag}` : ''})`;
}

/** Options with every default filled in and every path absolute; what the engine runs with. */
export const resolvedArtifactOptionsSchema = z.object({
  projectRoot: z.string(),
  workspace: z.string(),
  package: z.string().optional(),
  binary: z.string(),
  /** The option, or undefined for "the package name". */
  name: z.string().optional(),
  architecture: z.enum(ARCHITECTURES),
  targetTriple: z.string(),
  runtime: z.enum(RUNTIMES),
  profile: z.string(),
  /** Sorted, without duplicates: their order must not change the fingerprint. */
  features: z.array(z.string()),
  toolchainImage: z.string(),
  pullPolicy: z.enum(PULL_POLICIES),
  forceRebuild: z.boolean(),
  distDir: z.string(),
  cacheDir: z.string(),
  remoteCache: z
    .object({ url: z.string(), bucket: z.string(), prefix: z.string(), mode: z.enum(REMOTE_CACHE_MODES), region: z.string().optional() })
    .optional(),
  /** The docker command (SWEEP_DOCKER, like CDK's CDK_DOCKER). */
  dockerCommand: z.string(),
  /** Repository of the builder images (SWEEP_BUILDER_REPOSITORY; tests use their own). */
  builderRepository: z.string(),
  /**
   * How long a build waits for a build lock held by another process before it fails
   * (SWEEP_LOCK_TIMEOUT_SECONDS); undefined for build-lock.ts's default (30 minutes). Only the
   * environment sets it: it is the operator's bound on a CI job, e.g. one that must fail fast on
   * a lock left in a shared dist/ by another host, which is never taken over automatically.
   */
  lockTimeoutMs: z.number().positive().optional(),
  /** Allow-listed build variables passed into the container and covered by the fingerprint. */
  buildEnv: z.record(z.string(), z.string()),
  /** Where the operator-facing settings came from, for log lines and errors (e.g. `FORCE_REBUILD=1`). */
  sources: z.object({
    forceRebuild: z.string().optional(),
    pullPolicy: z.string(),
    toolchainImage: z.string(),
    remoteCache: z.string().optional(),
    remoteCacheMode: z.string(),
  }),
  origin: originSchema,
});
export type ResolvedArtifactOptions = z.infer<typeof resolvedArtifactOptionsSchema>;

export type Environment = Readonly<Record<string, string | undefined>>;

/** The environment variables that override options, documented in the README. */
export const ENV = {
  force: ['FORCE_REBUILD', 'SWEEP_FORCE_REBUILD'],
  pullPolicy: 'SWEEP_DOCKER_PULL_POLICY',
  toolchainImage: 'SWEEP_TOOLCHAIN_IMAGE',
  cacheDir: 'SWEEP_CACHE_DIR',
  docker: 'SWEEP_DOCKER',
  builderRepository: 'SWEEP_BUILDER_REPOSITORY',
  remoteCache: 'SWEEP_REMOTE_CACHE',
  remoteCacheMode: 'SWEEP_REMOTE_CACHE_MODE',
  lockTimeout: 'SWEEP_LOCK_TIMEOUT_SECONDS',
} as const;

export interface ResolveContext {
  /** The environment (process.env by default; tests pass their own). */
  readonly env?: Environment;
  /** Where the options came from, for error messages and hints. @default - props of "artifact options" */
  readonly origin?: OptionsOrigin;
  /** What to call the options in a config error, e.g. `cdktf.json` or `RuntimeArtifact "stack/runtime" config`. */
  readonly source?: string;
  /** How a forced rebuild asked for by `forceRebuild: true` is named in the cache-miss line. @default 'forceRebuild option' */
  readonly forceLabel?: string;
}

/**
 * Validates, fills every default and applies the environment overrides. Throws a SweepError
 * naming each bad key, its value and what is accepted.
 *
 * The environment wins over options where a variable exists for a setting: an operator's
 * `FORCE_REBUILD=1 npx cdktf deploy` must work whatever the code says.
 */
export function resolveArtifactOptions(options: ArtifactOptions = {}, context: ResolveContext = {}): ResolvedArtifactOptions {
  const env = context.env ?? process.env;
  const origin = context.origin ?? { kind: 'props', label: 'artifact options' };
  const source = context.source ?? (origin.kind === 'props' ? origin.label : 'cdktf.json');
  const parsed = artifactOptionsSchema.safeParse(options);
  if (!parsed.success) throw invalidConfig(source, toConfigIssues(parsed.error.issues, '', artifactOptionsSchema, options));
  const o = parsed.data;
  const given = (key: keyof ArtifactOptions) => options[key] !== undefined;
  const optionSource = (key: keyof ArtifactOptions) => (origin.kind === 'context' ? contextKeyOf(origin, key) : `${key} option`);

  const issues: ConfigIssue[] = [];
  const force = parseForce(env, issues);
  const pullPolicy = parseEnvChoice(env, ENV.pullPolicy, PULL_POLICIES, issues);
  const toolchainImage = parseEnvMatching(
    env,
    ENV.toolchainImage,
    IMAGE_REFERENCE,
    'a Docker image reference such as "rust:1-bullseye"',
    issues,
  );
  const remoteUrl = parseEnvMatching(env, ENV.remoteCache, /^s3:\/\//, 'an S3 location "s3://bucket/prefix"', issues);
  const remoteMode = parseEnvChoice(env, ENV.remoteCacheMode, REMOTE_CACHE_MODES, issues);
  const builderRepository = parseEnvMatching(
    env,
    ENV.builderRepository,
    /^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/,
    'a lower-case image repository name',
    issues,
  );
  const lockTimeout = parseEnvMatching(
    env,
    ENV.lockTimeout,
    /^(?=.*[1-9])\d{1,7}(\.\d{1,3})?$/,
    'a number of seconds greater than 0, e.g. 60',
    issues,
  );
  if (issues.length > 0) throw invalidConfig('environment', issues, 'fix or unset the variables above');
  const remoteLocation: RemoteCacheLocation | undefined =
    remoteUrl === undefined ? undefined : parseRemoteCacheUrl(remoteUrl, ENV.remoteCache);

  const projectRoot = path.resolve(o.projectRoot ?? process.cwd());
  const inProject = (p: string) => path.resolve(projectRoot, p);

  const configuredRemote = o.remoteCache ? parseRemoteCacheUrl(o.remoteCache.url, optionSource('remoteCache')) : undefined;
  const location = remoteLocation ?? configuredRemote;
  const mode = remoteMode ?? o.remoteCache?.mode ?? 'read';
  const forceRebuild = force ? force.value : o.forceRebuild;

  return {
    projectRoot,
    workspace: inProject(o.workspace),
    package: o.package,
    binary: o.binary,
    name: o.name,
    architecture: o.architecture,
    targetTriple: TARGETS[o.architecture].triple,
    runtime: o.runtime,
    profile: o.profile,
    features: [...new Set(o.features)].sort(),
    toolchainImage: toolchainImage ?? o.toolchainImage,
    pullPolicy: pullPolicy ?? o.pullPolicy,
    forceRebuild,
    distDir: checkedFolder(inProject(o.distDir), optionSource('distDir'), origin),
    cacheDir: checkedFolder(
      inProject(nonEmpty(env[ENV.cacheDir]) ?? o.cacheDir),
      nonEmpty(env[ENV.cacheDir]) ? ENV.cacheDir : optionSource('cacheDir'),
      origin,
    ),
    remoteCache: location && { ...location, mode, region: o.remoteCache?.region },
    dockerCommand: nonEmpty(env[ENV.docker]) ?? 'docker',
    builderRepository: builderRepository ?? 'sweep-builder',
    lockTimeoutMs: lockTimeout === undefined ? undefined : Number(lockTimeout) * 1000,
    buildEnv: pickBuildEnv(env),
    sources: {
      forceRebuild: !forceRebuild ? undefined : force ? force.source : (context.forceLabel ?? 'forceRebuild option'),
      pullPolicy: pullPolicy
        ? `${ENV.pullPolicy}=${pullPolicy}`
        : given('pullPolicy')
          ? `${optionSource('pullPolicy')} "${o.pullPolicy}"`
          : 'the default',
      toolchainImage: toolchainImage ? ENV.toolchainImage : given('toolchainImage') ? optionSource('toolchainImage') : 'the default',
      remoteCache: location && (remoteLocation ? ENV.remoteCache : optionSource('remoteCache')),
      remoteCacheMode: remoteMode
        ? ENV.remoteCacheMode
        : options.remoteCache?.mode !== undefined
          ? `${optionSource('remoteCache')}.mode`
          : 'the default',
    },
    origin,
  };
}

/**
 * Turns zod's issues into ConfigIssues whose keys carry `prefix` (e.g. `context.sweep.`), with the
 * words of what each key accepts taken from the schema's `meta({ expected })`, and the keys an
 * object accepts from the schema's shape.
 */
export function toConfigIssues(issues: readonly z.core.$ZodIssue[], prefix: string, schema: z.ZodType, value: unknown): ConfigIssue[] {
  const keyOf = (at: readonly PropertyKey[]) => (at.length === 0 ? prefix.replace(/\.$/, '') : `${prefix}${at.join('.')}`);
  return issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      const known = Object.keys(objectShapeAt(schema, issue.path, value) ?? {}).join(', ');
      return issue.keys.map((key) => ({
        key: keyOf([...issue.path, key]),
        got: valueAt(value, [...issue.path, key]),
        expected: `no such key (known keys: ${known})`,
      }));
    }
    // The closest described key: `features.0` is described by `features`.
    let expected: string | undefined;
    // A bad key of a record is described by the record (which says what its keys may be).
    const start = issue.code === 'invalid_key' ? issue.path.length - 1 : issue.path.length;
    for (let n = start; n >= 0 && expected === undefined; n--) {
      expected = expectedAt(schema, issue.path.slice(0, n), value);
    }
    return [{ key: keyOf(issue.path), got: valueAt(value, issue.path), expected: expected ?? issue.message }];
  });
}

/** The schema of the value at `at` inside `schema`, looking through optional/default/record/union wrappers. */
export function schemaAt(schema: z.ZodType, at: readonly PropertyKey[], value: unknown): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  let currentValue = value;
  for (const key of at) {
    const object: Record<string, unknown> | undefined = current && objectShapeOf(current, currentValue);
    const element: z.ZodType | undefined = current && containerElement(current);
    if (object && typeof key === 'string' && key in object) current = object[key] as z.ZodType;
    else if (element) current = element;
    else return undefined;
    currentValue = valueAt(currentValue, [key]);
  }
  return current;
}

function expectedAt(schema: z.ZodType, at: readonly PropertyKey[], value: unknown): string | undefined {
  const found = schemaAt(schema, at, value);
  return found ? (metaExpected(found) ?? undefined) : undefined;
}

function metaExpected(schema: z.ZodType): string | undefined {
  for (let s: z.ZodType | undefined = schema; s; s = unwrap(s)) {
    const expected = s.meta()?.expected;
    if (typeof expected === 'string') return expected;
  }
  return undefined;
}

function objectShapeAt(schema: z.ZodType, at: readonly PropertyKey[], value: unknown): Record<string, unknown> | undefined {
  const found = schemaAt(schema, at, value);
  return found && objectShapeOf(found, valueAt(value, at));
}

/** The shape of an object schema (through wrappers; for a discriminated union, the member matching `value`). */
function objectShapeOf(schema: z.ZodType, value: unknown): Record<string, unknown> | undefined {
  for (let s: z.ZodType | undefined = schema; s; s = unwrap(s)) {
    if (s instanceof z.ZodObject) return s.shape;
    if (s instanceof z.ZodUnion) {
      // The member whose literal fields (a discriminator like `type: "s3"`) match the value.
      const members = (s.options as z.ZodType[]).filter((option) => option instanceof z.ZodObject) as z.ZodObject[];
      const matches = (member: z.ZodObject) =>
        Object.entries(member.shape).every(
          ([key, field]) => !(field instanceof z.ZodLiteral) || field.values.has(valueAt(value, [key]) as never),
        );
      const member = members.find(matches) ?? members[0];
      return member?.shape;
    }
  }
  return undefined;
}

function containerElement(schema: z.ZodType): z.ZodType | undefined {
  for (let s: z.ZodType | undefined = schema; s; s = unwrap(s)) {
    if (s instanceof z.ZodArray) return s.element as z.ZodType;
    if (s instanceof z.ZodRecord) return s.valueType as z.ZodType;
  }
  return undefined;
}

function unwrap(schema: z.ZodType): z.ZodType | undefined {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault)
    return schema.unwrap() as z.ZodType;
  return undefined;
}

function valueAt(value: unknown, at: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of at) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function safeParse(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch {
    return false;
  }
}

/**
 * A folder the engine writes (dist, cache) must be one it can own: never a file system's root
 * (clean would empty it), not a file, and a path the system can open (PATH_MAX is 4096 on Linux;
 * the engine adds file names below it).
 */
function checkedFolder(folder: string, source: string, origin: OptionsOrigin): string {
  const problem =
    path.parse(folder).root === folder
      ? "it is the file system's root"
      : Buffer.byteLength(folder) > 3800
        ? `the path is ${Buffer.byteLength(folder)} bytes long; with the file names below it, longer than the system allows (4096)`
        : existsAsNonFolder(folder)
          ? 'it exists and is not a folder'
          : undefined;
  if (problem !== undefined) throw unusableFolder(folder, source, problem, origin);
  return folder;
}

function existsAsNonFolder(folder: string): boolean {
  try {
    return !fs.statSync(folder).isDirectory();
  } catch {
    return false;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

const TRUE_VALUES = ['1', 'true'];
const FALSE_VALUES = ['', '0', 'false'];

/** `FORCE_REBUILD` and `SWEEP_FORCE_REBUILD`: either one set to 1/true forces a rebuild. */
function parseForce(env: Environment, issues: ConfigIssue[]): { value: boolean; source: string } | undefined {
  let result: { value: boolean; source: string } | undefined;
  for (const name of ENV.force) {
    const raw = env[name];
    if (raw === undefined) continue;
    const value = raw.trim().toLowerCase();
    if (TRUE_VALUES.includes(value)) result = { value: true, source: `${name}=${raw.trim()}` };
    else if (FALSE_VALUES.includes(value)) result ??= { value: false, source: `${name}=${raw.trim()}` };
    else issues.push({ key: name, got: raw, expected: '1 or true to force a rebuild; 0, false or empty for none' });
  }
  return result;
}

function parseEnvChoice<T extends string>(env: Environment, name: string, choices: readonly T[], issues: ConfigIssue[]): T | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  issues.push({ key: name, got: env[name], expected: `one of ${choices.join(', ')}` });
  return undefined;
}

function parseEnvMatching(env: Environment, name: string, pattern: RegExp, expected: string, issues: ConfigIssue[]): string | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  if (pattern.test(raw)) return raw;
  issues.push({ key: name, got: env[name], expected });
  return undefined;
}

/**
 * The host variables that change what cargo builds, passed into the build container and
 * recorded in the fingerprint. An explicit allow-list: nothing else from the host environment
 * reaches the build, so secrets never do, and a variable that is not passed cannot make the
 * cache stale.
 */
const BUILD_ENV_PATTERNS: readonly RegExp[] = [
  /^RUSTFLAGS$/,
  /^CARGO_ENCODED_RUSTFLAGS$/,
  /^CARGO_BUILD_RUSTFLAGS$/,
  /^CARGO_INCREMENTAL$/,
  /^CARGO_PROFILE_[A-Z0-9_]+$/,
  /^CARGO_TARGET_[A-Z0-9_]+_RUSTFLAGS$/,
];

export function isBuildEnvName(name: string): boolean {
  return BUILD_ENV_PATTERNS.some((pattern) => pattern.test(name));
}

function pickBuildEnv(env: Environment): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value !== undefined && isBuildEnvName(name)) picked[name] = value;
  }
  return picked;
}
