import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from './project.js';

/**
 * Fresh Node processes running a few lines of TypeScript (ESM, top-level await allowed) through
 * tsx: for what a test cannot see inside jest's sandbox (what a process prints on stderr, which
 * modules it loaded, its real environment, what happens when it is killed).
 *
 * `imports` maps what to import to where from: a `.ts` path relative to the repository root
 * (e.g. 'build/remote/store.ts'), a `node:` module, or a package of the repository's node_modules.
 * The child gets exactly `env` plus PATH and a throw-away HOME.
 */
export async function runTsChild(
  imports: Record<string, string>,
  body: string,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  const child = writeTsChild(imports, body);
  try {
    const result = await execa(process.execPath, ['--import', 'tsx', child.script], {
      cwd: REPO_ROOT,
      env: childEnv(child.folder, env),
      extendEnv: false,
      timeout: 60_000,
    });
    return { stdout: result.stdout, stderr: result.stderr };
  } finally {
    child.remove();
  }
}

/** Starts the child without waiting for it; `remove` deletes its script folder. */
export function spawnTsChild(
  imports: Record<string, string>,
  body: string,
  env: Record<string, string> = {},
): { process: ChildProcess; remove: () => void } {
  const child = writeTsChild(imports, body);
  const started = spawn(process.execPath, ['--import', 'tsx', child.script], {
    cwd: REPO_ROOT,
    env: childEnv(child.folder, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { process: started, remove: child.remove };
}

function writeTsChild(imports: Record<string, string>, body: string): { folder: string; script: string; remove: () => void } {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-ts-child-'));
  const lines = Object.entries(imports).map(([names, from]) => `import ${names} from ${JSON.stringify(specifier(from))};`);
  const script = path.join(folder, 'child.mts');
  fs.writeFileSync(script, `${lines.join('\n')}\n${body}\n`);
  return { folder, script, remove: () => fs.rmSync(folder, { recursive: true, force: true }) };
}

function childEnv(home: string, env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: home, ...env };
}

/** The script lives in a temp folder, so everything it imports is given by absolute path. */
function specifier(from: string): string {
  if (from.startsWith('node:')) return from;
  if (from.endsWith('.ts')) return path.join(REPO_ROOT, from);
  return createRequire(path.join(REPO_ROOT, 'package.json')).resolve(from);
}
