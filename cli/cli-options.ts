import * as path from 'node:path';
import { SweepError } from '../build/errors.js';
import { type ArtifactOptions, type ResolvedArtifactOptions, resolveArtifactOptions } from '../build/options.js';
import { type AppConfig, parseAppConfig, readContextFromCdktfJson } from '../config/app-config.js';

export interface CliFlags {
  readonly project?: string;
  readonly workspace?: string;
  readonly package?: string;
  readonly bin?: string;
  readonly 'force-rebuild'?: boolean;
  readonly all?: boolean;
  readonly event?: string;
  readonly timeout?: string;
  readonly 'in-container'?: boolean;
  /** Internal: the options the CDKTF construct resolved, passed to its build process. */
  readonly 'options-json'?: string;
  readonly help?: boolean;
}

export interface CliOptions {
  readonly artifact: ResolvedArtifactOptions;
  readonly app: AppConfig;
}

/**
 * The CLI's configuration: cdktf.json's `sweep` context (the same the app reads), then the
 * flags, then the environment overrides every entry point shares.
 */
export function resolveCliOptions(flags: CliFlags): CliOptions {
  const projectRoot = path.resolve(flags.project ?? '.');
  if (flags['options-json'] !== undefined) {
    let given: ArtifactOptions;
    try {
      given = JSON.parse(flags['options-json']) as ArtifactOptions;
    } catch (cause) {
      throw new SweepError({
        stage: 'config',
        problem: '--options-json is not valid JSON',
        fix: 'pass the JSON the construct wrote',
        cause,
      });
    }
    return { artifact: resolveArtifactOptions(given, process.env, '--options-json'), app: parseAppConfig({}) };
  }
  const app = parseAppConfig(readContextFromCdktfJson(projectRoot), path.join(projectRoot, 'cdktf.json'));
  const fromFlags: ArtifactOptions = {
    ...app.artifact,
    projectRoot,
    ...(flags.workspace !== undefined && { workspace: path.resolve(flags.workspace) }),
    ...(flags.package !== undefined && { package: flags.package }),
    ...(flags.bin !== undefined && { binary: flags.bin }),
    ...(flags['force-rebuild'] && { forceRebuild: true }),
  };
  return { artifact: resolveArtifactOptions(fromFlags, process.env, 'command-line options', '--force-rebuild'), app };
}
