import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { sourceRevision, toolVersion } from '../../../build/remote/provenance.js';
import { REPO_ROOT } from '../../helpers/project.js';

// The provenance a publisher signs: this tool's version, and the git revision read from .git.

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

/** A folder with the files given (relative path -> text). */
function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-provenance-'));
  folders.push(root);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

const ID = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);

describe('sourceRevision', () => {
  it("is what `git rev-parse HEAD` says in this repository's checkout (a worktree or not)", async () => {
    const git = await execa('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, reject: false });
    if (git.exitCode !== 0) throw new Error(`git rev-parse failed: ${git.stderr}`);
    expect(sourceRevision(path.join(REPO_ROOT, 'rust'))).toBe(git.stdout.trim());
  });

  it.each<[string, Record<string, string>, string, string | null]>([
    ['a loose branch ref', { '.git/HEAD': 'ref: refs/heads/main\n', '.git/refs/heads/main': `${ID}\n` }, 'p', ID],
    [
      'a packed branch ref',
      { '.git/HEAD': 'ref: refs/heads/main\n', '.git/packed-refs': `# pack-refs\n${OTHER} refs/heads/x\n${ID} refs/heads/main\n` },
      'p',
      ID,
    ],
    ['a detached HEAD', { '.git/HEAD': `${ID}\n` }, 'p/q', ID],
    [
      'a worktree (.git file, refs in the common folder)',
      {
        'main/.git/refs/heads/topic': `${ID}\n`,
        'main/.git/worktrees/wt/HEAD': 'ref: refs/heads/topic\n',
        'main/.git/worktrees/wt/commondir': '../..\n',
        'wt/.git': 'gitdir: ../main/.git/worktrees/wt\n',
      },
      'wt/p',
      ID,
    ],
    ['a branch with no commit yet', { '.git/HEAD': 'ref: refs/heads/main\n' }, 'p', null],
    ['a HEAD that is neither', { '.git/HEAD': 'garbage\n' }, 'p', null],
    ['a ref that climbs out', { '.git/HEAD': 'ref: refs/../../x\n', x: `${ID}\n` }, 'p', null],
  ])('%s', (_name, files, from, expected) => {
    const root = tree(files);
    fs.mkdirSync(path.join(root, from), { recursive: true });
    expect(sourceRevision(path.join(root, from))).toBe(expected);
  });

  it('is null outside a git checkout', () => {
    const root = tree({ 'p/file': '' });
    // The temp folder is not inside a checkout (checked, so the test means what it says).
    expect(fs.existsSync(path.join(os.tmpdir(), '.git'))).toBe(false);
    expect(sourceRevision(path.join(root, 'p'))).toBeNull();
  });
});

describe('toolVersion', () => {
  it("is package.json's name and version", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(toolVersion()).toBe(`${pkg.name} ${pkg.version}`);
  });
});
