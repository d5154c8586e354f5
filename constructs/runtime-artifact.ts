import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct, type IConstruct } from 'constructs';
import { type ArtifactMemo, ensureArtifactSync } from '../build/ensure-artifact.js';
import { type Architecture, type ArtifactOptions, type LambdaRuntime, resolveArtifactOptions } from '../build/options.js';
import type { LambdaArtifact } from './lambda-artifact.js';

/**
 * Props of {@link RuntimeArtifact}: the artifact options (see build/options.ts for each one and
 * its default). The environment overrides them where the design names a variable:
 * FORCE_REBUILD / SWEEP_FORCE_REBUILD, SWEEP_DOCKER_PULL_POLICY, SWEEP_TOOLCHAIN_IMAGE,
 * SWEEP_DOCKER, SWEEP_CACHE_DIR.
 */
export type RuntimeArtifactConfig = ArtifactOptions;

/**
 * The Rust Lambda zip, built at synth time by the cache-aware engine and handed to Terraform as
 * a file asset.
 *
 * The asset hash is the zip's SHA-256 from the build record (the fast path never re-reads the
 * zip), so the asset's path in cdktf.out, and so the plan, changes exactly when the zip's bytes
 * change: unchanged inputs, or a rebuild that produced the same bytes, plan no change.
 *
 * Constructors are synchronous, as CDK's own bundling is: a cache hit is answered in-process; a
 * miss runs `sweep-runtime build` in a child process and streams its output.
 */
export class RuntimeArtifact extends Construct implements LambdaArtifact {
  readonly asset: TerraformAsset;
  readonly codeSha256: string;
  /** The cache key of the current build inputs (what `sweep-runtime fingerprint` prints). */
  readonly fingerprint: string;
  readonly deployedFingerprint: string;
  readonly architecture: Architecture;
  readonly runtime: LambdaRuntime;
  /** `cache-hit` when the zip was reused, `cache-miss` when this synth built it. */
  readonly outcome: 'cache-hit' | 'cache-miss';
  /** The `cache-hit` / `cache-miss: <reasons>` line. */
  readonly explanation: string;
  /** The zip in the dist folder (the asset copies it into cdktf.out). */
  readonly zipPath: string;

  constructor(scope: Construct, id: string, config: RuntimeArtifactConfig = {}) {
    super(scope, id);
    const options = resolveArtifactOptions(config, process.env, `RuntimeArtifact "${this.node.path}" config`);
    const result = ensureArtifactSync(options, { memo: memoOf(this.node.root) });
    this.fingerprint = result.record.fingerprint;
    this.deployedFingerprint = result.record.zip.originFingerprint;
    this.codeSha256 = result.record.zip.sha256Base64;
    this.architecture = options.architecture;
    this.runtime = options.runtime;
    this.outcome = result.outcome;
    this.explanation = result.explanation;
    this.zipPath = result.zipPath;
    this.asset = new TerraformAsset(this, 'zip', { path: result.zipPath, type: AssetType.FILE, assetHash: result.record.zip.sha256 });
  }
}

/** One memo per app: the same artifact used twice in an app is built once. */
const memos = new WeakMap<IConstruct, ArtifactMemo>();
function memoOf(app: IConstruct): ArtifactMemo {
  const memo = memos.get(app) ?? new Map();
  memos.set(app, memo);
  return memo;
}

/** Props of {@link PrebuiltArtifact}. */
export interface PrebuiltArtifactConfig {
  /** The Lambda zip to deploy as is. */
  readonly zipPath: string;
  /** @default 'x86_64' */
  readonly architecture?: Architecture;
  /** @default 'provided.al2023' */
  readonly runtime?: LambdaRuntime;
}

/**
 * A zip made elsewhere (another CI job, a test fixture), deployed without the engine: no cache
 * check, no Docker. Its deployed fingerprint is the zip's own SHA-256.
 */
export class PrebuiltArtifact extends Construct implements LambdaArtifact {
  readonly asset: TerraformAsset;
  readonly codeSha256: string;
  readonly deployedFingerprint: string;
  readonly architecture: Architecture;
  readonly runtime: LambdaRuntime;

  constructor(scope: Construct, id: string, config: PrebuiltArtifactConfig) {
    super(scope, id);
    const sha256 = createHash('sha256').update(fs.readFileSync(config.zipPath)).digest();
    this.codeSha256 = sha256.toString('base64');
    this.deployedFingerprint = sha256.toString('hex');
    this.architecture = config.architecture ?? 'x86_64';
    this.runtime = config.runtime ?? 'provided.al2023';
    this.asset = new TerraformAsset(this, 'zip', { path: config.zipPath, type: AssetType.FILE, assetHash: this.deployedFingerprint });
  }
}
