import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { type ArtifactPaths, artifactPaths } from './artifact-paths.js';
import { builderRecipe } from './builder-recipe.js';
import { crateFolders, readCargoWorkspace, selectPackage, unknownFeatures } from './cargo-workspace.js';
import { type Decision, decide, type ZipState } from './decide.js';
import { SweepError } from './errors.js';
import { explainDecision } from './explain.js';
import { FileHashIndex } from './file-hash-index.js';
import { computeFingerprint, ENGINE_PACKAGING_VERSION, type Fingerprint } from './fingerprint.js';
import { collectInputs } from './input-files.js';
import { type ArtifactRecord, type MetadataReadResult, readMetadata } from './metadata.js';
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
  /** Milliseconds of each step of this check, for profiling (`npm run bench` shows them). */
  readonly stepsMs: Readonly<Record<CheckStep, number>>;
  /** Input files read and hashed in this check (the rest were known to the hash index). */
  readonly hashedFiles: number;
}

export type CheckStep = 'manifests' | 'inputs' | 'fingerprint' | 'record' | 'zip' | 'decide';

export interface CheckOptions {
  /** Decide as if no rebuild were forced (the construct re-checks after a forced build). */
  readonly ignoreForce?: boolean;
}

export function checkCache(options: ResolvedArtifactOptions, checkOptions: CheckOptions = {}): CacheCheck {
  const steps = new StepClock();
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
  steps.lap('manifests');

  const collection = collectInputs({
    workspace,
    crateFolders: crateFolders(workspace, pkg),
    excludedPaths: [options.distDir, options.cacheDir],
    hashIndex: FileHashIndex.load(paths.hashIndex),
  });
  steps.lap('inputs');
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
  steps.lap('fingerprint');

  const metadata = readMetadata(paths.metadata);
  steps.lap('record');
  const zip = metadata.status === 'ok' ? inspectZip(paths.zip, metadata.record) : 'missing';
  steps.lap('zip');
  const forcedBy = options.forceRebuild && !checkOptions.ignoreForce ? (options.forceSource ?? 'forced') : undefined;
  const decision = decide({ current: fingerprint, metadata, zip, forcedBy });
  const explanation = explainDecision(decision, { zipPath: paths.zipForDisplay });
  steps.lap('decide');

  return {
    options,
    name,
    packageName: pkg.name,
    paths,
    fingerprint,
    metadata,
    decision,
    explanation,
    stepsMs: steps.results,
    hashedFiles: collection.hashedFiles,
  };
}

/** Times consecutive steps: each `lap` closes the step that ran since the previous one. */
class StepClock {
  private mark = performance.now();
  readonly results = {} as Record<CheckStep, number>;
  lap(step: CheckStep): void {
    const now = performance.now();
    this.results[step] = now - this.mark;
    this.mark = now;
  }
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
