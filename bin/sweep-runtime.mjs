#!/usr/bin/env node
// The `sweep-runtime` command: cli/main.ts, compiled and cached by compile-cache.mjs (no
// TypeScript loader is registered, so a start costs Node plus one bundle).
import { fileURLToPath } from 'node:url';
import { importCompiled } from './compile-cache.mjs';

const { main } = await importCompiled(fileURLToPath(new URL('../cli/main.ts', import.meta.url)));
process.exitCode = await main(process.argv.slice(2));
