import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { artifactPaths, type ArtifactPaths } from './artifact-paths.js';
import { builderRecipe } from './builder-recipe.js';
import { crateFolders, readCargoWorkspace, selectPackage, unknownFeatures } from './cargo-workspace.js';
import { decide, type Decision, type ZipState } from './decide.js';
import { SweepError } from './errors.js';
import { explainDecision } from './explain.js';
import { FileHashIndex } from './file-hash-index.js';
import { computeFingerprint, ENGINE_PACKAGING_VERSION, type Fingerprint } from './fingerprint.js';
import { collectInputs } from './input-files.js';
import { readMetadata, type ArtifactRecord, type MetadataReadResult } from './metadata.js';
import type { ResolvedArtifactOptions } from './options.js';

/**
 * The fast path: fingerprint the inputs, read the stored record, look at the zip, decide.
 * Synchronous and Docker-free, so the CDKTF construct can call it from its constructor and an
 * unchanged workspace costs a stat per input file.
 */
export interface CacheCheck {
  readonly options: ResolvedArtifactOptions;
  /** The artifact's name (the option, or the package name). */
  readonly name: string;
  readonly packageName: string;
  readonly paths: ArtifactPaths;
  readonly fingerprint: Fingerprint;
  readonly metadata: MetadataReadResult;
  readonly decision: Decision;
  /** `cache-hit` or `cache-miss: <reasons>` */
  readonly explanation: string;
  readonly fingerprintMs: number;
  /** Input files read and hashed in this check (the rest were known to the hash index). */
  readonly hashedFiles: number;
}

export interface CheckOptions {
  /** Decide as if no rebuild were forced (the construct re-checks after a forced build). */
  readonly ignoreForce?: boolean;
}

export function checkCache(options: ResolvedArtifactOptions, checkOptions: CheckOptions = {}): CacheCheck {
  const started = performance.now();
  const workspace = readCargoWorkspace(options.workspace);
  const pkg = selectPackage(workspace, options.package, options.binary);
  const badFeatures = unknownFeatures(pkg, options.features);
  if (badFeatures.length > 0) {
    throw new SweepError({
      stage: 'workspace',
      problem: `package "${pkg.name}" has no feature ${badFeatures.map((f) => `"${f}"`).join(', ')} (its features: ${pkg.features.join(', ') || 'none'})`,
      fix: 'set `features` (cdktf.json context `sweep.features`) to features the package declares',
    });
  }
  const name = options.name ?? pkg.name;
  const paths = artifactPaths(options, name);

  const collection = collectInputs({
    workspace,
    crateFolders: crateFolders(workspace, pkg),
    excludedNames: [path.basename(options.distDir), path.basename(options.cacheDir)],
    hashIndex: FileHashIndex.load(paths.hashIndex),
  });
  const fingerprint = computeFingerprint(
    {
      engine: ENGINE_PACKAGING_VERSION,
      package: pkg.name,
      binary: options.binary,
      target: options.targetTriple,
      profile: options.profile,
      features: options.features,
      runtime: options.runtime,
      toolchainImage: options.toolchainImage,
      builderRecipe: builderRecipe(options).hash,
      env: options.buildEnv,
    },
    collection.inputs,
  );
  const fingerprintMs = performance.now() - started;

  const metadata = readMetadata(paths.metadata);
  const zip = metadata.status === 'ok' ? inspectZip(paths.zip, metadata.record) : 'missing';
  const forcedBy = options.forceRebuild && !checkOptions.ignoreForce ? (options.forceSource ?? 'forced') : undefined;
  const decision = decide({ current: fingerprint, metadata, zip, forcedBy });

  return {
    options,
    name,
    packageName: pkg.name,
    paths,
    fingerprint,
    metadata,
    decision,
    explanation: explainDecision(decision, { zipPath: paths.zipForDisplay }),
    fingerprintMs,
    hashedFiles: collection.hashedFiles,
  };
}

/**
 * Is the zip on disk the one the record describes? While its size and mtime are what the record
 * says, yes without reading it (the fast path never re-reads the zip); otherwise its SHA-256 decides.
 */
export function inspectZip(zipPath: string, record: ArtifactRecord): ZipState {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(zipPath);
  } catch {
    return 'missing';
  }
  if (stat.size !== record.zip.size) return 'differs';
  if (stat.mtimeMs === record.zip.mtimeMs) return 'matches';
  const sha256 = createHash('sha256').update(fs.readFileSync(zipPath)).digest('hex');
  return sha256 === record.zip.sha256 ? 'matches' : 'differs';
}
