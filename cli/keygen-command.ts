import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateSigningKeyPair } from '../build/index.js';
import { keygenRefused } from './errors.js';

/*
 * `sweep-runtime keygen NAME --out DIR`: a new Ed25519 key pair for signing the shared cache.
 * `DIR/NAME.private` (mode 0600; its content goes into the publishing CI's secret store as
 * SWEEP_SIGNING_KEY, and the file should then be deleted) and `DIR/NAME.public` (one line,
 * `NAME:<base64>`, for `sweep.artifact.remoteCache.trustedKeys`). Prints the public line on
 * stdout and where each goes on stderr. Never overwrites a file; needs no project.
 */
export function keygenCommand(name: string | undefined, out: string | undefined): number {
  if (name === undefined) throw keygenRefused('no key name was given', 'e.g. `sweep-runtime keygen ci-2026 --out keys`');
  if (out === undefined) throw keygenRefused('no folder was given', `pass --out DIR, e.g. \`sweep-runtime keygen ${name} --out keys\``);
  const pair = generateSigningKeyPair(name);
  const folder = path.resolve(out);
  fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
  const privateFile = path.join(folder, `${pair.name}.private`);
  const publicFile = path.join(folder, `${pair.name}.public`);
  for (const file of [privateFile, publicFile]) {
    if (fs.existsSync(file)) throw keygenRefused(`${file} exists`, 'choose another key name or folder; keygen never overwrites a key');
  }
  writeNew(privateFile, `${pair.privateText}\n`, 0o600);
  writeNew(publicFile, `${pair.publicLine}\n`, 0o644);
  process.stdout.write(`${pair.publicLine}\n`);
  process.stderr.write(
    [
      `wrote ${privateFile} (mode 0600): put its content in the publishing CI's secret store as SWEEP_SIGNING_KEY, then delete the file`,
      `wrote ${publicFile}: add the line above to sweep.artifact.remoteCache.trustedKeys in cdktf.json`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** Creates `file` (never replacing one) with exactly `mode`, whatever the umask. */
function writeNew(file: string, text: string, mode: number): void {
  const fd = fs.openSync(file, 'wx', mode);
  try {
    fs.fchmodSync(fd, mode);
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
