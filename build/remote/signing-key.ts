import * as fs from 'node:fs';
import { printable } from '../support/printable.js';
import { parseSigningKey, type SigningKey } from './keys.js';

/*
 * The publisher's private key, read from the environment of the publishing process when it is
 * about to sign, and nowhere else: it is never part of the options (which cross to the engine's
 * child process and appear in errors), never logged, and a message about a bad key never
 * repeats its text.
 */
export const SIGNING_KEY_ENV = 'SWEEP_SIGNING_KEY';
export const SIGNING_KEY_FILE_ENV = 'SWEEP_SIGNING_KEY_FILE';

export type SigningKeySetting =
  | { readonly kind: 'none' }
  | { readonly kind: 'key'; readonly key: SigningKey }
  /** Set, but not usable: what is wrong and what to do (never the key's text). */
  | { readonly kind: 'unusable'; readonly problem: string; readonly fix: string };

const MAX_KEY_FILE_BYTES = 4096;
const FIX = `set ${SIGNING_KEY_ENV} to the content of the NAME.private file that \`sweep-runtime keygen NAME --out DIR\` wrote (kept in the publishing CI's secret store), or ${SIGNING_KEY_FILE_ENV} to that file`;

export function loadSigningKey(env: Readonly<Record<string, string | undefined>> = process.env): SigningKeySetting {
  const text = nonEmpty(env[SIGNING_KEY_ENV]);
  const file = nonEmpty(env[SIGNING_KEY_FILE_ENV]);
  if (text !== undefined && file !== undefined) {
    return { kind: 'unusable', problem: `both ${SIGNING_KEY_ENV} and ${SIGNING_KEY_FILE_ENV} are set`, fix: 'set only one of them' };
  }
  if (text !== undefined) return parsed(text, SIGNING_KEY_ENV);
  if (file === undefined) return { kind: 'none' };
  const where = `${SIGNING_KEY_FILE_ENV} (${printable(file)})`;
  let content: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return { kind: 'unusable', problem: `${where} is not a regular file`, fix: FIX };
    if (stat.size > MAX_KEY_FILE_BYTES) return { kind: 'unusable', problem: `${where} is ${stat.size} bytes, not a key file`, fix: FIX };
    content = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { kind: 'unusable', problem: `${where} cannot be read (${code})`, fix: FIX };
  }
  return parsed(content, where);
}

function parsed(text: string, where: string): SigningKeySetting {
  const key = parseSigningKey(text);
  return typeof key === 'string' ? { kind: 'unusable', problem: `${where}: ${key}`, fix: FIX } : { kind: 'key', key };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
