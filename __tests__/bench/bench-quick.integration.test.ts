import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from '@jest/globals';
import { execa } from 'execa';
import { DOCKER, describeWithDocker } from '../helpers/docker.js';
import { REPO_ROOT } from '../helpers/project.js';
import { cephMissingReason } from '../helpers/s3-server.js';

/**
 * `npm run bench -- --quick`, so the benchmark does not rot: every scenario runs once and the
 * report is complete. Its numbers are not asserted (a shared machine makes them noisy; the full
 * run's targets are reported in the README). It must leave the machine's shared images alone:
 * the toolchain image and the locally made base images keep their IDs, and nothing of the
 * benchmark's own repositories is left behind.
 */
async function imageIds(...references: string[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const reference of references) {
    const { stdout } = await execa(DOCKER, [
      'images',
      '--filter',
      `reference=${reference}`,
      '--format',
      '{{.Repository}}:{{.Tag}} {{.ID}}',
    ]);
    for (const line of stdout.split('\n').filter(Boolean)) {
      const [tag, id] = line.split(' ');
      if (tag && id && !tag.endsWith(':<none>')) ids.set(tag, id);
    }
  }
  return ids;
}

describeWithDocker('npm run bench -- --quick', () => {
  it('runs every scenario, writes the report and its JSON, and leaves shared images alone', async () => {
    const shared = await imageIds('rust', 'sweep-local/*');
    // The benchmark builds with the local toolchain image: it is there, so the check below is real.
    expect([...shared.keys()]).toContain('rust:1-bullseye');
    const run = await execa('npm', ['run', '-s', 'bench', '--', '--quick'], {
      cwd: REPO_ROOT,
      reject: false,
      all: true,
      env: { CHECKPOINT_DISABLE: '1' },
    });
    expect(run.exitCode).toBe(0);
    const scenarios = [
      'baseline: old flow',
      'cold: engine, no caches at all',
      'warm image, clean target',
      'edit: one line in the Lambda crate',
      'hot: engine check in-process',
      'hot: engine check, one function with a 50 MiB zip',
      'hot: synth of the app',
      'hot: synth, prebuilt zips',
      'config only: env var changed',
      'start-up: node -e 0',
      'start-up: sweep-runtime status',
      'start-up: plain cdktf app',
      'start-up: app command, bundle current',
      'start-up: app command after an edit of main.ts',
      '4 functions, cold: batched',
      '4 functions, shared crate edit: sequential',
      'fast path, 1,000 files: repeated check',
      'watch: edit of the Lambda crate -> new code answering the Invoke API',
      'watch floor: the same edit, docker exec cargo build in a warm container',
      'no watch: the same edit, sweep-runtime build + sweep-runtime invoke',
      'Invoke API: warm invocation overhead',
      'fleet: hot sweep-runtime status, 100 functions',
      'fleet: hot sweep-runtime status --function fn050',
      'fleet: hot synth (app command), 100 functions',
      'fleet: cold build of 100 functions',
      "fleet: edit of one function's main.rs",
      "fleet: edit of one member's Cargo.toml",
      'fleet: a new crate for one function',
    ];
    if (cephMissingReason() === undefined)
      scenarios.push('remote hit, fresh machine: sweep-runtime build', 'remote hit, fresh machine: synth');
    for (const scenario of scenarios) expect(run.stdout).toContain(scenario);
    expect(run.stdout).toMatch(/Targets \(medians, this run\):/);
    const json = /Results JSON: (\S+)/.exec(run.stdout)?.[1];
    expect(json).toBeDefined();
    const results = JSON.parse(fs.readFileSync(path.resolve(REPO_ROOT, json!), 'utf8'));
    expect(results.machine.cores).toBeGreaterThan(0);
    fs.rmSync(path.resolve(REPO_ROOT, json!));

    const after = await imageIds('rust', 'sweep-local/*');
    for (const [tag, id] of shared) expect(`${tag} ${after.get(tag)}`).toBe(`${tag} ${id}`);
    expect([...(await imageIds('sweep-bench*', 'sweep-bench/*')).keys()]).toEqual([]);
  });
});
