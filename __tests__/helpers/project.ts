import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (where package.json is). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The example Rust workspace the app deploys. */
export const EXAMPLE_WORKSPACE = path.join(REPO_ROOT, 'rust');

export interface TestProject {
  /** The project root: what cdktf.json's folder is for the app. */
  readonly root: string;
  /** The copy of the Rust workspace, `<root>/rust`. */
  readonly workspace: string;
  readonly dist: string;
  readonly cache: string;
  /** Path of a file inside the workspace copy. */
  file(relative: string): string;
  remove(): void;
}

/**
 * A fresh project folder in the OS temp dir holding a copy of a Rust workspace (the example one
 * by default), so a test can edit sources and build without touching the repository.
 */
export function makeTestProject(options: { workspace?: string; prefix?: string } = {}): TestProject {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), options.prefix ?? 'sweep-test-'));
  copyWorkspace(options.workspace ?? EXAMPLE_WORKSPACE, path.join(root, 'rust'));
  return projectAt(root);
}

/** The TestProject view of a project folder whose workspace is `<root>/rust`. */
export function projectAt(root: string): TestProject {
  const workspace = path.join(root, 'rust');
  return {
    root,
    workspace,
    dist: path.join(root, 'dist'),
    cache: path.join(root, '.cache'),
    file: (relative) => path.join(workspace, relative),
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** Copies a workspace without build output. */
export function copyWorkspace(from: string, to: string): void {
  fs.cpSync(from, to, {
    recursive: true,
    filter: (source) => !['target', '.git', 'node_modules'].includes(path.basename(source)),
  });
}

/** Appends `text` to a file (a new line at the end, e.g. a comment). */
export function appendLine(file: string, text: string): void {
  fs.appendFileSync(file, `${text}\n`);
}

/**
 * Writes a cdktf.json in `root` whose context `sweep` is `sweep` (what the CLI and the app read),
 * and whose app is this repository's main.ts, run as cdktf.json's `app` runs it.
 */
export function writeSweepConfig(root: string, sweep: Record<string, unknown>): void {
  const app = `node ${path.join(REPO_ROOT, 'bin', 'run-ts.mjs')} ${path.join(REPO_ROOT, 'main.ts')}`;
  fs.writeFileSync(path.join(root, 'cdktf.json'), JSON.stringify({ language: 'typescript', app, context: { sweep } }, null, 2));
}
