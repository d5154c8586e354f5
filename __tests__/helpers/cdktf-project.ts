import * as fs from 'node:fs';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { REPO_ROOT } from './project.js';

/**
 * The end-to-end tests' CDKTF projects: a test app (its own main.ts, usually putting artifacts'
 * paths and hashes into Terraform's built-in `terraform_data`, so no provider is downloaded) driven
 * by the real cdktf CLI and terraform.
 */
export const CDKTF = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdktf');

export interface CdktfAppFiles {
  /** package.json's name. */
  readonly name: string;
  /** The app's main.ts. */
  readonly main: string;
  /** cdktf.json's `context`, when the CLI should build the same artifacts as the app. */
  readonly context?: Record<string, unknown>;
}

/**
 * Writes a CDKTF project in `root`: cdktf.json (whose app runs main.ts as this repository's
 * does), package.json (ES modules, like the project), main.ts, an empty terraformrc, and a link
 * to this repository's node_modules.
 */
export function writeCdktfApp(root: string, files: CdktfAppFiles): void {
  fs.rmSync(path.join(root, 'node_modules'), { force: true });
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  fs.writeFileSync(path.join(root, 'terraformrc'), '');
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: files.name, private: true, type: 'module' }));
  const cdktfJson = {
    language: 'typescript',
    app: `node ${path.join(REPO_ROOT, 'bin', 'run-ts.mjs')} main.ts`,
    terraformProviders: [],
    terraformModules: [],
    sendCrashReports: 'false',
    ...(files.context && { context: files.context }),
  };
  fs.writeFileSync(path.join(root, 'cdktf.json'), JSON.stringify(cdktfJson, null, 2));
  fs.writeFileSync(path.join(root, 'main.ts'), files.main);
}

/** The path of a construct module of this repository, for a test app's imports. */
export function constructModule(file: string): string {
  return JSON.stringify(path.join(REPO_ROOT, 'constructs', file));
}

export interface CdktfRun {
  readonly exitCode: number | undefined;
  /** stdout and stderr as they came, without colours. */
  readonly output: string;
}

/** The environment of terraform in a test project: its own (empty) CLI config, no call home. */
export function terraformEnv(root: string): Record<string, string> {
  return { TF_CLI_CONFIG_FILE: path.join(root, 'terraformrc'), CHECKPOINT_DISABLE: '1' };
}

/** Runs the cdktf CLI in `root`; never throws on a non-zero exit. */
export async function runCdktf(root: string, args: readonly string[], env: Record<string, string> = {}): Promise<CdktfRun> {
  const run = await execa(CDKTF, args, {
    cwd: root,
    env: { CI: '1', FORCE_COLOR: '0', ...terraformEnv(root), ...env },
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  return { exitCode: run.exitCode, output: stripVTControlCharacters(run.all ?? '') };
}

/** Runs terraform in the synthesized stack's folder; an exit code of 1 (an error) throws. */
export async function runTerraform(root: string, stack: string, args: readonly string[]) {
  const run = await execa('terraform', args, {
    cwd: path.join(root, 'cdktf.out', 'stacks', stack),
    env: terraformEnv(root),
    reject: false,
  });
  if (run.exitCode === 1) throw new Error(`terraform ${args.join(' ')} failed:\n${run.stderr}`);
  return run;
}

/** terraform's verdict on the synthesized stack against its state: 0 no changes, 2 changes. */
export async function planExitCode(root: string, stack: string): Promise<number | undefined> {
  return (await runTerraform(root, stack, ['plan', '-detailed-exitcode', '-input=false', '-lock=false', '-no-color'])).exitCode;
}
