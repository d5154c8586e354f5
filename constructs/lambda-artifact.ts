import type { TerraformAsset } from 'cdktf';
import type { Architecture, LambdaRuntime } from '../build/index.js';

/** What a Lambda function needs from its code artifact, however the zip was made. */
export interface LambdaArtifact {
  /** The zip as a Terraform asset; `asset.path` is the function's `filename`. */
  readonly asset: TerraformAsset;
  /** Base64 SHA-256 of the zip: Lambda's CodeSha256, used as `source_code_hash`. */
  readonly codeSha256: string;
  /**
   * Names the deployed build: the fingerprint of the build that first produced these zip bytes
   * (for a prebuilt zip, the zip's SHA-256). It changes exactly when the bytes do, so an output
   * keyed on it stays quiet across byte-identical rebuilds.
   */
  readonly deployedFingerprint: string;
  readonly architecture: Architecture;
  readonly runtime: LambdaRuntime;
}
