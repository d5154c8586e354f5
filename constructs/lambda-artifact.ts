import type { TerraformAsset } from 'cdktf';
import type { Architecture, LambdaRuntime } from '../build/options.js';

/** What a Lambda function needs from its code artifact, however the zip was made. */
export interface LambdaArtifact {
  /** The zip as a Terraform asset; `asset.path` is the function's `filename`. */
  readonly asset: TerraformAsset;
  /** Base64 SHA-256 of the zip: Lambda's CodeSha256, used as `source_code_hash`. */
  readonly codeSha256: string;
  /** The cache key of the build inputs (for a prebuilt zip, the zip's SHA-256). */
  readonly fingerprint: string;
  readonly architecture: Architecture;
  readonly runtime: LambdaRuntime;
}
