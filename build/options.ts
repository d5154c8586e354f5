import * as path from 'node:path';
import { z } from 'zod';
import { type ConfigIssue, invalidConfig } from './errors.js';

/**
 * The options of one runtime artifact, as a user gives them (construct props, cdktf.json
 * context, CLI flags). Every field is optional; `resolveArtifactOptions` fills the defaults in
 * one place and applies the environment overrides the design names.
 */
export interface ArtifactOptions {
  /**
   * The Cargo workspace (or single package) folder to build.
   * @default 'rust', relative to `projectRoot`
   */
  readonly workspace?: string;
  /**
   * The Cargo package that has the Lambda binary.
   * @default - the workspace member that declares a binary named `binary`; an error if none or several do
   */
  readonly package?: string;
  /**
   * The binary target to deploy. Lambda's custom runtime runs a file called `bootstrap`; a binary
   * with another name is renamed to `bootstrap` in the zip.
   * @default 'bootstrap'
   */
  readonly binary?: string;
  /**
   * The artifact's name: the file names in `distDir` (`<name>.zip`, `<name>.json`) and the prefix
   * of its log lines.
   * @default - the package name
   */
  readonly name?: string;
  /**
   * The Lambda architecture; selects the Rust target triple.
   * @default 'x86_64'
   */
  readonly architecture?: Architecture;
  /**
   * The Lambda runtime the zip must run on; its glibc version bounds what the binary may need.
   * @default 'provided.al2023'
   */
  readonly runtime?: LambdaRuntime;
  /**
   * The Cargo profile (`release`, `dev`, or a custom profile of the workspace).
   * @default 'release'
   */
  readonly profile?: string;
  /**
   * Cargo features to enable on the package.
   * @default - none
   */
  readonly features?: readonly string[];
  /**
   * The Rust toolchain image the builder image extends. Overridden by `SWEEP_TOOLCHAIN_IMAGE`.
   * @default 'rust:1-bullseye'
   */
  readonly toolchainImage?: string;
  /**
   * When to pull the toolchain image. Overridden by `SWEEP_DOCKER_PULL_POLICY`.
   * @default 'if-missing'
   */
  readonly pullPolicy?: PullPolicy;
  /**
   * Rebuild even when the cache says the zip is current. Overridden by `FORCE_REBUILD` and
   * `SWEEP_FORCE_REBUILD`.
   * @default false
   */
  readonly forceRebuild?: boolean;
  /**
   * The folder every relative path is resolved against.
   * @default - the current directory (where cdktf.json is)
   */
  readonly projectRoot?: string;
  /**
   * Where the zip and its metadata are written.
   * @default 'dist', relative to `projectRoot`
   */
  readonly distDir?: string;
  /**
   * Where the persistent caches live (cargo target folder, cargo home, file hashes, locks).
   * Overridden by `SWEEP_CACHE_DIR`.
   * @default '.cache', relative to `projectRoot`
   */
  readonly cacheDir?: string;
}

export type Architecture = 'x86_64' | 'arm64';
export type LambdaRuntime = 'provided.al2023' | 'provided.al2';
export type PullPolicy = 'always' | 'if-missing' | 'never';

export const ARCHITECTURES: readonly Architecture[] = ['x86_64', 'arm64'];
export const RUNTIMES: readonly LambdaRuntime[] = ['provided.al2023', 'provided.al2'];
export const PULL_POLICIES: readonly PullPolicy[] = ['always', 'if-missing', 'never'];
export const DEFAULT_TOOLCHAIN_IMAGE = 'rust:1-bullseye';

/** What each Lambda architecture builds: the Rust target and the Debian architecture of its libraries. */
export const TARGETS: Readonly<Record<Architecture, { readonly triple: string; readonly debianArch: string }>> = {
  x86_64: { triple: 'x86_64-unknown-linux-gnu', debianArch: 'amd64' },
  arm64: { triple: 'aarch64-unknown-linux-gnu', debianArch: 'arm64' },
};

/**
 * The highest glibc symbol version each runtime provides (Amazon Linux 2023: glibc 2.34,
 * Amazon Linux 2: glibc 2.26).
 */
export const RUNTIME_GLIBC: Readonly<Record<LambdaRuntime, string>> = {
  'provided.al2023': '2.34',
  'provided.al2': '2.26',
};

/** Options with every default filled in and every path absolute. */
export interface ResolvedArtifactOptions {
  readonly projectRoot: string;
  readonly workspace: string;
  readonly package: string | undefined;
  readonly binary: string;
  readonly name: string | undefined;
  readonly architecture: Architecture;
  readonly targetTriple: string;
  readonly runtime: LambdaRuntime;
  readonly profile: string;
  readonly features: readonly string[];
  readonly toolchainImage: string;
  readonly pullPolicy: PullPolicy;
  readonly forceRebuild: boolean;
  /** Which setting asked for the rebuild, for the cache-miss line (e.g. `FORCE_REBUILD=1`). */
  readonly forceSource: string | undefined;
  readonly distDir: string;
  readonly cacheDir: string;
  /** The docker command (`SWEEP_DOCKER`, like CDK's `CDK_DOCKER`). */
  readonly dockerCommand: string;
  /** Allow-listed build variables passed into the container and covered by the fingerprint. */
  readonly buildEnv: Readonly<Record<string, string>>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// Cargo feature names, including `dependency/feature` and `dep:name` forms.
const FEATURE = /^[A-Za-z0-9_][A-Za-z0-9_+.:/-]*$/;

/** The schema of ArtifactOptions, also embedded in the app's cdktf.json context schema. */
export const artifactOptionsSchema = z
  .object({
    workspace: z.string().min(1).optional(),
    package: z.string().regex(NAME).optional(),
    binary: z.string().regex(NAME).optional(),
    name: z.string().regex(NAME).optional(),
    architecture: z.enum(ARCHITECTURES as [Architecture, ...Architecture[]]).optional(),
    runtime: z.enum(RUNTIMES as [LambdaRuntime, ...LambdaRuntime[]]).optional(),
    profile: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .optional(),
    features: z.array(z.string().regex(FEATURE)).optional(),
    toolchainImage: z.string().min(1).optional(),
    pullPolicy: z.enum(PULL_POLICIES as [PullPolicy, ...PullPolicy[]]).optional(),
    forceRebuild: z.boolean().optional(),
    projectRoot: z.string().min(1).optional(),
    distDir: z.string().min(1).optional(),
    cacheDir: z.string().min(1).optional(),
  })
  .strict();

/** What each option accepts, in words, for error messages. */
export const ARTIFACT_OPTIONS_EXPECTED: Readonly<Record<string, string>> = {
  workspace: 'a folder path',
  package: 'a Cargo package name',
  binary: 'a Cargo binary name',
  name: 'a file-name-safe artifact name (letters, digits, _ . -)',
  architecture: `one of ${ARCHITECTURES.map((a) => `"${a}"`).join(', ')}`,
  runtime: `one of ${RUNTIMES.map((a) => `"${a}"`).join(', ')}`,
  profile: 'a Cargo profile name such as "release" or "dev"',
  features: 'a list of Cargo feature names',
  toolchainImage: 'a Docker image reference such as "rust:1-bullseye"',
  pullPolicy: `one of ${PULL_POLICIES.map((a) => `"${a}"`).join(', ')}`,
  forceRebuild: 'true or false',
  projectRoot: 'a folder path',
  distDir: 'a folder path',
  cacheDir: 'a folder path',
};

/**
 * Turns zod's issues into ConfigIssues whose keys carry `prefix` (e.g. `context.sweep.`), using
 * `expected` (keyed by dotted path, e.g. `artifact.architecture`; '' for the whole value) for the
 * words of what each key accepts, and `knownKeysAt` for the keys an object at a path accepts.
 */
export function toConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: string,
  expected: Readonly<Record<string, string>>,
  value: unknown,
  knownKeysAt: (at: readonly PropertyKey[], objectValue: unknown) => readonly string[] = (at) => childKeys(expected, at.join('.')),
): ConfigIssue[] {
  const keyOf = (at: readonly PropertyKey[]) => (at.length === 0 ? prefix.replace(/\.$/, '') : `${prefix}${at.join('.')}`);
  return issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(issue.path, valueAt(value, issue.path)).join(', ');
      return issue.keys.map((key) => ({
        key: keyOf([...issue.path, key]),
        got: valueAt(value, [...issue.path, key]),
        expected: `no such key (known keys: ${known})`,
      }));
    }
    // The closest described key: `features.0` is described by `features`.
    let described: string | undefined;
    for (let n = issue.path.length; n >= 0 && described === undefined; n--) described = expected[issue.path.slice(0, n).join('.')];
    return [{ key: keyOf(issue.path), got: valueAt(value, issue.path), expected: described ?? issue.message }];
  });
}

/** The keys directly under `parent` in a map of dotted keys. */
function childKeys(expected: Readonly<Record<string, string>>, parent: string): string[] {
  const depth = parent === '' ? 0 : parent.split('.').length;
  return Object.keys(expected)
    .filter((k) => k !== '' && (parent === '' || k.startsWith(`${parent}.`)) && k.split('.').length === depth + 1)
    .map((k) => k.split('.').pop()!);
}

function valueAt(value: unknown, at: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of at) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Fills every default, applies the environment overrides, and validates. Throws a SweepError
 * naming each bad key, its value and what is accepted.
 *
 * The environment wins over options where the design names a variable: an operator's
 * `FORCE_REBUILD=1 npx cdktf deploy` must work whatever the code says.
 */
export function resolveArtifactOptions(
  options: ArtifactOptions = {},
  env: Environment = process.env,
  source = 'artifact options',
  /** How a forced rebuild asked for by `options.forceRebuild` is named in the cache-miss line. */
  forceLabel = 'forceRebuild option',
): ResolvedArtifactOptions {
  const parsed = artifactOptionsSchema.safeParse(options);
  if (!parsed.success) throw invalidConfig(source, toConfigIssues(parsed.error.issues, '', ARTIFACT_OPTIONS_EXPECTED, options));
  const o = parsed.data;

  const envIssues: ConfigIssue[] = [];
  const force = parseForce(env, envIssues);
  const pullPolicy = parseEnvChoice(env, 'SWEEP_DOCKER_PULL_POLICY', PULL_POLICIES, envIssues);
  const toolchainImage = nonEmpty(env.SWEEP_TOOLCHAIN_IMAGE);
  if (envIssues.length > 0) throw invalidConfig('environment', envIssues, 'fix or unset the variables above');

  const projectRoot = path.resolve(o.projectRoot ?? process.cwd());
  const inProject = (p: string) => path.resolve(projectRoot, p);
  const architecture = o.architecture ?? 'x86_64';
  return {
    projectRoot,
    workspace: inProject(o.workspace ?? 'rust'),
    package: o.package,
    binary: o.binary ?? 'bootstrap',
    name: o.name,
    architecture,
    targetTriple: TARGETS[architecture].triple,
    runtime: o.runtime ?? 'provided.al2023',
    profile: o.profile ?? 'release',
    features: [...new Set(o.features ?? [])].sort(),
    toolchainImage: toolchainImage ?? o.toolchainImage ?? DEFAULT_TOOLCHAIN_IMAGE,
    pullPolicy: pullPolicy ?? o.pullPolicy ?? 'if-missing',
    forceRebuild: force ? force.value : (o.forceRebuild ?? false),
    forceSource: force ? (force.value ? force.source : undefined) : o.forceRebuild ? forceLabel : undefined,
    distDir: inProject(o.distDir ?? 'dist'),
    cacheDir: inProject(nonEmpty(env.SWEEP_CACHE_DIR) ?? o.cacheDir ?? '.cache'),
    dockerCommand: nonEmpty(env.SWEEP_DOCKER) ?? 'docker',
    buildEnv: pickBuildEnv(env),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

const TRUE_VALUES = ['1', 'true'];
const FALSE_VALUES = ['', '0', 'false'];

/** `FORCE_REBUILD` and `SWEEP_FORCE_REBUILD`: either one set to 1/true forces a rebuild. */
function parseForce(env: Environment, issues: ConfigIssue[]): { value: boolean; source: string } | undefined {
  let result: { value: boolean; source: string } | undefined;
  for (const name of ['FORCE_REBUILD', 'SWEEP_FORCE_REBUILD']) {
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
