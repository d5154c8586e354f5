import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { ResolvedArtifactOptions } from './options.js';

/**
 * Where one artifact's files live. `dist/` holds what is deployed (the zip and its record);
 * the cache folder holds what only makes builds faster and can be deleted at any time.
 */
export interface ArtifactPaths {
  readonly zip: string;
  readonly metadata: string;
  /** Held while a build of this artifact runs (see build-lock.ts). */
  readonly lock: string;
  /** Cargo's target folder, shared by every artifact of the project: dependencies build once. */
  readonly cargoTarget: string;
  /** CARGO_HOME: the registry and git checkouts cargo downloads. */
  readonly cargoHome: string;
  /** Per-file hashes of this artifact's inputs (see file-hash-index.ts). */
  readonly hashIndex: string;
  /** The zip's path relative to the project root, as log lines show it. */
  readonly zipForDisplay: string;
}

export function artifactPaths(options: ResolvedArtifactOptions, name: string): ArtifactPaths {
  const workspaceKey = createHash('sha256').update(options.workspace).digest('hex').slice(0, 12);
  const zip = path.join(options.distDir, `${name}.zip`);
  return {
    zip,
    metadata: path.join(options.distDir, `${name}.json`),
    lock: path.join(options.distDir, `.${name}.lock`),
    cargoTarget: path.join(options.cacheDir, 'cargo-target'),
    cargoHome: path.join(options.cacheDir, 'cargo-home'),
    hashIndex: path.join(options.cacheDir, 'file-hashes', `${name}-${workspaceKey}.json`),
    zipForDisplay: displayPath(options.projectRoot, zip),
  };
}

/** A path relative to `base` when it is inside it, else the absolute path. */
export function displayPath(base: string, file: string): string {
  const relative = path.relative(base, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
}
