import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import { isSafeName } from '../support/safe-name.js';
import { unsafeArtifactName } from './errors.js';

/*
 * Where one artifact's files live. `dist/` holds what is deployed (the zip and its metadata) and
 * the build lock; the cache folder holds what only makes builds faster and can be deleted at any
 * time. Every name that becomes a path here, wherever it came from (an option, a Cargo.toml),
 * passes `isSafeName`, so nothing outside these two folders is ever read as metadata or removed.
 */
export interface ArtifactPaths {
  readonly zip: string;
  readonly metadata: string;
  /** Held while a build of this artifact runs (see build-lock.ts); in dist/, next to what it guards. */
  readonly lock: string;
  /** Per-file hashes of the workspace's inputs and the verified zips, one file per workspace (see hash-index.ts). */
  readonly hashIndex: string;
  /** The zip's path relative to the project root, as log lines show it. */
  readonly zipForDisplay: string;
  /** A short key naming this artifact in Docker labels (the same dist folder and name give the same key). */
  readonly key: string;
}

export function artifactPaths(options: ResolvedArtifactOptions, name: string): ArtifactPaths {
  if (!isSafeName(name)) throw unsafeArtifactName(name, options.origin);
  const workspaceKey = shortHash(options.workspace);
  const zip = path.join(options.distDir, `${name}.zip`);
  return {
    zip,
    metadata: path.join(options.distDir, `${name}.json`),
    lock: path.join(options.distDir, `.${name}.lock`),
    hashIndex: path.join(options.cacheDir, FOLDERS.fileHashes, `workspace-${workspaceKey}.json`),
    zipForDisplay: displayPath(options.projectRoot, zip),
    key: shortHash(zip),
  };
}

/**
 * Which cargo caches a build may use. Publishing builds (remote cache mode `read-write`: their
 * zips are shared with everyone) get folders of their own, so they never reuse a target folder
 * or cargo downloads that an untrusted build (a pull request's build.rs) could have written.
 */
export type CacheDomain = 'local' | 'publish';

export function cacheDomainOf(options: Pick<ResolvedArtifactOptions, 'remoteCache'>): CacheDomain {
  return options.remoteCache?.mode === 'read-write' ? 'publish' : 'local';
}

export interface CachePaths {
  readonly domain: CacheDomain;
  /** Cargo's target folder, shared by every artifact of the domain: dependencies build once. */
  readonly cargoTarget: string;
  /** Held from a compile's start until its binaries are read (see builder/compile.ts). */
  readonly cargoTargetLock: string;
  /** The content-addressed parts of CARGO_HOME that persist (see cargo-home.ts). */
  readonly cargoHome: string;
  /** `cargo tree` output per manifest state (see build-batch.ts), which decides who may share a cargo run. */
  readonly features: string;
}

export function cachePaths(options: Pick<ResolvedArtifactOptions, 'cacheDir' | 'remoteCache'>): CachePaths {
  const domain = cacheDomainOf(options);
  const root = domain === 'publish' ? path.join(options.cacheDir, FOLDERS.publish) : options.cacheDir;
  return {
    domain,
    cargoTarget: path.join(root, FOLDERS.cargoTarget),
    cargoTargetLock: path.join(root, `${FOLDERS.cargoTarget}.lock`),
    cargoHome: path.join(root, FOLDERS.cargoHome),
    features: path.join(root, FOLDERS.features),
  };
}

/** The names of the folders the engine keeps in a cache folder (the publish domain holds its own set). */
const FOLDERS = {
  cargoTarget: 'cargo-target',
  cargoHome: 'cargo-home',
  features: 'cargo-features',
  fileHashes: 'file-hashes',
  publish: 'publish',
} as const;

/** Everything the engine keeps in the cache folder `cacheDir`, in both trust domains: what `clean --all` removes. */
export function engineCacheFolders(cacheDir: string): string[] {
  return Object.values(FOLDERS).map((folder) => path.join(cacheDir, folder));
}

/** A path relative to `base` when it is inside it, else the absolute path. */
export function displayPath(base: string, file: string): string {
  const relative = path.relative(base, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
