import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ArtifactOptions, type ResolvedArtifactOptions, resolveArtifactOptions } from '../build/index.js';
import { type AppConfig, type FunctionConfig, parseAppConfig, readContextFromCdktfJson, selectFunctions } from '../config/app-config.js';
import { cliUsageError } from './errors.js';

export interface CliFlags {
  readonly project?: string;
  readonly function?: string[];
  readonly workspace?: string;
  readonly package?: string;
  readonly bin?: string;
  readonly 'force-rebuild'?: boolean;
  readonly all?: boolean;
  readonly remote?: boolean;
  readonly event?: string;
  readonly timeout?: string;
  readonly 'in-container'?: boolean;
  readonly out?: string;
  readonly help?: boolean;
}

/** A function the command acts on: its settings and its resolved artifact options. */
export interface CliTarget {
  readonly function: FunctionConfig;
  readonly artifact: ResolvedArtifactOptions;
}

export interface CliOptions {
  readonly projectRoot: string;
  readonly app: AppConfig;
  readonly targets: readonly CliTarget[];
}

/**
 * The CLI's configuration: cdktf.json's `sweep` context (the same the app reads), then the
 * flags, then the environment overrides every entry point shares.
 */
export function resolveCliOptions(flags: CliFlags): CliOptions {
  const projectRoot = path.resolve(flags.project ?? '.');
  if (!isFolder(projectRoot)) {
    throw cliUsageError(
      `the project folder ${projectRoot} does not exist or is not a folder`,
      'pass --project the folder that holds cdktf.json',
    );
  }
  const app = parseAppConfig(readContextFromCdktfJson(projectRoot), path.join(projectRoot, 'cdktf.json'));
  const functions = selectFunctions(app, flags.function ?? []);
  if ((flags.package !== undefined || flags.bin !== undefined) && functions.length > 1) {
    throw cliUsageError(
      `--package and --bin name one function's binary, and cdktf.json has ${functions.length} (${functions.map((f) => f.key).join(', ')})`,
      'add --function NAME to say which one',
    );
  }
  const targets = functions.map((fn): CliTarget => {
    const options: ArtifactOptions = {
      ...fn.artifact,
      projectRoot,
      ...(flags.workspace !== undefined && { workspace: path.resolve(flags.workspace) }),
      ...(flags.package !== undefined && { package: flags.package }),
      ...(flags.bin !== undefined && { binary: flags.bin }),
      ...(flags['force-rebuild'] && { forceRebuild: true }),
    };
    const artifact = resolveArtifactOptions(options, {
      origin: { ...fn.origin, cli: true },
      source: 'cdktf.json',
      forceLabel: '--force-rebuild',
    });
    return { function: fn, artifact };
  });
  return { projectRoot, app, targets };
}

function isFolder(folder: string): boolean {
  try {
    return fs.statSync(folder).isDirectory();
  } catch {
    return false;
  }
}
