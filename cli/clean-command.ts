import { cleanArtifacts } from '../build/index.js';
import type { CliFlags, CliOptions } from './cli-options.js';

/*
 * `sweep-runtime clean [--all]`: removes each function's zip, metadata and file-hash index; with
 * --all also the engine's cache folders and builder images (build/cache/clean.ts says what).
 */
export async function cleanCommand({ targets, projectRoot }: CliOptions, flags: CliFlags): Promise<number> {
  const cleaned = await cleanArtifacts({ artifacts: targets.map((t) => t.artifact), all: flags.all ?? false, projectRoot });
  return cleaned ? 0 : 1;
}
