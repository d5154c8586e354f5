#!/usr/bin/env node
// `node bin/run-ts.mjs FILE.ts [args...]`: runs a TypeScript entry point of this project, compiled
// and cached by compile-cache.mjs. cdktf.json's `app` runs main.ts this way; the build engine runs
// its child process this way.
import { importCompiled } from './compile-cache.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node bin/run-ts.mjs FILE.ts [args...]\n');
  process.exit(2);
}
// The entry sees its own arguments where a directly run script would.
process.argv = [process.argv[0], entry, ...args];
await importCompiled(entry);
