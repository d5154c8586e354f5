import * as fs from 'node:fs';
import * as path from 'node:path';

/*
 * Where a published build came from, for its signed statement: this tool's name and version
 * (package.json) and the git revision checked out in the project, read from `.git` directly (no
 * git binary needed, nothing to time out): HEAD, then the branch it names, loose or packed, in a
 * plain checkout or a worktree. Uncommitted changes are not shown; no git checkout is `null`.
 */

const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

let tool: string | undefined;

/** `aws-serverless-sweep 0.1.0` */
export function toolVersion(): string {
  if (tool === undefined) {
    const pkg = JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')) as { name?: unknown; version?: unknown };
    tool = `${String(pkg.name)} ${String(pkg.version)}`;
  }
  return tool;
}

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** How far up from the project the search for `.git` goes. */
const MAX_DEPTH = 32;

/** The commit checked out in the git checkout holding `folder`, or null when there is none (or it cannot be read). */
export function sourceRevision(folder: string): string | null {
  try {
    const gitDir = findGitDir(path.resolve(folder));
    if (gitDir === undefined) return null;
    const head = readText(path.join(gitDir, 'HEAD'));
    if (head === undefined) return null;
    if (OBJECT_ID.test(head)) return head; // a detached HEAD
    const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
    if (ref === undefined || ref.split('/').includes('..')) return null;
    // A worktree's own folder holds its HEAD; branches live in the common folder.
    const common = commonDir(gitDir);
    for (const dir of new Set([gitDir, common])) {
      const loose = readText(path.join(dir, ref));
      if (loose !== undefined && OBJECT_ID.test(loose)) return loose;
    }
    const packed = readText(path.join(common, 'packed-refs')) ?? '';
    for (const line of packed.split('\n')) {
      const [id, name] = line.trim().split(' ');
      if (name === ref && id !== undefined && OBJECT_ID.test(id)) return id;
    }
    return null;
  } catch {
    return null;
  }
}

function findGitDir(start: string): string | undefined {
  let dir = start;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const candidate = path.join(dir, '.git');
    const stat = statOf(candidate);
    if (stat?.isDirectory()) return candidate;
    if (stat?.isFile()) {
      // A worktree or submodule: `.git` is a file `gitdir: <path>`.
      const target = /^gitdir: (.+)$/.exec(readText(candidate) ?? '')?.[1];
      return target === undefined ? undefined : path.resolve(dir, target);
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

function commonDir(gitDir: string): string {
  const common = readText(path.join(gitDir, 'commondir'));
  return common === undefined ? gitDir : path.resolve(gitDir, common);
}

function statOf(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

/** A small regular file's text, trimmed; undefined when it is not one. */
function readText(file: string): string | undefined {
  const stat = statOf(file);
  if (!stat?.isFile() || stat.size > 1024 * 1024) return undefined;
  return fs.readFileSync(file, 'utf8').trim();
}
