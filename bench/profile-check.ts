import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkCache } from '../build/cache/check.js';
import { appTargets } from './engine-run.js';
import { generateSources } from './generate-workspace.js';
import { makeBenchProject, removeAllProjects } from './project.js';
import { cleanEnvironment, LAMBDA, profileCheck, writeMatchingMetadata } from './scenarios.js';
import { formatBreakdown, formatMs, summarize } from './stats.js';

/**
 * A profiling harness for the fast path (not part of `npm run bench`): generates a workspace of
 * N files, then runs `checkCache` in a loop, first or repeated, so a CPU profile shows where a
 * check's time goes:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-check.ts 10000 repeated 50
 *   node --import tsx bench/profile-check.ts 10000 first 10
 *
 * Prints the step profile (profileCheck) and the median; removes its temp project.
 */
const size = Number(process.argv[2] ?? 10_000);
const kind = process.argv[3] === 'first' ? 'first' : 'repeated';
const iterations = Number(process.argv[4] ?? 30);

const project = makeBenchProject(`profile-${size}`);
try {
  generateSources(project.workspace, size);
  const past = new Date(Date.now() - 10_000);
  for (const file of fs.readdirSync(project.workspace, { recursive: true }) as string[]) {
    fs.utimesSync(path.join(project.workspace, file), past, past);
  }
  const options = appTargets(project, cleanEnvironment()).find((t) => t.name === LAMBDA)!;
  const hashes = path.join(project.cache, 'file-hashes');
  // A matching zip and metadata, so each check is the hit an unchanged tree gets.
  writeMatchingMetadata(options, checkCache(options));
  checkCache(options);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    if (kind === 'first') fs.rmSync(hashes, { recursive: true, force: true });
    const started = performance.now();
    checkCache(options);
    samples.push(performance.now() - started);
  }
  const s = summarize(samples);
  process.stdout.write(
    `${size} files, ${kind} check: median ${formatMs(s.medianMs)} (min ${formatMs(s.minMs)}, max ${formatMs(s.maxMs)}) over ${iterations}\n`,
  );
  const steps = profileCheck(options, 5, kind === 'first' ? () => fs.rmSync(hashes, { recursive: true, force: true }) : undefined);
  process.stdout.write(`steps: ${formatBreakdown(steps)}\n`);
} finally {
  removeAllProjects();
}
