/**
 * Runs one engine call in a child process, for tests of what would otherwise stall or cannot be
 * set up in the test process: a read that blocks forever (a FIFO named Cargo.toml) is killed
 * after a timeout instead of hanging the test run, and a file made unreadable with chmod is
 * unreadable only to a user other than root (the child runs as `nobody` when the tests run as
 * root). Not a test file itself: `runInChild` is imported by the tests, and this file is also the
 * child's entry point (`node --import tsx in-child.ts <request JSON>`).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crateFolders, readCargoWorkspace, selectPackage } from '../../build/cargo/workspace.js';
import { FileHashIndex } from '../../build/fingerprint/hash-index.js';
import { collectInputs } from '../../build/fingerprint/inputs.js';
import { isSweepError } from '../../build/support/errors.js';

export interface ChildRequest {
  /** `hash-file` hashes the file `root` with an empty hash index. */
  readonly op: 'read-workspace' | 'collect-inputs' | 'hash-file';
  readonly root: string;
  readonly binary?: string;
  readonly excludedPaths?: readonly string[];
}

export type ChildResult =
  | { readonly outcome: 'ok'; readonly members?: string[]; readonly inputs?: [string, string][]; readonly hash?: string }
  | { readonly outcome: 'error'; readonly sweepError: boolean; readonly stage?: string; readonly message: string; readonly fix?: string }
  /** The child did not answer in time and was killed: it hung. */
  | { readonly outcome: 'killed'; readonly stderr: string };

const UNPRIVILEGED = 65534; // nobody

/**
 * Runs `request` in a child, as `nobody` when `unprivileged` and this process is root, and kills
 * it after `timeoutMs`. Everything it must read has to be readable by that user.
 */
export function runInChild(request: ChildRequest, options: { unprivileged?: boolean; timeoutMs?: number } = {}): ChildResult {
  const asNobody = options.unprivileged === true && process.getuid?.() === 0;
  const result = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(request)], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 20_000,
    killSignal: 'SIGKILL',
    // Without the test runner's flags (--experimental-vm-modules is not needed here).
    env: { ...process.env, NODE_OPTIONS: '' },
    ...(asNobody && { uid: UNPRIVILEGED, gid: UNPRIVILEGED }),
  });
  if (result.signal !== null || result.error) return { outcome: 'killed', stderr: result.stderr ?? String(result.error) };
  const lastLine = result.stdout.trimEnd().split('\n').pop() ?? '';
  try {
    return JSON.parse(lastLine) as ChildResult;
  } catch {
    throw new Error(`the child answered no result (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** Lets any user enter `dir` (mkdtemp makes folders 0700), so a child running as nobody can read below it. */
export function openToOthers(dir: string): void {
  fs.chmodSync(dir, 0o755);
}

function run(request: ChildRequest): ChildResult {
  if (request.op === 'hash-file') {
    return { outcome: 'ok', hash: FileHashIndex.inMemory().hashFile('file', request.root, fs.lstatSync(request.root)) };
  }
  const workspace = readCargoWorkspace(request.root);
  if (request.op === 'read-workspace') return { outcome: 'ok', members: workspace.members.map((m) => m.name) };
  const pkg = selectPackage(workspace, undefined, request.binary ?? 'bootstrap');
  const collection = collectInputs({
    workspace,
    crateFolders: crateFolders(workspace, pkg),
    excludedPaths: request.excludedPaths ?? [],
  });
  return { outcome: 'ok', inputs: [...collection.inputs.entries()] };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let result: ChildResult;
  try {
    result = run(JSON.parse(process.argv[2]!) as ChildRequest);
  } catch (error) {
    result = isSweepError(error)
      ? { outcome: 'error', sweepError: true, stage: error.stage, message: error.message, fix: error.fix }
      : { outcome: 'error', sweepError: false, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
