import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { builderRecipe } from '../builder/recipe.js';
import { undeclaredFeatures } from '../cargo/errors.js';
import { type CargoPackage, type CargoWorkspace, readCargoWorkspace, selectPackage, unknownFeatures } from '../cargo/workspace.js';
import { type BuildSettings, computeFingerprint, ENGINE_PACKAGING_VERSION, type Fingerprint } from '../fingerprint/fingerprint.js';
import { FileHashIndex } from '../fingerprint/hash-index.js';
import { collectInputs, newWalkMemo, type WalkMemo } from '../fingerprint/inputs.js';
import { inputScope, type LockRead, readLock } from '../fingerprint/scope.js';
import type { ResolvedArtifactOptions } from '../options/resolve.js';
import { checkZipLayout } from '../package/verify.js';
import { readRegularFile } from '../support/regular-file.js';
import { StageTimer } from '../support/stage-timer.js';
import { type Decision, decide, type ZipState } from './decide.js';
import { explainDecision } from './explain.js';
import { type ArtifactMetadata, type MetadataReadResult, readMetadata } from './metadata.js';
import { type ArtifactPaths, artifactPaths, cacheDomainOf } from './paths.js';

/*
 * The fast path: fingerprint the inputs, read the stored metadata, check the zip, decide.
 * Synchronous and Docker-free, so the CDKTF construct can call it from its constructor: an
 * unchanged workspace costs a stat per input file and a stat of the zip.
 *
 * The metadata is never trusted alone: a hit needs a zip whose SHA-256 and size are the ones the
 * metadata vouches for, and whose layout is what Lambda runs, read and checked, or known to be
 * so from the hash index while the zip's stat is unchanged (inspectZip). A forged hash or a
 * swapped zip is a miss, not a deploy.
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

  const run = runMemoOf(workspace);
  const scope = inputScope(workspace, pkg, run.lock());
  const hashIndex = run.index(paths.hashIndex);
  const collection = collectInputs({
    workspace,
    crateFolders: scope.crateFolders,
    manifests: scope.manifests,
    lockEntries: scope.lockEntries,
    excludedPaths: [options.distDir, options.cacheDir],
    hashIndex,
    walkMemo: run.walks,
  });
  const notes = [...(scope.note !== undefined && run.firstTime(scope.note) ? [scope.note] : []), ...collection.notes];
  steps.lap('inputs');
  const fingerprint = computeFingerprint(buildSettings(options, pkg.name, run.recipeHash(options)), collection.inputs);
  steps.lap('fingerprint');

  const metadata = readMetadata(paths.metadata, hashIndex);
  steps.lap('metadata');
  const zip = metadata.status === 'ok' ? inspectZip(paths.zip, metadata.metadata, hashIndex) : { state: 'missing' as const };
  hashIndex.save();
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
    notes,
    stepsMs: steps.stagesMs() as Record<CheckStep, number>, // every step lapped above
    hashedFiles: collection.hashedFiles,
    inputSnapshot: collection.snapshot,
  };
}

/** The build settings the fingerprint covers, for these options and package (and builder recipe hash, when known). */
export function buildSettings(
  options: ResolvedArtifactOptions,
  packageName: string,
  recipeHash: string = builderRecipe(options).hash,
): BuildSettings {
  return {
    engine: ENGINE_PACKAGING_VERSION,
    package: packageName,
    binary: options.binary,
    target: options.targetTriple,
    profile: options.profile,
    features: [...options.features],
    runtime: options.runtime,
    toolchainImage: options.toolchainImage,
    builderRecipe: recipeHash,
    env: { ...options.buildEnv },
  };
}

/**
 * What one run shares between the checks of a workspace's artifacts: Cargo.lock read once, each
 * crate folder walked once (a shared crate is every function's input), one hash index per file,
 * and the notes already given. Kept with the workspace object a run reads once (engine.ts's
 * checkAll), so a later run, which reads the workspace again, sees the files afresh.
 */
interface RunMemo {
  lock(): LockRead;
  readonly walks: WalkMemo;
  index(file: string): FileHashIndex;
  /** True the first time a note is given in this run. */
  firstTime(note: string): boolean;
  /** The builder recipe's hash (it reads the Dockerfile), once per toolchain, architecture and repository. */
  recipeHash(options: ResolvedArtifactOptions): string;
}

const runMemos = new WeakMap<CargoWorkspace, RunMemo>();

function runMemoOf(workspace: CargoWorkspace): RunMemo {
  let memo = runMemos.get(workspace);
  if (memo) return memo;
  let lock: LockRead | undefined;
  const indexes = new Map<string, FileHashIndex>();
  const noted = new Set<string>();
  const recipes = new Map<string, string>();
  memo = {
    recipeHash: (options) => {
      const key = `${options.toolchainImage}\0${options.architecture}\0${options.builderRepository}`;
      const hash = recipes.get(key) ?? builderRecipe(options).hash;
      recipes.set(key, hash);
      return hash;
    },
    lock: () => (lock ??= readLock(workspace)),
    walks: newWalkMemo(),
    index: (file) => {
      const known = indexes.get(file);
      if (known) return known;
      const index = FileHashIndex.load(file);
      indexes.set(file, index);
      return index;
    },
    firstTime: (note) => {
      if (noted.has(note)) return false;
      noted.add(note);
      return true;
    },
  };
  runMemos.set(workspace, memo);
  return memo;
}

/**
 * Is the file on disk the zip the metadata describes, and one Lambda can run? Its size, then its
 * SHA-256 and its layout. The hash in the metadata is a claim, not a proof: the zip is read and
 * hashed, unless the hash index (`index`) vouches for it: it holds the zip's hash, stored after
 * an earlier read found these very bytes and checked their layout, and the zip's size, mtime,
 * ctime and inode are still what they were then, outside the racy window (hash-index.ts; git
 * trusts its index the same way). Any write, rename or swap gives the file a new ctime (or inode)
 * and makes it read again; so does a metadata file that vouches for other bytes.
 */
export function inspectZip(zipPath: string, metadata: ArtifactMetadata, index: FileHashIndex = FileHashIndex.inMemory()): ZipState {
  let bytes: Buffer;
  let stat: fs.Stats;
  index.cover(zipPath);
  try {
    stat = fs.lstatSync(zipPath);
    if (!stat.isFile()) return { state: 'invalid', detail: `${zipPath} is not a regular file` };
    if (stat.size !== metadata.zip.size) return { state: 'differs' };
    if (index.known(zipPath, stat) === metadata.zip.sha256) return { state: 'matches' };
    bytes = readRegularFile(zipPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'invalid', detail: (error as Error).message };
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== metadata.zip.sha256) return { state: 'differs' };
  const layout = checkZipLayout(bytes);
  if (layout !== undefined) return { state: 'invalid', detail: layout };
  index.remember(zipPath, stat, sha256);
  return { state: 'matches' };
}
