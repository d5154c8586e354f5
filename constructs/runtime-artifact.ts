import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import {
  type Architecture,
  type ArtifactOptions,
  type ArtifactResult,
  ensureArtifactsSync,
  type LambdaRuntime,
  type ResolvedArtifactOptions,
  resolveArtifactOptions,
} from '../build/index.js';
import { AppFunctions } from './app-functions.js';
import { checkFlavour, forUser } from './errors.js';
import type { LambdaArtifact } from './lambda-artifact.js';

/**
 * Props of {@link RuntimeArtifact}: the artifact options (build/options/schema.ts documents each one and
 * its default). The environment overrides them where a variable exists: FORCE_REBUILD /
 * SWEEP_FORCE_REBUILD, SWEEP_DOCKER_PULL_POLICY, SWEEP_TOOLCHAIN_IMAGE, SWEEP_DOCKER,
 * SWEEP_CACHE_DIR, SWEEP_REMOTE_CACHE, SWEEP_REMOTE_CACHE_MODE.
 */
export type RuntimeArtifactConfig = ArtifactOptions;

/**
 * One Rust Lambda zip, built when it is constructed (not deferred to synth like
 * {@link RustArtifact}) and handed to Terraform as a file asset. Kept for apps written against it;
 * new code uses RustFunction or RustArtifact, which build all of an app's functions in one engine
 * run. An artifact used twice in an app (or by a RustArtifact too) is built once.
 *
 * The asset hash is the zip's SHA-256, so the asset's path in cdktf.out, and so the plan, changes
 * exactly when the zip's bytes change.
 */
export class RuntimeArtifact extends Construct implements LambdaArtifact {
  readonly asset: TerraformAsset;
  readonly codeSha256: string;
  /** The cache key of the current build inputs (what `sweep-runtime fingerprint` prints). */
  readonly fingerprint: string;
  readonly deployedFingerprint: string;
  readonly architecture: Architecture;
  readonly runtime: LambdaRuntime;
  /** `cache-hit` when the zip was reused (from dist/ or the shared cache), `cache-miss` when this synth built it. */
  readonly outcome: 'cache-hit' | 'cache-miss';
  /** Where the zip came from in this synth: `local` (dist/), `remote` (the shared cache) or `build`. */
  readonly via: ArtifactResult['via'];
  /** The `cache-hit` / `cache-miss: <reasons>` line. */
  readonly explanation: string;
  /** The zip in the dist folder (the asset copies it into cdktf.out). */
  readonly zipPath: string;

  constructor(scope: Construct, id: string, config: RuntimeArtifactConfig = {}) {
    super(scope, id);
    let result: ArtifactResult;
    let options: ResolvedArtifactOptions;
    try {
      checkFlavour(this, 'RuntimeArtifact');
      options = resolveArtifactOptions(config, { origin: { kind: 'props', label: `RuntimeArtifact "${this.node.path}" config` } });
      result = ensureArtifactsSync([options], AppFunctions.of(this).memo)[0]!;
    } catch (error) {
      throw forUser(error, new.target);
    }
    this.fingerprint = result.metadata.fingerprint;
    this.deployedFingerprint = result.metadata.zip.originFingerprint;
    this.codeSha256 = result.metadata.zip.sha256Base64;
    this.architecture = options.architecture;
    this.runtime = options.runtime;
    this.outcome = result.outcome;
    this.via = result.via;
    this.explanation = result.explanation;
    this.zipPath = result.zipPath;
    this.asset = new TerraformAsset(this, 'zip', { path: result.zipPath, type: AssetType.FILE, assetHash: result.metadata.zip.sha256 });
  }

  /** The zip's path in the synthesized stack: the function's `filename`. */
  get filename(): string {
    return this.asset.path;
  }
}
