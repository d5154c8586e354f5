#!/usr/bin/env node
// The `sweep-runtime` command. The project is TypeScript run by tsx (no compile step); this shim
// registers tsx's loader, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
