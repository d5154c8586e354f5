import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { type ArtifactResult, buildArtifact } from '../../build/build-artifact.js';
import { type ArtifactOptions, resolveArtifactOptions } from '../../build/options.js';
import { createRecordingReporter } from '../../build/reporter.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { appendLine, makeTestProject, type TestProject } from '../helpers/project.js';

/**
 * The cache loop on a copy of the example workspace, with the real Docker engine and cargo:
 * cold build, hit, and a miss for each kind of change, each naming what changed.
 * The steps share one project and run in order, as an operator's session would.
 */
describeWithDocker('engine: cache hit and miss with real builds', () => {
  let project: TestProject;
  const build = async (extra: ArtifactOptions = {}, env: Record<string, string> = {}) => {
    const reporter = createRecordingReporter();
    const options = resolveArtifactOptions({ projectRoot: project.root, toolchainImage: TOOLCHAIN_IMAGE, ...extra }, { ...env });
    const result = await buildArtifact(options, { reporter });
    return { result, lines: reporter.lines, text: reporter.lines.join('\n') };
  };
  const zipBytes = () => fs.readFileSync(`${project.dist}/sweep-lambda.zip`);
  const metadataText = () => fs.readFileSync(`${project.dist}/sweep-lambda.json`, 'utf8');
  let first: ArtifactResult;

  beforeAll(() => {
    project = makeTestProject();
  });
  afterAll(() => project.remove());

  it('GIVEN no metadata WHEN building THEN it is a cold build that writes the zip and its record', async () => {
    const { result, lines, text } = await build();
    first = result;
    expect(lines[0]).toBe('cache-miss: no metadata (first build)');
    expect(text).toMatch(/compile \|\s+Compiling sweep-lambda/);
    expect(text).toMatch(/verify: x86_64 ELF, dynamic, needs glibc 2\.\d+ \(provided\.al2023 has 2\.34\)/);
    expect(lines.at(-1)).toMatch(
      /^done: cache-miss, rebuilt dist\/sweep-lambda\.zip: fingerprint .* builder-image .* compile .* package .* verify .* total /,
    );
    expect(result.outcome).toBe('cache-miss');
    const record = JSON.parse(metadataText());
    expect(record.zip.sha256).toBe(sha256Hex(zipBytes()));
    expect(Object.keys(record.timingsMs)).toEqual(
      expect.arrayContaining(['fingerprint', 'builder-image', 'compile', 'package', 'verify', 'total']),
    );
    expect(record.inputs['crates/sweep-lambda/src/main.rs']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('GIVEN nothing changed WHEN building THEN cache-hit without Docker', async () => {
    // A docker command that cannot run proves the hit path never calls Docker.
    const { result, lines } = await build({}, { SWEEP_DOCKER: '/nonexistent/docker' });
    expect(result.outcome).toBe('cache-hit');
    expect(lines[0]).toMatch(/^cache-hit: inputs unchanged since .* \(fingerprint [0-9a-f]{12}\), dist\/sweep-lambda\.zip reused$/);
    expect(lines.at(-1)).toMatch(/^done: cache-hit: fingerprint [\d.]+ ms, total [\d.]+ ms$/);
    expect(result.record.zip.sha256).toBe(first.record.zip.sha256);
  });

  it('GIVEN an edited Lambda source WHEN building THEN the miss names the file and only that crate recompiles', async () => {
    const main = project.file('crates/sweep-lambda/src/main.rs');
    fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace('initialization failed', 'initialisation failed'));
    const { lines, text } = await build();
    expect(lines[0]).toBe('cache-miss: changed crates/sweep-lambda/src/main.rs');
    expect(text).toMatch(/Compiling sweep-lambda/);
    expect(text).not.toMatch(/Compiling sweep-core/); // the persistent target cache kept it
    expect(sha256Hex(zipBytes())).not.toBe(first.record.zip.sha256);
  });

  it('GIVEN an edited Cargo.lock WHEN building THEN the miss names Cargo.lock', async () => {
    appendLine(project.file('Cargo.lock'), '# a comment cargo accepts with --locked');
    const { lines } = await build();
    expect(lines[0]).toBe('cache-miss: changed Cargo.lock');
  });

  it('GIVEN another profile WHEN building THEN the miss names the setting, old and new', async () => {
    const { lines } = await build({ profile: 'dev' });
    expect(lines[0]).toBe('cache-miss: profile release -> dev');
    const back = await build({ profile: 'release' });
    expect(back.lines[0]).toBe('cache-miss: profile dev -> release');
  });

  it('GIVEN a feature enabled WHEN building THEN the miss names it and the binary changes', async () => {
    const before = sha256Hex(zipBytes());
    const { lines } = await build({ features: ['trace'] });
    expect(lines[0]).toBe('cache-miss: features (none) -> trace');
    expect(sha256Hex(zipBytes())).not.toBe(before);
    await build();
  });

  it('GIVEN an added and a removed file WHEN building THEN both are named', async () => {
    fs.writeFileSync(project.file('crates/sweep-lambda/NOTES.md'), 'operator notes\n');
    const added = await build();
    expect(added.lines[0]).toBe('cache-miss: added crates/sweep-lambda/NOTES.md');
    fs.rmSync(project.file('crates/sweep-lambda/NOTES.md'));
    const removed = await build();
    expect(removed.lines[0]).toBe('cache-miss: removed crates/sweep-lambda/NOTES.md');
  });

  it('GIVEN the zip deleted WHEN building THEN the miss says so and the zip comes back', async () => {
    fs.rmSync(`${project.dist}/sweep-lambda.zip`);
    const { lines } = await build();
    expect(lines[0]).toBe('cache-miss: dist/sweep-lambda.zip missing');
    expect(fs.existsSync(`${project.dist}/sweep-lambda.zip`)).toBe(true);
  });

  it('GIVEN the zip altered WHEN building THEN the miss says it does not match its metadata', async () => {
    const zip = zipBytes();
    zip[zip.length - 30] ^= 0xff;
    fs.writeFileSync(`${project.dist}/sweep-lambda.zip`, zip);
    const { lines } = await build();
    expect(lines[0]).toBe('cache-miss: zip does not match its metadata');
  });

  it('GIVEN damaged metadata WHEN building THEN it is a miss with the reason, never a crash', async () => {
    fs.writeFileSync(`${project.dist}/sweep-lambda.json`, '{"schemaVersion": 1, "fingerprint": "nope"');
    const { lines } = await build();
    expect(lines[0]).toMatch(/^cache-miss: metadata unreadable \(not JSON/);
  });

  it('GIVEN FORCE_REBUILD=1 and unchanged inputs WHEN building THEN it rebuilds and the zip is byte-identical', async () => {
    const before = zipBytes();
    const { result, lines } = await build({}, { FORCE_REBUILD: '1' });
    expect(result.outcome).toBe('cache-miss');
    expect(lines[0]).toBe('cache-miss: forced (FORCE_REBUILD=1)');
    expect(lines).toContain('reproducible: the forced rebuild gave a byte-identical zip');
    expect(Buffer.compare(zipBytes(), before)).toBe(0);
  });

  it('GIVEN a comment appended to a source WHEN building THEN a miss names it and the zip is byte-identical', async () => {
    const before = zipBytes();
    appendLine(project.file('crates/sweep-core/src/sweep.rs'), '// appended by the test');
    const { lines } = await build();
    expect(lines[0]).toBe('cache-miss: changed crates/sweep-core/src/sweep.rs');
    expect(Buffer.compare(zipBytes(), before)).toBe(0);
  });

  it("GIVEN a compile error WHEN building THEN it fails with cargo's output and leaves the previous zip and metadata intact", async () => {
    const zip = zipBytes();
    const metadata = metadataText();
    const main = project.file('crates/sweep-lambda/src/main.rs');
    const source = fs.readFileSync(main, 'utf8');
    fs.writeFileSync(main, `${source}\nfn broken() -> u32 { "not a number" }\n`);
    const error = await build().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ stage: 'compile', fix: 'fix the error shown below; the previous zip and metadata are unchanged' });
    expect((error as { describe(): string }).describe()).toMatch(/error\[E0308\]: mismatched types/);
    expect(Buffer.compare(zipBytes(), zip)).toBe(0);
    expect(metadataText()).toBe(metadata);
    expect(fs.readdirSync(project.dist).filter((f) => f.endsWith('.tmp') || f.includes('.lock'))).toEqual([]);
    fs.writeFileSync(main, source);
  });
});

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
