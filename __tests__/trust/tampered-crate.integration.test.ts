import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, expect, it } from '@jest/globals';
import { ensureArtifact } from '../../build/engine/engine.js';
import { createRecordingOutput } from '../../build/support/reporter.js';
import { describeWithDocker } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';
import { engineOptions, FIXTURES } from './support.js';

/**
 * Issue 12, through the engine: the trust-vendored fixture depends on a registry crate (served
 * offline from vendor/, so its Cargo.lock entry has a real `registry+` source and checksum). A
 * forged `.crate` of that name in the cache's registry folder is removed before cargo runs, and
 * the build log names it; a genuine one (the bytes whose SHA-256 the lock names) stays.
 */
describeWithDocker('trust: a tampered cached crate is removed before the build', () => {
  let project: TestProject | undefined;
  afterEach(() => project?.remove());

  it('GIVEN a cached .crate that does not match Cargo.lock WHEN the engine builds THEN the log names it, it is gone and the build succeeds', async () => {
    project = makeTestProject({ workspace: path.join(FIXTURES, 'trust-vendored'), prefix: 'sweep-trust-crate-' });
    const registryCache = path.join(project.cache, 'cargo-home', 'registry-cache');
    const forged = path.join(registryCache, 'index.crates.io-6f17d22bba15001f', 'tinydep-0.1.0.crate');
    const genuine = path.join(registryCache, 'mirror.example-0123456789abcdef', 'tinydep-0.1.0.crate');
    fs.mkdirSync(path.dirname(forged), { recursive: true });
    fs.mkdirSync(path.dirname(genuine), { recursive: true });
    fs.writeFileSync(forged, 'a tinydep with a backdoor\n');
    // The fixture's vendor/tinydep/.cargo-checksum.json (and so Cargo.lock) names the SHA-256 of these bytes.
    fs.writeFileSync(genuine, 'tinydep-0.1.0 stand-in .crate\n');
    const output = createRecordingOutput();

    const result = await ensureArtifact(engineOptions(project.root, { name: 'vendored' }), { output });

    expect(result.outcome).toBe('cache-miss');
    const log = output.of('vendored');
    expect(log).toContain(
      'removed cached crate index.crates.io-6f17d22bba15001f/tinydep-0.1.0.crate: its checksum does not match Cargo.lock (cargo downloads it again)',
    );
    expect(log.filter((line) => line.startsWith('removed cached crate'))).toHaveLength(1);
    expect(fs.existsSync(forged)).toBe(false);
    expect(fs.readFileSync(genuine, 'utf8')).toBe('tinydep-0.1.0 stand-in .crate\n');
    // It was checked before cargo started: the line comes before cargo's first line.
    expect(log.findIndex((line) => line.startsWith('removed cached crate'))).toBeLessThan(
      log.findIndex((line) => line.startsWith('compile | ')),
    );
  });
});
