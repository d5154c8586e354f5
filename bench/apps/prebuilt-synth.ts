import * as path from 'node:path';
import { App } from 'cdktf';
import { describeError } from '../../build/errors.js';
import { CONTEXT_KEY, parseAppConfig, readContextFromCdktfJson } from '../../config/app-config.js';
import { PrebuiltArtifact } from '../../constructs/runtime-artifact.js';
import { SweepStack } from '../../constructs/sweep-stack.js';

/**
 * The benchmark's reference app: main.ts exactly, except that the stack is given a prebuilt zip
 * (`PrebuiltArtifact`), so the engine never runs. `hot synth / this synth` is the whole cost the
 * engine adds to an unchanged synth.
 *
 * Run it like the app, in the project folder: `npx tsx <repo>/bench/apps/prebuilt-synth.ts`.
 * The zip is `SWEEP_BENCH_PREBUILT_ZIP`, by default `dist/sweep-lambda.zip` in the cwd.
 */
try {
  const app = new App();
  const raw = app.node.tryGetContext(CONTEXT_KEY) ?? readContextFromCdktfJson(process.cwd());
  const config = parseAppConfig(raw);
  const zipPath = path.resolve(process.env.SWEEP_BENCH_PREBUILT_ZIP ?? path.join('dist', 'sweep-lambda.zip'));
  new SweepStack(app, config.stackName, {
    app: config,
    artifact: (scope) => new PrebuiltArtifact(scope, 'runtime', { zipPath }),
  });
  app.synth();
} catch (error) {
  process.stderr.write(`${describeError(error)}\n`);
  process.exit(1);
}
