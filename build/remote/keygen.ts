import { isSafeName } from '../support/safe-name.js';
import { unusableKeyName } from './errors.js';
import { generateKeyPair } from './keys.js';

/** A new signing key pair for `sweep-runtime keygen`; the name must be a safe name (it names files and signature objects). */
export function generateSigningKeyPair(name: string): { readonly name: string; readonly privateText: string; readonly publicLine: string } {
  if (!isSafeName(name)) throw unusableKeyName(name);
  return { name, ...generateKeyPair(name) };
}
