import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { builderRecipe } from '../builder/recipe.js';
import { undeclaredFeatures } from '../cargo/errors.js';
import {
  type CargoPackage,
  type CargoWorkspace,
  crateFolders,
  readCargoWorkspace,
  selectPackage,
  unknownFeatures,
} from '../cargo/workspace.js';
import { type BuildSettings, computeFingerprint, ENGINE_PACKAGING_VERSION, type Fingerprint } from '../fingerprint/fingerprint.js';
import { FileHashIndex } from '../fingerprint/hash-index.js';
import { collectInputs } from '../fingerprint/inputs.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import { checkZipLayout } from '../package/verify.js';
import { StageTimer } from '../support/stage-timer.js';
import { type Decision, decide, type ZipState } from './decide.js';
import { explainDecision } from './explain.js';
import { type ArtifactMetadata, type MetadataReadResult, readMetadata } from './metadata.js';
import { type ArtifactPaths, artifactPaths, cacheDomainOf } from './paths.js';

/*
 * The fast path: fingerprint the inputs, read the stored metadata, check the zip, decide.
 * Synchronous and Docker-free, so the CDKTF construct can call it from its constructor: an
 * unchanged workspace costs a stat per input file and one read of the zip.
 *
 * The metadata is never trusted alone: a hit also reads the zip, checks that its SHA-256 and
 * size are the ones the metadata vouches for, and that its layout is what Lambda runs. A forged
 * hash or a swapped zip is a miss, not a deploy.
 */
export interface CacheCheck {
  readonly options: ResolvedArtifactOptions;
  /** The artifact's name (the option, or the package name). */
  readonly name: string;
  readonly package: CargoPackage;
  readonly paths: ArtifactPaths;
  readonly fingerprint: Fingerprint;
  readonly metadata: MetadataReadResult;
  readonly decision: Decision;
  /** `cache-hit` or `cache-miss: <reasons>` */
  readonly explanation: string;
  /** Things the user should know about the inputs (e.g. an excluded folder inside a crate). */
  readonly notes: readonly string[];
  /** Milliseconds of each step of this check, for profiling (`npm run bench` shows them). */
  readonly stepsMs: Readonly<Record<CheckStep, number>>;
  /** Input files read and hashed in this check (the rest were known to the hash index). */
  readonly hashedFiles: number;
  /** How the inputs looked on disk when they were fingerprinted (see inputs.ts), to tell whether a compile saw the same. */
  readonly inputSnapshot: ReadonlyMap<string, string>;
}

/** A check whose decision is a hit, with the metadata that vouches for the zip. */
export type CacheHit = CacheCheck & { readonly metadata: { readonly status: 'ok'; readonly metadata: ArtifactMetadata } };

export function isHit(check: CacheCheck): check is CacheHit {
  return check.decision.outcome === 'cache-hit' && check.metadata.status === 'ok';
}

export type CheckStep = 'manifests' | 'inputs' | 'fingerprint' | 'metadata' | 'zip' | 'decide';

export interface CheckOptions {
  /** Decide as if no rebuild were forced (after a forced build, to confirm what it committed). */
  readonly ignoreForce?: boolean;
  /** The workspace, when the caller already read it (several artifacts of one workspace). */
  readonly workspace?: CargoWorkspace;
}

export function checkCache(options: ResolvedArtifactOptions, checkOptions: CheckOptions = {}): CacheCheck {
  const steps = new StageTimer<CheckStep>();
  const workspace = checkOptions.workspace ?? readCargoWorkspace(options.workspace, options.origin);
  const pkg = selectPackage(workspace, options.package, options.binary, options.origin);
  const badFeatures = unknownFeatures(pkg, options.features);
  if (badFeatures.length > 0) throw undeclaredFeatures(pkg.name, badFeatures, pkg.features, options.origin);
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
  const fingerprint = computeFingerprint(buildSettings(options, pkg.name), collection.inputs);
  steps.lap('fingerprint');

  const metadata = readMetadata(paths.metadata);
  steps.lap('metadata');
  const zip = metadata.status === 'ok' ? inspectZip(paths.zip, metadata.metadata) : { state: 'missing' as const };
  steps.lap('zip');
  const forcedBy = options.forceRebuild && !checkOptions.ignoreForce ? (options.sources.forceRebuild ?? 'forced') : undefined;
  const decision = decide({ current: fingerprint, metadata, zip, forcedBy, domain: cacheDomainOf(options) });
  const explanation = explainDecision(decision, { zipPath: paths.zipForDisplay });
  steps.lap('decide');

  return {
    options,
    name,
    package: pkg,
    paths,
    fingerprint,
    metadata,
    decision,
    explanation,
    notes: collection.notes,
    stepsMs: steps.stagesMs() as Record<CheckStep, number>, // every step lapped above
    hashedFiles: collection.hashedFiles,
    inputSnapshot: collection.snapshot,
  };
}

/** The build settings the fingerprint covers, for these options and package. */
export function buildSettings(options: ResolvedArtifactOptions, packageName: string): BuildSettings {
  return {
    engine: ENGINE_PACKAGING_VERSION,
    package: packageName,
    binary: options.binary,
    target: options.targetTriple,
    profile: options.profile,
    features: [...options.features],
    runtime: options.runtime,
    toolchainImage: options.toolchainImage,
    builderRecipe: builderRecipe(options).hash,
    env: { ...options.buildEnv },
  };
}

/**
 * Is the file on disk the zip the metadata describes, and one Lambda can run? Its size, then
 * its SHA-256 (read in full: a hash in the metadata is a claim, not a proof), then its layout.
 */
export function inspectZip(zipPath: string, metadata: ArtifactMetadata): ZipState {
  let bytes: Buffer;
  try {
    const stat = fs.lstatSync(zipPath);
    if (!stat.isFile()) return { state: 'invalid', detail: `${zipPath} is not a regular file` };
    if (stat.size !== metadata.zip.size) return { state: 'differs' };
    bytes = fs.readFileSync(zipPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'invalid', detail: (error as Error).message };
  }
  if (createHash('sha256').update(bytes).digest('hex') !== metadata.zip.sha256) return { state: 'differs' };
  const layout = checkZipLayout(bytes);
  return layout === undefined ? { state: 'matches' } : { state: 'invalid', detail: layout };
}
