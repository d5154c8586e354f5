import { checkAllOrThrow } from '../build/index.js';
import type { CliOptions } from './cli-options.js';

/*
 * `sweep-runtime fingerprint`: the fingerprint of each function's build inputs, e.g. to key a CI
 * cache. One function: the fingerprint alone, for `$(...)`. Several: `fingerprint  name` per line,
 * like sha256sum.
 */
export async function fingerprintCommand({ targets }: CliOptions): Promise<number> {
  const checks = checkAllOrThrow(targets.map((t) => t.artifact));
  const lines = checks.map((check) => (checks.length === 1 ? check.fingerprint.value : `${check.fingerprint.value}  ${check.name}`));
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
