import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { parseSigningKey, parseTrustedKey } from '../../build/remote/keys.js';
import { runCli } from '../helpers/cli.js';

// `sweep-runtime keygen NAME --out DIR`, run as a user runs it (no project, no Docker, no bucket).

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-keygen-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const keygen = (args: string[]) => runCli(['keygen', ...args], { cwd: root, isolated: true });

describe('sweep-runtime keygen', () => {
  it('GIVEN a name and a folder WHEN run THEN it writes NAME.private (0600) and NAME.public, and prints the public line', async () => {
    const run = await keygen(['ci-2026', '--out', 'keys']);

    expect(run.exitCode).toBe(0);
    const folder = path.join(root, 'keys');
    const publicLine = fs.readFileSync(path.join(folder, 'ci-2026.public'), 'utf8');
    const privateText = fs.readFileSync(path.join(folder, 'ci-2026.private'), 'utf8');
    expect(run.stdout).toBe(publicLine.trimEnd());
    expect(publicLine).toMatch(/^ci-2026:[A-Za-z0-9+/]{43}=\n$/);
    expect(fs.statSync(path.join(folder, 'ci-2026.private')).mode & 0o777).toBe(0o600);
    // The two halves belong together, and the private key is never printed.
    const signing = parseSigningKey(privateText);
    expect(typeof signing === 'object' && signing.trusted).toEqual(parseTrustedKey(publicLine));
    expect(`${run.stdout}${run.stderr}`).not.toContain(privateText.trim().split(':')[2]);
    expect(run.stderr).toContain(
      `wrote ${path.join(folder, 'ci-2026.private')} (mode 0600): put its content in the publishing CI's secret store as SWEEP_SIGNING_KEY`,
    );
    expect(run.stderr).toContain('add the line above to sweep.artifact.remoteCache.trustedKeys in cdktf.json');
  });

  it('GIVEN the key exists WHEN run again THEN it refuses, exit 1, and the key is unchanged', async () => {
    await keygen(['ci-old', '--out', 'again']);
    const before = fs.readFileSync(path.join(root, 'again', 'ci-old.private'), 'utf8');

    const run = await keygen(['ci-old', '--out', 'again']);

    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      `error (config): keygen: ${path.join(root, 'again', 'ci-old.private')} exists\n  fix: choose another key name or folder; keygen never overwrites a key`,
    );
    expect(fs.readFileSync(path.join(root, 'again', 'ci-old.private'), 'utf8')).toBe(before);
  });

  it.each([
    [
      ['../evil', '--out', 'x'],
      'error (config): keygen: the key name "../evil" cannot be used: it names the key files and the signature objects',
    ],
    [['--out', 'x'], 'error (config): keygen: no key name was given'],
    [['ci'], 'error (config): keygen: no folder was given'],
  ])('refuses %j with one screen and writes nothing', async (args, first) => {
    const run = await keygen(args);
    expect(run.exitCode).toBe(1);
    expect(run.stderr.split('\n')[0]).toBe(first);
    expect(run.stderr.split('\n')[1]).toMatch(/^ {2}fix: /);
    expect(fs.existsSync(path.join(root, 'x'))).toBe(false);
  });
});
