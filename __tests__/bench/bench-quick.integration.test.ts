import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from '@jest/globals';
import { execa } from 'execa';
import { describeWithDocker } from '../helpers/docker.js';
import { REPO_ROOT } from '../helpers/project.js';

/**
 * `npm run bench -- --quick`, so the benchmark does not rot: every scenario runs once and the
 * report is complete. Its numbers are not asserted (a shared machine makes them noisy; the full
 * run's targets are reported in the README).
 */
describeWithDocker('npm run bench -- --quick', () => {
  it('runs every scenario and writes the report and its JSON', async () => {
    const run = await execa('npm', ['run', '-s', 'bench', '--', '--quick'], {
      cwd: REPO_ROOT,
      reject: false,
      all: true,
      env: { CHECKPOINT_DISABLE: '1' },
    });
    expect(run.exitCode).toBe(0);
    for (const scenario of [
      'baseline: old flow',
      'cold: engine, no caches at all',
      'warm image, clean target',
      'edit: one line in the Lambda crate',
      'hot: engine check in-process',
      'hot: synth of the app',
      'hot: synth, prebuilt zip',
      'config only: env var changed',
      'fast path, 1,000 files: repeated check',
    ]) {
      expect(run.stdout).toContain(scenario);
    }
    expect(run.stdout).toMatch(/Targets \(medians, this run\):/);
    const json = /Results JSON: (\S+)/.exec(run.stdout)?.[1];
    expect(json).toBeDefined();
    const results = JSON.parse(fs.readFileSync(path.resolve(REPO_ROOT, json!), 'utf8'));
    expect(results.machine.cores).toBeGreaterThan(0);
    fs.rmSync(path.resolve(REPO_ROOT, json!));
  });
});
