import type { Architecture, LambdaRuntime } from '../build/index.js';

/** What a Lambda function needs from its code artifact, however the zip was made. */
export interface LambdaArtifact {
  /**
   * The zip's path in the synthesized stack (its Terraform asset's path): the function's
   * `filename`. A token for a {@link RustArtifact}, resolved at synth.
   */
  readonly filename: string;
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
