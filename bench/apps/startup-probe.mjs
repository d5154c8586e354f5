// Where a start's time goes, measured from inside the process (the start-up scenario runs it a
// few times next to its whole-process timings). Plain JavaScript, so nothing is compiled to run it.
//
//   node <repo>/bench/apps/startup-probe.mjs app FILE.ts     # what `node bin/run-ts.mjs FILE.ts` does
//   node <repo>/bench/apps/startup-probe.mjs cli ARGS...     # what `node bin/sweep-runtime.mjs ARGS...` does
//   node <repo>/bench/apps/startup-probe.mjs plain FILE.mjs  # a plain module, imported as is
//
// Prints one line `@@probe {"boot":..,"bundle":..,"load":..,"run":..,"end":..}` on stderr:
// milliseconds since the process started (performance.timeOrigin) at each mark, so the parent can
// also tell how long the process took to exit after `end`.
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const marks = { boot: performance.now() };
const [mode, ...rest] = process.argv.slice(2);
const loadCompileCache = async () => (await import(new URL('../../bin/compile-cache.mjs', import.meta.url).href)).compiledPath;
if (mode === 'app') {
  const entry = path.resolve(rest[0]);
  const file = await (await loadCompileCache())(entry);
  marks.bundle = performance.now();
  process.argv = [process.argv[0], entry, ...rest.slice(1)];
  await import(pathToFileURL(file).href); // the app runs (and synthesizes) as it loads
  marks.run = performance.now();
} else if (mode === 'cli') {
  const file = await (await loadCompileCache())(fileURLToPath(new URL('../../cli/main.ts', import.meta.url)));
  marks.bundle = performance.now();
  const { main } = await import(pathToFileURL(file).href);
  marks.load = performance.now();
  process.exitCode = await main(rest);
  marks.run = performance.now();
} else if (mode === 'plain') {
  marks.bundle = performance.now();
  await import(pathToFileURL(path.resolve(rest[0])).href);
  marks.run = performance.now();
} else {
  process.stderr.write('usage: startup-probe.mjs app FILE.ts | cli ARGS... | plain FILE.mjs\n');
  process.exit(2);
}
marks.end = performance.now();
process.stderr.write(`@@probe ${JSON.stringify(marks)}\n`);
