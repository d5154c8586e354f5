import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, expect, it } from '@jest/globals';
import { ensureArtifact } from '../../build/engine/engine.js';
import { createRecordingOutput } from '../../build/support/reporter.js';
import { describeWithDocker } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';
import { bootstrapOf, engineOptions, FIXTURES, listTree } from './support.js';

/**
 * Issue 12, end to end: a build script that writes `$CARGO_HOME/config.toml` must not change any
 * later build. The trust-poison fixture's build.rs writes `[build] rustflags = ["--cfg",
 * "poisoned"]` there, and its binary says which cfg it was built with. On the engine that kept
 * CARGO_HOME in `.cache/cargo-home`, the next build of the same sources without build.rs came out
 * "poisoned"; now CARGO_HOME is fresh in each container and only cargo's downloads persist.
 */
describeWithDocker('trust: a build script cannot poison later builds through CARGO_HOME', () => {
  const projects: TestProject[] = [];
  afterEach(() => {
    for (const project of projects.splice(0)) project.remove();
  });

  it('GIVEN a build whose build.rs wrote $CARGO_HOME/config.toml WHEN the clean sources build next THEN the zip is the one a fresh project builds', async () => {
    const poisoned = makeTestProject({ workspace: path.join(FIXTURES, 'trust-poison'), prefix: 'sweep-trust-poison-' });
    projects.push(poisoned);
    const output = createRecordingOutput();

    // GIVEN a build that ran the poisoning build script (cargo shows its warning).
    await ensureArtifact(engineOptions(poisoned.root, { name: 'poison' }), { output });
    expect(output.of('poison').join('\n')).toMatch(/warning: trust-poison@0\.1\.0: poisoned \S+\/config\.toml/);
    // THEN its configuration never reached the cache folder: no cargo config file anywhere in it,
    // and nothing in what persists of CARGO_HOME holds the poisoned entry (the target folder
    // does: the compiled build script carries the text, which is harmless there).
    expect(listTree(poisoned.cache).filter((file) => /(^|\/)config(\.toml)?$/.test(file))).toEqual([]);
    const cargoHome = path.join(poisoned.cache, 'cargo-home');
    for (const file of listTree(cargoHome)) {
      const full = path.join(cargoHome, file);
      if (fs.lstatSync(full).isFile()) expect(fs.readFileSync(full).includes('poisoned')).toBe(false);
    }

    // WHEN the build script is gone and the same project builds its clean sources again.
    fs.rmSync(poisoned.file('build.rs'));
    const rebuilt = await ensureArtifact(engineOptions(poisoned.root, { name: 'poison' }), { output });
    expect(rebuilt.outcome).toBe('cache-miss');
    const rebuiltZip = fs.readFileSync(rebuilt.zipPath);

    // THEN it is byte for byte the zip of the same clean sources in a project that never ran it.
    const fresh = makeTestProject({ workspace: path.join(FIXTURES, 'trust-poison'), prefix: 'sweep-trust-clean-' });
    projects.push(fresh);
    fs.rmSync(fresh.file('build.rs'));
    const clean = await ensureArtifact(engineOptions(fresh.root, { name: 'poison' }), { output: createRecordingOutput() });
    const cleanZip = fs.readFileSync(clean.zipPath);
    expect(bootstrapOf(rebuiltZip).includes('built from clean sources only')).toBe(true);
    expect(bootstrapOf(rebuiltZip).includes('poisoned CARGO_HOME')).toBe(false);
    expect(rebuilt.metadata.zip.sha256).toBe(clean.metadata.zip.sha256);
    expect(Buffer.compare(rebuiltZip, cleanZip)).toBe(0);
  });
});
