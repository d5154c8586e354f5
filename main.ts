import { App } from 'cdktf';
import { CONTEXT_KEY, describeError, parseAppConfig, readContextFromCdktfJson, SweepStack } from './constructs/index.js';

/**
 * The CDKTF app: `npx cdktf synth|diff|deploy` run this file. Configuration is cdktf.json's
 * context "sweep" (the cdktf CLI passes it in; run directly, the file is read); build controls
 * come from the environment (FORCE_REBUILD=1, SWEEP_DOCKER_PULL_POLICY, ...). See README.md.
 *
 * It uses the package's public API, as an app of your own does (`from 'aws-serverless-sweep'`):
 * SweepStack makes one RustFunction per function of cdktf.json.
 */
try {
  const app = new App();
  const raw = app.node.tryGetContext(CONTEXT_KEY) ?? readContextFromCdktfJson(process.cwd());
  const config = parseAppConfig(raw);
  new SweepStack(app, config.stackName, { app: config });
  app.synth();
} catch (error) {
  // One clear screen instead of a stack trace; cdktf shows stderr as errors, which this is.
  process.stderr.write(`${describeError(error)}\n`);
  process.exit(1);
}
