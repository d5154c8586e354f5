import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { ARTIFACT_DEFAULTS, type Architecture, type LambdaRuntime } from '../build/index.js';
import type { LambdaArtifact } from './lambda-artifact.js';

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

  /** The zip's path in the synthesized stack: the function's `filename`. */
  get filename(): string {
    return this.asset.path;
  }

  constructor(scope: Construct, id: string, config: PrebuiltArtifactConfig) {
    super(scope, id);
    const sha256 = createHash('sha256').update(fs.readFileSync(config.zipPath)).digest();
    this.codeSha256 = sha256.toString('base64');
    this.deployedFingerprint = sha256.toString('hex');
    this.architecture = config.architecture ?? ARTIFACT_DEFAULTS.architecture;
    this.runtime = config.runtime ?? ARTIFACT_DEFAULTS.runtime;
    this.asset = new TerraformAsset(this, 'zip', { path: config.zipPath, type: AssetType.FILE, assetHash: this.deployedFingerprint });
  }
}
