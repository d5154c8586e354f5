#!/usr/bin/env node
// The `sweep-runtime` command. Installed as a package, it runs the compiled lib/cli/main.js. In
// this repository (the sources are here), cli/main.ts is compiled and cached by compile-cache.mjs
// instead (no TypeScript loader is registered, so a start costs Node plus one bundle).
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const sources = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const { main } = fs.existsSync(sources)
  ? await (await import('./compile-cache.mjs')).importCompiled(sources)
  : await import('../lib/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
