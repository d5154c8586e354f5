import * as fs from 'node:fs';
import { checkAllOrThrow, createReporter, isHit, openRemoteCache } from '../build/index.js';
import type { CliOptions } from './cli-options.js';
import { pushRefused } from './errors.js';

/*
 * `sweep-runtime push`: uploads each function's current verified zip and its metadata to the
 * shared cache, for a CI job that built earlier and publishes later. Only a zip built by a
 * publishing build (remote cache mode read-write, which uses cargo caches of its own) is pushed:
 * a zip built with the everyday caches may come from a target folder that untrusted code wrote.
 * Exit 1 when any zip did not end up in the shared cache (the store unusable, or other bytes
 * already there for its fingerprint): a warning says why, and CI sees that nothing was published.
 */
export async function pushCommand({ targets }: CliOptions): Promise<number> {
  let failed = 0;
  for (const check of checkAllOrThrow(targets.map((t) => t.artifact))) {
    const reporter = createReporter(check.name);
    const settings = check.options.remoteCache;
    if (!settings || settings.mode === 'off')
      throw pushRefused(
        check.name,
        'no shared cache is configured (or its mode is off)',
        'set sweep.artifact.remoteCache or SWEEP_REMOTE_CACHE=s3://bucket/prefix',
      );
    // Where the zip came from decides first: an everyday build's zip is refused for what it is,
    // whatever else the check says about it.
    const stored = check.metadata.status === 'ok' ? check.metadata.metadata : undefined;
    if (stored?.origin.kind === 'build' && stored.origin.cacheDomain !== 'publish') {
      throw pushRefused(
        check.name,
        'its zip was built with the everyday cargo caches, which untrusted builds may have written',
        'rebuild it with SWEEP_REMOTE_CACHE_MODE=read-write (a publishing build, which uploads it itself)',
      );
    }
    if (!isHit(check))
      throw pushRefused(
        check.name,
        `its zip is not current (${check.explanation})`,
        'build it first: `npx sweep-runtime build` with SWEEP_REMOTE_CACHE_MODE=read-write',
      );
    const { metadata } = check.metadata;
    if (metadata.origin.kind === 'remote') {
      reporter.line(`remote: already present (downloaded from ${metadata.origin.remote})`);
      continue;
    }
    const remote = await openRemoteCache({ ...check.options, remoteCache: { ...settings, mode: 'read-write' } }, reporter);
    if (!remote) {
      failed++;
      continue;
    }
    // The warning saying why is already printed; the exit code tells a CI job it did not publish.
    if (!(await remote.publish(check, fs.readFileSync(check.paths.zip), metadata, reporter))) failed++;
    remote.close();
  }
  return failed > 0 ? 1 : 0;
}
