import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Temporary project folders for the benchmark: a copy of a Rust workspace (the example one by
 * default) and of the repository's cdktf.json, laid out like the repository, so the app runs
 * there exactly as cdktf runs it (cdktf.json's `app`, `node bin/run-ts.mjs main.ts`, in the
 * project folder; the app resolves every path from the cwd). The repository's own dist/, .cache/
 * and cdktf.out/ are never touched.
 *
 * `main.ts` is a copy (the start-up scenario edits it to measure a bundle rebuild); the folders
 * it imports (build/, config/, constructs/), `bin/` and `node_modules` are symlinks to the
 * repository's: esbuild and node resolve a module's imports from its real path, so the app's
 * code is the repository's while its cwd (and so its dist/, .cache/, cdktf.out/ and state file)
 * is the temp folder.
 */
export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const EXAMPLE_WORKSPACE = path.join(REPO_ROOT, 'rust');
/** Where the Lambda crate's sources are, relative to the workspace. */
export const LAMBDA_MAIN_RS = 'crates/sweep-lambda/src/main.rs';
export const LAMBDA_SRC_DIR = 'crates/sweep-lambda/src';
/** What the project links to the repository's copy. */
const LINKED = ['build', 'config', 'constructs', 'bin', 'node_modules'];

export interface BenchProject {
  readonly root: string;
  readonly workspace: string;
  readonly dist: string;
  readonly cache: string;
  readonly cdktfJson: string;
  readonly mainTs: string;
  file(relative: string): string;
  remove(): void;
}

const created = new Set<string>();

export interface ProjectOptions {
  /** The workspace to copy. @default the example workspace */
  readonly workspace?: string;
}

export function makeBenchProject(label: string, options: ProjectOptions = {}): BenchProject {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `sweep-bench-${label}-`));
  created.add(root);
  const workspace = path.join(root, 'rust');
  fs.cpSync(options.workspace ?? EXAMPLE_WORKSPACE, workspace, {
    recursive: true,
    // Old mtimes, as a checkout has: outside the hash index's racy window from the start.
    preserveTimestamps: true,
    filter: (source) => !['target', '.git', 'node_modules'].includes(path.basename(source)),
  });
  fs.copyFileSync(path.join(REPO_ROOT, 'cdktf.json'), path.join(root, 'cdktf.json'));
  fs.copyFileSync(path.join(REPO_ROOT, 'main.ts'), path.join(root, 'main.ts'));
  for (const name of LINKED) fs.symlinkSync(path.join(REPO_ROOT, name), path.join(root, name));
  return {
    root,
    workspace,
    dist: path.join(root, 'dist'),
    cache: path.join(root, '.cache'),
    cdktfJson: path.join(root, 'cdktf.json'),
    mainTs: path.join(root, 'main.ts'),
    file: (relative) => path.join(workspace, relative),
    remove: () => removeProject(root),
  };
}

/**
 * The bundle bin/compile-cache.mjs keeps for this project's main.ts. It lives under the nearest
 * node_modules, which is the repository's (a symlink), keyed by the entry's path: every temp
 * project gets its own, so each is removed with its project.
 */
export function bundleCacheOf(root: string): string {
  const entry = path.join(root, 'main.ts');
  const key = createHash('sha256').update(entry).digest('hex').slice(0, 16);
  return path.join(REPO_ROOT, 'node_modules', '.cache', 'aws-serverless-sweep', `main-${key}`);
}

function removeProject(root: string): void {
  if (fs.existsSync(path.join(root, 'main.ts'))) fs.rmSync(bundleCacheOf(root), { recursive: true, force: true });
  fs.rmSync(root, { recursive: true, force: true });
  created.delete(root);
}

/** Removes every project folder made by this process that is still there. */
export function removeAllProjects(): void {
  for (const root of [...created]) {
    try {
      removeProject(root);
    } catch {
      // Best effort at exit.
    }
  }
}

/** A fresh empty temp folder, removed with the projects. */
export function makeTempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sweep-bench-${label}-`));
  created.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  removeProject(dir);
}

/**
 * Waits until `file` is older than `ms`, so the engine's per-file hash index (which never stores
 * a file modified within its 2 s "racy" window) can remember it: the hot path is then measured in
 * its steady state, not one that re-reads a just-written file.
 */
export async function waitUntilOlderThan(file: string, ms: number): Promise<void> {
  const age = Date.now() - fs.statSync(file).mtimeMs;
  if (age < ms) await new Promise((resolve) => setTimeout(resolve, ms - age + 50));
}

/** Empties the project's engine state: dist/, .cache/ and cdktf.out/. */
export function wipeProjectState(project: BenchProject): void {
  for (const dir of [project.dist, project.cache, path.join(project.root, 'cdktf.out')]) fs.rmSync(dir, { recursive: true, force: true });
}
