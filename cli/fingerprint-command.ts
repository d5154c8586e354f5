import { checkCache } from '../build/check-cache.js';
import type { CliOptions } from './cli-options.js';

/** `sweep-runtime fingerprint`: the fingerprint alone on stdout, e.g. to key a CI cache. */
export async function fingerprintCommand({ artifact }: CliOptions): Promise<number> {
  process.stdout.write(`${checkCache(artifact).fingerprint.value}\n`);
  return 0;
}
