import * as fs from 'node:fs';
import * as path from 'node:path';
import { PRIVATE_KEY_PREFIX, parseTrustedKey, type TrustedKey } from '../remote/keys.js';
import { parseRemoteCacheUrl, type RemoteCacheLocation } from '../remote/url.js';
import { type ConfigIssue, invalidConfig } from '../support/errors.js';
import { toConfigIssues } from './config-issues.js';
import { unusableFolder } from './errors.js';
import { contextKeyOf, type OptionsOrigin } from './origin.js';
import {
  type Architecture,
  type ArtifactOptions,
  artifactOptionsSchema,
  IMAGE_REFERENCE,
  type LambdaRuntime,
  PULL_POLICIES,
  type PullPolicy,
  REMOTE_CACHE_MODES,
  type RemoteCacheMode,
  TARGETS,
} from './schema.js';

/*
 * `resolveArtifactOptions` turns what a user gave (construct config, cdktf.json context, CLI
 * flags) into `ResolvedArtifactOptions`: defaults filled, environment overrides applied, every
 * path absolute, and a note of where each operator-facing setting came from.
 */

/** Options with every default filled in and every path absolute; what the engine runs with. */
export interface ResolvedArtifactOptions {
  readonly projectRoot: string;
  readonly workspace: string;
  readonly package: string | undefined;
  readonly binary: string;
  /** The option, or undefined for "the package name". */
  readonly name: string | undefined;
  readonly architecture: Architecture;
  readonly targetTriple: string;
  readonly runtime: LambdaRuntime;
  readonly profile: string;
  /** Sorted, without duplicates: their order must not change the fingerprint. */
  readonly features: readonly string[];
  readonly toolchainImage: string;
  readonly pullPolicy: PullPolicy;
  readonly forceRebuild: boolean;
  readonly distDir: string;
  readonly cacheDir: string;
  readonly remoteCache:
    | (RemoteCacheLocation & {
        readonly mode: RemoteCacheMode;
        readonly region: string | undefined;
        /** Whose signatures make a download trusted; empty: downloads are not signature-checked. */
        readonly trustedKeys: readonly TrustedKey[];
      })
    | undefined;
  /** The docker command (SWEEP_DOCKER, like CDK's CDK_DOCKER). */
  readonly dockerCommand: string;
  /** Repository of the builder images (SWEEP_BUILDER_REPOSITORY; tests use their own). */
  readonly builderRepository: string;
  /**
   * How long a build waits for a build lock held by another process before it fails
   * (SWEEP_LOCK_TIMEOUT_SECONDS); undefined for cache/lock.ts's default (30 minutes). Only the
   * environment sets it: it is the operator's bound on a CI job, e.g. one that must fail fast on
   * a lock left in a shared dist/ by another host, which is never taken over automatically.
   */
  readonly lockTimeoutMs: number | undefined;
  /** Allow-listed build variables passed into the container and covered by the fingerprint. */
  readonly buildEnv: Readonly<Record<string, string>>;
  /** Where the operator-facing settings came from, for log lines and errors (e.g. `FORCE_REBUILD=1`). */
  readonly sources: {
    readonly forceRebuild: string | undefined;
    readonly pullPolicy: string;
    readonly toolchainImage: string;
    readonly remoteCache: string | undefined;
    readonly remoteCacheMode: string;
    /** Where the trusted keys came from; undefined when there are none. */
    readonly trustedKeys: string | undefined;
  };
  readonly origin: OptionsOrigin;
}

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
  trustedKeys: 'SWEEP_REMOTE_CACHE_TRUSTED_KEYS',
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
  const envTrustedKeys = nonEmpty(env[ENV.trustedKeys]);
  const trustedFromEnv =
    envTrustedKeys === undefined
      ? undefined
      : parseTrustedKeys(
          envTrustedKeys
            .split(',')
            .map((line) => line.trim())
            .filter(Boolean),
          (i) => `${ENV.trustedKeys} (entry ${i + 1})`,
          issues,
        );
  if (issues.length > 0) throw invalidConfig('environment', issues, 'fix or unset the variables above');
  const remoteLocation: RemoteCacheLocation | undefined =
    remoteUrl === undefined ? undefined : parseRemoteCacheUrl(remoteUrl, ENV.remoteCache);

  const projectRoot = path.resolve(o.projectRoot ?? process.cwd());
  const inProject = (p: string) => path.resolve(projectRoot, p);

  const configuredRemote = o.remoteCache ? parseRemoteCacheUrl(o.remoteCache.url, optionSource('remoteCache')) : undefined;
  const configIssues: ConfigIssue[] = [];
  const trustedKeysKey = `${origin.kind === 'context' ? contextKeyOf(origin, 'remoteCache') : 'remoteCache'}.trustedKeys`;
  const configuredTrustedKeys =
    o.remoteCache?.trustedKeys && parseTrustedKeys(o.remoteCache.trustedKeys, (i) => `${trustedKeysKey}.${i}`, configIssues);
  if (configIssues.length > 0) throw invalidConfig(source, configIssues);
  const trustedKeys = trustedFromEnv ?? configuredTrustedKeys ?? [];
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
    remoteCache: location && { ...location, mode, region: o.remoteCache?.region, trustedKeys },
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
      trustedKeys: trustedKeys.length === 0 ? undefined : trustedFromEnv ? ENV.trustedKeys : trustedKeysKey,
    },
    origin,
  };
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

/**
 * Public key lines `NAME:<base64>`, without duplicates. A bad one is an issue naming it (a private
 * key pasted by mistake is named as such and not shown: the error would print it); one name with
 * two different keys is an issue too, since the name says which signature object to read.
 */
function parseTrustedKeys(lines: readonly string[], keyOf: (index: number) => string, issues: ConfigIssue[]): TrustedKey[] {
  const keys = new Map<string, TrustedKey>();
  lines.forEach((line, i) => {
    const parsed = parseTrustedKey(line);
    const got = line.trim().startsWith(PRIVATE_KEY_PREFIX) ? '(a private signing key, not shown)' : line;
    if (typeof parsed === 'string') issues.push({ key: keyOf(i), got, expected: `a public key "NAME:<base64>": ${parsed}` });
    else if (keys.has(parsed.name) && keys.get(parsed.name)!.publicKey !== parsed.publicKey)
      issues.push({ key: keyOf(i), got, expected: `one key per name: ${parsed.name} is listed with two different keys` });
    else keys.set(parsed.name, parsed);
  });
  return [...keys.values()];
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
