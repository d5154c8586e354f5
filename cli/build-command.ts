import { buildArtifact } from '../build/build-artifact.js';
import type { CliOptions } from './cli-options.js';

/**
 * `sweep-runtime build [--force-rebuild]`: the path synth takes (the construct runs this very
 * command in a child process on a cache miss).
 *
 * Ctrl-C (SIGINT) or SIGTERM cancels the build: the container is removed, the lock released,
 * and the previous zip and metadata stay as they were.
 */
export async function buildCommand({ artifact }: CliOptions): Promise<number> {
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
    await buildArtifact(artifact, { signal: controller.signal });
    return 0;
  } catch (error) {
    if (!signalled) throw error;
    process.stderr.write(`sweep-runtime: build interrupted by ${signalled}; the previous zip and metadata are unchanged\n`);
    return signalled === 'SIGINT' ? 130 : 143;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
