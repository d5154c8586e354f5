import * as path from 'node:path';
import { App } from 'cdktf';
import { ARTIFACT_DEFAULTS } from '../../build/options/schema.js';
import { describeError } from '../../build/support/errors.js';
import { CONTEXT_KEY, parseAppConfig, readContextFromCdktfJson } from '../../config/app-config.js';
import { PrebuiltArtifact } from '../../constructs/prebuilt-artifact.js';
import { SweepStack } from '../../constructs/sweep-stack.js';

/**
 * The benchmark's reference app: main.ts exactly, except that every function is given a prebuilt
 * zip (`PrebuiltArtifact`), so the engine never runs (no cache check, no Docker). `hot synth /
 * this synth` is the whole cost the engine adds to an unchanged synth.
 *
 * Run it like the app, in the project folder, through the same compile cache:
 * `node bin/run-ts.mjs <repo>/bench/apps/prebuilt-synth.ts`. Each function's zip is
 * `dist/<artifact name>.zip` in the cwd (what the engine wrote there), or the folder
 * `SWEEP_BENCH_PREBUILT_DIST`.
 */
try {
  const app = new App();
  const raw = app.node.tryGetContext(CONTEXT_KEY) ?? readContextFromCdktfJson(process.cwd());
  const config = parseAppConfig(raw);
  const dist = path.resolve(process.env.SWEEP_BENCH_PREBUILT_DIST ?? 'dist');
  new SweepStack(app, config.stackName, {
    app: config,
    artifactFor: (scope, fn) =>
      new PrebuiltArtifact(scope, `prebuilt-${fn.key}`, {
        zipPath: path.join(dist, `${fn.artifact.name ?? fn.key}.zip`),
        architecture: fn.artifact.architecture ?? ARTIFACT_DEFAULTS.architecture,
        runtime: fn.artifact.runtime ?? ARTIFACT_DEFAULTS.runtime,
      }),
  });
  app.synth();
} catch (error) {
  process.stderr.write(`${describeError(error)}\n`);
  process.exit(1);
}
