import type { Architecture, ArtifactOptions, LambdaRuntime, OptionsOrigin } from '../build/index.js';

/*
 * What a RustFunction or RustArtifact builds: the options a user writes, each documented with its
 * default. The engine's own option schema (build/options/schema.ts) validates them and fills the
 * defaults, in one place; `toArtifactOptions` only renames.
 */

/** When to pull the toolchain image. */
export type PullPolicy = 'always' | 'if-missing' | 'never';

/** The shared artifact cache on S3 (see README: The shared cache on S3). */
export interface RemoteCacheConfig {
  /** `s3://bucket` or `s3://bucket/prefix`. Overridden by SWEEP_REMOTE_CACHE. */
  readonly url: string;
  /**
   * `read`: look up, never write; `read-write`: also upload after a verified build; `off`: not for this run.
   * Overridden by SWEEP_REMOTE_CACHE_MODE.
   * @default 'read'
   */
  readonly mode?: 'read' | 'read-write' | 'off';
  /** The bucket's region. @default - AWS_REGION, else us-east-1 */
  readonly region?: string;
  /**
   * Public keys (`NAME:<base64>`, as `sweep-runtime keygen` prints them) whose signature makes a
   * download trusted; with any set, an unsigned build is discarded and built locally. Overridden
   * by SWEEP_REMOTE_CACHE_TRUSTED_KEYS.
   * @default - none: downloads are not signature-checked
   */
  readonly trustedKeys?: readonly string[];
}

/** The build options of one Rust Lambda function. Environment variables override some of them (README: Environment variables). */
export interface RustBuildOptions {
  /**
   * The Cargo package that has the Lambda binary.
   * @default - the workspace member that declares a binary named `binary` (`bootstrap` when `binary` is not set either)
   */
  readonly package?: string;
  /**
   * The binary target to deploy; it is zipped as `bootstrap`, the file Lambda starts.
   * @default - the package's only binary target, as cargo picks it (a package with several is an error listing them)
   */
  readonly binary?: string;
  /**
   * Names the zip and its metadata in `distDir` (`<artifactName>.zip`, `.json`), the log prefix, and
   * the function for `sweep-runtime --function`.
   * @default - the construct's id
   */
  readonly artifactName?: string;
  /** Cargo features to enable on the package. @default - none */
  readonly features?: readonly string[];
  /** The Cargo profile (`release`, `dev`, or a custom one). @default 'release' */
  readonly profile?: string;
  /** The Lambda architecture; selects the Rust target (x86_64 or aarch64, GNU). @default 'x86_64' */
  readonly architecture?: Architecture;
  /** The Lambda runtime; its glibc bounds what the binary may need. @default 'provided.al2023' */
  readonly runtime?: LambdaRuntime;
  /** The Rust toolchain image the builder image extends. Overridden by SWEEP_TOOLCHAIN_IMAGE. @default 'rust:1-bullseye' */
  readonly toolchainImage?: string;
  /** The Cargo workspace (or single package) folder, relative to `projectRoot`. @default 'rust' */
  readonly workspace?: string;
  /** The folder relative paths are resolved against. @default - the current directory (where cdktf.json is) */
  readonly projectRoot?: string;
  /** Where the zips and their metadata are written, relative to `projectRoot`. @default 'dist' */
  readonly distDir?: string;
  /** The engine's persistent caches (cargo target folders, downloads, file hashes). Overridden by SWEEP_CACHE_DIR. @default '.cache' */
  readonly cacheDir?: string;
  /** The shared artifact cache on S3. Overridden by SWEEP_REMOTE_CACHE / SWEEP_REMOTE_CACHE_MODE. @default - none */
  readonly remoteCache?: RemoteCacheConfig;
  /** When to pull the toolchain image. Overridden by SWEEP_DOCKER_PULL_POLICY. @default 'if-missing' */
  readonly pullPolicy?: PullPolicy;
  /** Rebuild even when the cache says the zip is current. Overridden by FORCE_REBUILD. @default false */
  readonly forceRebuild?: boolean;
}

/** The keys of {@link RustBuildOptions}: a config that sets one of them asks for a build. */
export const BUILD_OPTION_KEYS = [
  'package',
  'binary',
  'artifactName',
  'features',
  'profile',
  'architecture',
  'runtime',
  'toolchainImage',
  'workspace',
  'projectRoot',
  'distDir',
  'cacheDir',
  'remoteCache',
  'pullPolicy',
  'forceRebuild',
] as const satisfies readonly (keyof RustBuildOptions)[];

/** The engine's options for these build options; `name` is the zip's name. Only the keys that are set are passed. */
export function toArtifactOptions(options: RustBuildOptions, name: string | undefined): ArtifactOptions {
  const { artifactName: _, features, remoteCache, ...rest } = pickBuildOptions(options);
  return {
    ...rest,
    ...(name !== undefined && { name }),
    ...(features !== undefined && { features: [...features] }),
    ...(remoteCache !== undefined && { remoteCache: copyRemoteCache(remoteCache) }),
  };
}

function copyRemoteCache({ trustedKeys, ...rest }: RemoteCacheConfig): NonNullable<ArtifactOptions['remoteCache']> {
  return { ...rest, ...(trustedKeys !== undefined && { trustedKeys: [...trustedKeys] }) };
}

/** The build options of a config that may hold other keys too (a RustFunction's). */
export function pickBuildOptions(config: RustBuildOptions): RustBuildOptions {
  const picked: Record<string, unknown> = {};
  for (const key of BUILD_OPTION_KEYS) if (config[key] !== undefined) picked[key] = config[key];
  return picked as RustBuildOptions;
}

/*
 * Where a config's options came from, when not from the construct's own props: SweepStack passes
 * cdktf.json's functions on, and messages should then name cdktf.json's keys. Kept beside the
 * config object, not in it, so no public config has a field for it.
 */
const origins = new WeakMap<object, OptionsOrigin>();

/** `config`, noted as coming from `origin` (for the construct that reads it). */
export function withOrigin<T extends object>(config: T, origin: OptionsOrigin): T {
  origins.set(config, origin);
  return config;
}

/** Where `config` came from, when a caller said so with {@link withOrigin}. */
export function originOf(config: object): OptionsOrigin | undefined {
  return origins.get(config);
}
