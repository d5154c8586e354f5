import {
  type CacheCheck,
  checkAll,
  createReporter,
  formatDuration,
  isSweepError,
  openRemoteCache,
  remoteReportLines,
} from '../build/index.js';
import type { CliFlags, CliOptions } from './cli-options.js';

/*
 * `sweep-runtime status [--remote]`: per function, the cache decision and its reasons, the
 * fingerprint and what the metadata says; no build, no Docker. `--remote` also asks the shared
 * cache whether it holds each current fingerprint, and who signed it with what provenance
 * (its metadata, a listing and each signature: small objects, never the zip). Exit 0 whether hits or misses;
 * 1 when a function cannot be checked at all (its error is shown, the others are still reported).
 */
export async function statusCommand({ targets }: CliOptions, flags: CliFlags): Promise<number> {
  const all = checkAll(targets.map((t) => t.artifact));
  // A function that cannot be checked (its package does not exist, ...) is named with its error;
  // the others are reported as usual.
  all.forEach((check, i) => {
    if (isSweepError(check)) createReporter(targets[i]!.function.key).line(check.describe().replace(/\n/g, '\n  '));
  });
  const checks = all.filter((check): check is CacheCheck => !isSweepError(check));
  for (const check of checks) {
    const reporter = createReporter(check.name);
    reporter.line(check.explanation);
    for (const note of check.notes) reporter.line(`note: ${note}`);
    const { stepsMs } = check;
    reporter.line(
      `fingerprint ${check.fingerprint.value} (${check.fingerprint.inputs.size} inputs, ${formatDuration(stepsMs.manifests + stepsMs.inputs + stepsMs.fingerprint)})`,
    );
    if (check.metadata.status === 'ok') {
      const { metadata } = check.metadata;
      const from =
        metadata.origin.kind === 'remote' ? `downloaded from ${metadata.origin.remote}` : `built with ${metadata.builderImage.tag}`;
      reporter.line(
        `metadata: ${check.paths.zipForDisplay} ${metadata.zip.size} bytes, sha256 ${metadata.zip.sha256Base64}, ${from} at ${metadata.builtAt}`,
      );
      const glibc = metadata.binary.glibcRequired ? `needs glibc ${metadata.binary.glibcRequired}` : 'needs no glibc';
      reporter.line(
        `binary: ${metadata.binary.machine} ELF, ${metadata.binary.linkage}, ${glibc} (${metadata.settings.runtime} has ${metadata.binary.glibcAvailable})`,
      );
    }
  }
  if (flags.remote) await reportRemote(checks);
  return checks.length === all.length ? 0 : 1;
}

async function reportRemote(checks: readonly CacheCheck[]): Promise<void> {
  // One connection per shared cache, as the engine opens them: functions usually share one.
  const opened = new Map<string, ReturnType<typeof openRemoteCache>>();
  for (const check of checks) {
    const reporter = createReporter(check.name);
    const settings = check.options.remoteCache && { ...check.options.remoteCache, mode: 'read' as const };
    const key = JSON.stringify(settings);
    if (!opened.has(key)) opened.set(key, openRemoteCache({ ...check.options, remoteCache: settings }, reporter));
    const remote = await opened.get(key)!;
    if (!remote) {
      if (!check.options.remoteCache)
        reporter.line('remote: no shared cache configured (sweep.artifact.remoteCache or SWEEP_REMOTE_CACHE)');
      continue;
    }
    const report = await remote.describe(check, reporter);
    if (report === undefined) continue; // unreachable: said once, in a warning
    for (const line of remoteReportLines(remote.url, check.fingerprint.value, report, remote.trustedKeys.length > 0)) reporter.line(line);
  }
  for (const remote of opened.values()) (await remote)?.close();
}
