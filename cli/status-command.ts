import { checkCache } from '../build/check-cache.js';
import { createReporter } from '../build/reporter.js';
import { formatDuration } from '../build/stage-timer.js';
import type { CliOptions } from './cli-options.js';

/** `sweep-runtime status`: the cache decision and its reasons; no build, no Docker. Exit 0 either way. */
export async function statusCommand({ artifact }: CliOptions): Promise<number> {
  const check = checkCache(artifact);
  const reporter = createReporter(check.name);
  reporter.line(check.explanation);
  reporter.line(
    `fingerprint ${check.fingerprint.value} (${check.fingerprint.inputs.size} inputs, ${formatDuration(check.stepsMs.manifests + check.stepsMs.inputs + check.stepsMs.fingerprint)})`,
  );
  if (check.metadata.status === 'ok') {
    const { record } = check.metadata;
    reporter.line(
      `recorded: ${check.paths.zipForDisplay} ${record.zip.size} bytes, sha256 ${record.zip.sha256Base64}, built ${record.builtAt} with ${record.builderImage.tag}`,
    );
    const glibc = record.binary.glibcRequired ? `needs glibc ${record.binary.glibcRequired}` : 'needs no glibc';
    reporter.line(
      `binary: ${record.binary.machine} ELF, ${record.binary.linkage}, ${glibc} (${record.settings.runtime} has ${record.binary.glibcAvailable})`,
    );
  }
  return 0;
}
