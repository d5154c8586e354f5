import { ensureArtifacts } from '../build/index.js';
import type { CliOptions } from './cli-options.js';

/*
 * `sweep-runtime build [--force-rebuild]`: what synth does, for every function (or those named):
 * hits reused, the shared cache asked, the rest built in as few cargo runs as their features allow.
 *
 * Ctrl-C (SIGINT) or SIGTERM cancels the build: the container is removed, the locks released,
 * and the previous zips and metadata stay as they were.
 */
export async function buildCommand({ targets }: CliOptions): Promise<number> {
  const controller = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(130); // a second Ctrl-C: leave at once
    signalled = signal;
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await ensureArtifacts(
      targets.map((t) => t.artifact),
      { signal: controller.signal },
    );
    return 0;
  } catch (error) {
    if (!signalled) throw error;
    process.stderr.write(`sweep-runtime: build interrupted by ${signalled}; the previous zips and metadata are unchanged\n`);
    return signalled === 'SIGINT' ? 130 : 143;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
