import * as fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { ensureArtifact } from '../../build/engine/engine.js';
import { resolveArtifactOptions } from '../../build/options/resolve.js';
import type { ArtifactOptions } from '../../build/options/schema.js';
import { createRecordingOutput } from '../../build/support/reporter.js';
import { builtProject } from '../helpers/built-project.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { sha256Hex } from '../helpers/hash.js';
import { appendLine, makeTestProject, type TestProject } from '../helpers/project.js';

/**
 * The cache loop on copies of the example workspace, with the real Docker engine and cargo:
 * cold build, hit, and a miss for each kind of change, each naming what changed. Each test gets
 * its own copy of one project built in beforeAll, so it runs alone with -t.
 */
describeWithDocker('engine: cache hit and miss with real builds', () => {
  const prepared = builtProject({ artifacts: [{ package: 'sweep-lambda' }] });
  beforeAll(() => prepared.build());
  afterAll(() => prepared.remove());

  const engineOptions = (project: TestProject, extra: ArtifactOptions = {}, env: Record<string, string> = {}) =>
    resolveArtifactOptions({ projectRoot: project.root, toolchainImage: TOOLCHAIN_IMAGE, package: 'sweep-lambda', ...extra }, { env });
  const build = async (project: TestProject, extra: ArtifactOptions = {}, env: Record<string, string> = {}) => {
    const output = createRecordingOutput();
    const result = await ensureArtifact(engineOptions(project, extra, env), { output });
    const lines = output.of('sweep-lambda');
    return { result, lines, text: output.lines.join('\n') };
  };
  const zipBytes = (project: TestProject) => fs.readFileSync(`${project.dist}/sweep-lambda.zip`);
  const metadataText = (project: TestProject) => fs.readFileSync(`${project.dist}/sweep-lambda.json`, 'utf8');
  /** Runs `test` on a fresh copy of the built project, removed afterwards. */
  const withProject = async (test: (project: TestProject) => Promise<void>) => {
    const project = prepared.copy();
    try {
      await test(project);
    } finally {
      project.remove();
    }
  };

  it('GIVEN no metadata WHEN building THEN it is a cold build that writes the zip and its metadata', async () => {
    const project = makeTestProject();
    try {
      const { result, lines, text } = await build(project);
      expect(lines[0]).toBe('cache-miss: no metadata (first build)');
      expect(text).toMatch(/compile \|\s+Compiling sweep-lambda/);
      expect(text).toMatch(/verify: x86_64 ELF, dynamic, needs glibc 2\.\d+ \(provided\.al2023 has 2\.34\)/);
      expect(lines.at(-1)).toMatch(/^done: cache-miss, rebuilt dist\/sweep-lambda\.zip: .*builder-image .* compile .* package .* total /);
      expect(result).toMatchObject({ outcome: 'cache-miss', via: 'build' });
      const metadata = JSON.parse(metadataText(project));
      expect(metadata.zip.sha256).toBe(sha256Hex(zipBytes(project)));
      expect(metadata.origin).toEqual({ kind: 'build', cacheDomain: 'local' });
      expect(Object.keys(metadata.timingsMs)).toEqual(
        expect.arrayContaining(['fingerprint', 'builder-image', 'compile', 'package', 'verify', 'total']),
      );
      expect(metadata.inputs['crates/sweep-lambda/src/main.rs']).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      project.remove();
    }
  });

  it('GIVEN nothing changed WHEN building THEN cache-hit without Docker', () =>
    withProject(async (project) => {
      const before = zipBytes(project);
      // A docker command that cannot run proves the hit path never calls Docker.
      const { result, lines } = await build(project, {}, { SWEEP_DOCKER: '/nonexistent/docker' });
      expect(result).toMatchObject({ outcome: 'cache-hit', via: 'local' });
      expect(lines[0]).toMatch(/^cache-hit: inputs unchanged since .* \(fingerprint [0-9a-f]{12}\), dist\/sweep-lambda\.zip reused$/);
      expect(lines.at(-1)).toMatch(/^done: cache-hit: fingerprint [\d.]+ ms, total [\d.]+ ms$/);
      expect(result.metadata.zip.sha256).toBe(sha256Hex(before));
    }));

  it('GIVEN an edited Lambda source WHEN building THEN the miss names the file and only that crate recompiles', () =>
    withProject(async (project) => {
      const before = zipBytes(project);
      const main = project.file('crates/sweep-lambda/src/main.rs');
      fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace('initialization failed', 'initialisation failed'));
      const { lines, text } = await build(project);
      expect(lines[0]).toBe('cache-miss: changed crates/sweep-lambda/src/main.rs');
      expect(text).toMatch(/Compiling sweep-lambda v/);
      expect(text).not.toMatch(/Compiling sweep-core/); // the persistent target folder kept it
      expect(sha256Hex(zipBytes(project))).not.toBe(sha256Hex(before));
    }));

  it('GIVEN a Cargo.lock edit that changes none of the function`s entries WHEN building THEN a hit: only its entries are inputs (issue 22)', () =>
    withProject(async (project) => {
      appendLine(project.file('Cargo.lock'), '# a comment cargo accepts with --locked');
      const { lines } = await build(project);
      expect(lines[0]).toMatch(/^cache-hit: inputs unchanged since /);
    }));

  it('GIVEN another profile WHEN building THEN the miss names the setting, old and new, both ways', () =>
    withProject(async (project) => {
      const { lines } = await build(project, { profile: 'dev' });
      expect(lines[0]).toBe('cache-miss: profile release -> dev');
      const back = await build(project, { profile: 'release' });
      expect(back.lines[0]).toBe('cache-miss: profile dev -> release');
    }));

  it('GIVEN a feature enabled WHEN building THEN the miss names it and the binary changes', () =>
    withProject(async (project) => {
      const before = sha256Hex(zipBytes(project));
      const { lines } = await build(project, { features: ['trace'] });
      expect(lines[0]).toBe('cache-miss: features (none) -> trace');
      expect(sha256Hex(zipBytes(project))).not.toBe(before);
    }));

  it('GIVEN an added and a removed file WHEN building THEN both are named', () =>
    withProject(async (project) => {
      fs.writeFileSync(project.file('crates/sweep-lambda/NOTES.md'), 'operator notes\n');
      const added = await build(project);
      expect(added.lines[0]).toBe('cache-miss: added crates/sweep-lambda/NOTES.md');
      fs.rmSync(project.file('crates/sweep-lambda/NOTES.md'));
      const removed = await build(project);
      expect(removed.lines[0]).toBe('cache-miss: removed crates/sweep-lambda/NOTES.md');
    }));

  it('GIVEN the zip deleted WHEN building THEN the miss says so and the zip comes back', () =>
    withProject(async (project) => {
      fs.rmSync(`${project.dist}/sweep-lambda.zip`);
      const { lines } = await build(project);
      expect(lines[0]).toBe('cache-miss: dist/sweep-lambda.zip missing');
      expect(fs.existsSync(`${project.dist}/sweep-lambda.zip`)).toBe(true);
    }));

  it('GIVEN the zip altered WHEN building THEN the miss says it does not match its metadata', () =>
    withProject(async (project) => {
      const zip = zipBytes(project);
      zip[zip.length - 30] ^= 0xff;
      fs.writeFileSync(`${project.dist}/sweep-lambda.zip`, zip);
      const { lines } = await build(project);
      expect(lines[0]).toBe('cache-miss: zip does not match its metadata');
    }));

  it('GIVEN damaged metadata WHEN building THEN it is a miss with the reason, never a crash', () =>
    withProject(async (project) => {
      fs.writeFileSync(`${project.dist}/sweep-lambda.json`, '{"schemaVersion": 2, "fingerprint": "nope"');
      const { lines } = await build(project);
      expect(lines[0]).toMatch(/^cache-miss: metadata unreadable \(not JSON/);
    }));

  it('GIVEN FORCE_REBUILD=1 and unchanged inputs WHEN building THEN it rebuilds and the zip is byte-identical', () =>
    withProject(async (project) => {
      const before = zipBytes(project);
      const { result, lines } = await build(project, {}, { FORCE_REBUILD: '1' });
      expect(result.outcome).toBe('cache-miss');
      expect(lines[0]).toBe('cache-miss: forced (FORCE_REBUILD=1)');
      expect(lines).toContain('reproducible: the forced rebuild gave a byte-identical zip');
      expect(Buffer.compare(zipBytes(project), before)).toBe(0);
    }));

  it('GIVEN a comment appended to a source WHEN building THEN a miss names it and the zip is byte-identical', () =>
    withProject(async (project) => {
      const before = zipBytes(project);
      appendLine(project.file('crates/sweep-core/src/sweep.rs'), '// appended by the test');
      const { lines } = await build(project);
      expect(lines[0]).toBe('cache-miss: changed crates/sweep-core/src/sweep.rs');
      expect(Buffer.compare(zipBytes(project), before)).toBe(0);
    }));

  it("GIVEN a compile error WHEN building THEN it fails after streaming cargo's output once, and leaves the previous zip and metadata intact", () =>
    withProject(async (project) => {
      const zip = zipBytes(project);
      const metadata = metadataText(project);
      const main = project.file('crates/sweep-lambda/src/main.rs');
      fs.writeFileSync(main, `${fs.readFileSync(main, 'utf8')}\nfn broken() -> u32 { "not a number" }\n`);
      const output = createRecordingOutput();
      const error = await ensureArtifact(engineOptions(project), { output }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        stage: 'compile',
        fix: 'fix the errors cargo printed above; the previous zip and metadata are unchanged',
      });
      expect(output.lines.filter((line) => /error\[E0308\]: mismatched types/.test(line))).toHaveLength(1);
      expect((error as { describe(): string }).describe()).not.toMatch(/E0308/);
      expect(Buffer.compare(zipBytes(project), zip)).toBe(0);
      expect(metadataText(project)).toBe(metadata);
      expect(fs.readdirSync(project.dist).filter((f) => f.endsWith('.tmp') || f.includes('.lock'))).toEqual([]);
    }));
});
