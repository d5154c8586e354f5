/*
 * The package's front door: what an app imports (`aws-serverless-sweep` for cdktf,
 * `aws-serverless-sweep/cdktn` for CDK Terrain, the same code built against each). This
 * repository's own app (main.ts) imports it too.
 */
export {
  type Architecture,
  describeError,
  isSweepError,
  type LambdaRuntime,
  SweepError,
} from '../build/index.js';
export {
  type AppConfig,
  CONTEXT_KEY,
  type FunctionConfig,
  parseAppConfig,
  readContextFromCdktfJson,
} from '../config/app-config.js';
export { FUNCTION_LIST_FILE } from '../config/function-list.js';
export type { PullPolicy, RemoteCacheConfig, RustBuildOptions } from './build-options.js';
export type { LambdaArtifact } from './lambda-artifact.js';
export { PrebuiltArtifact, type PrebuiltArtifactConfig } from './prebuilt-artifact.js';
export { RuntimeArtifact, type RuntimeArtifactConfig } from './runtime-artifact.js';
export { RustArtifact, type RustArtifactConfig } from './rust-artifact.js';
export { RustFunction, type RustFunctionConfig } from './rust-function.js';
export { SweepStack, type SweepStackConfig } from './sweep-stack.js';
