import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { unzipSync } from 'fflate';
import { buildArtifact } from '../../build/build-artifact.js';
import { type ArtifactOptions, resolveArtifactOptions } from '../../build/options.js';
import { createRecordingReporter } from '../../build/reporter.js';
import { verifyArtifact } from '../../build/verify-artifact.js';
import { runCli } from '../helpers/cli.js';
import { describeWithDocker, NEWER_GLIBC_TOOLCHAIN_IMAGE, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';

/**
 * Will the zip start on Lambda? Checked on real builds before anything is recorded: the right
 * architecture (x86_64 and a real arm64 cross build), and no glibc newer than the runtime's
 * (a real build on a newer base image is refused and leaves the previous zip alone).
 */
describeWithDocker('verification of real builds', () => {
  let project: TestProject;
  const build = (extra: ArtifactOptions, env: Record<string, string> = {}) =>
    buildArtifact(resolveArtifactOptions({ projectRoot: project.root, toolchainImage: TOOLCHAIN_IMAGE, ...extra }, env), {
      reporter: createRecordingReporter(),
    });
  beforeAll(() => {
    project = makeTestProject();
  });
  afterAll(() => project.remove());

  it('an x86_64 build passes every check, and what was checked is recorded', async () => {
    const result = await build({});
    expect(result.record.binary).toEqual({
      machine: 'x86_64',
      linkage: 'dynamic',
      glibcRequired: expect.stringMatching(/^2\.\d+$/),
      glibcAvailable: '2.34',
      size: expect.any(Number),
    });
  });

  let arm64Zip: Uint8Array;
  it('architecture arm64 cross-builds a real AArch64 bootstrap in the builder image', async () => {
    const result = await build({ architecture: 'arm64', name: 'sweep-arm64' });
    expect(result.record.settings.target).toBe('aarch64-unknown-linux-gnu');
    expect(result.record.binary.machine).toBe('aarch64');
    expect(result.record.builderImage.tag).not.toBe(
      JSON.parse(fs.readFileSync(path.join(project.dist, 'sweep-lambda.json'), 'utf8')).builderImage.tag,
    );
    arm64Zip = fs.readFileSync(result.zipPath);
  });

  it('a real AArch64 binary is refused for an x86_64 function, naming both', () => {
    const binary = unzipSync(arm64Zip).bootstrap!;
    expect(() => verifyArtifact(arm64Zip, binary, { architecture: 'x86_64', runtime: 'provided.al2023' })).toThrow(
      "verify: bootstrap is built for aarch64, but the function's architecture is x86_64 (needs x86_64); the zip was not recorded, the previous one is unchanged",
    );
  });

  it('the arm64 zip answers an invocation under an emulator, or says plainly that none is registered', async () => {
    fs.writeFileSync(path.join(project.root, 'event.json'), '{"values": [1, 4, 9], "function": "sqrt"}');
    // The CLI reads the artifact's settings from cdktf.json, as the app does.
    fs.writeFileSync(
      path.join(project.root, 'cdktf.json'),
      JSON.stringify({ context: { sweep: { artifact: { architecture: 'arm64', name: 'sweep-arm64' } } } }),
    );
    const run = await runCli(['invoke', '--event', 'event.json'], { cwd: project.root, env: { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE } });
    fs.rmSync(path.join(project.root, 'cdktf.json'));
    if (fs.existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64')) {
      expect(run.stderr).toMatch(/invoke: response in .* ran on sweep-builder:/);
      expect(run.stdout).toBe(
        '{"function":"sqrt","count":3,"points":[{"x":1,"y":1},{"x":4,"y":2},{"x":9,"y":3}],"min":1,"max":3,"mean":2,"sum":6}',
      );
      expect(run.exitCode).toBe(0);
    } else {
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain('error (invoke): cannot run aarch64 binaries on this x86_64 machine: no emulator is registered');
    }
  });

  it('a build on a newer base image whose glibc the runtime lacks is refused, and the previous zip and record stay', async () => {
    const zip = fs.readFileSync(path.join(project.dist, 'sweep-lambda.zip'));
    const record = fs.readFileSync(path.join(project.dist, 'sweep-lambda.json'), 'utf8');
    // Debian bookworm (glibc 2.36) links against GLIBC_2.34 symbols; provided.al2 has glibc 2.26.
    const error = await build({ toolchainImage: NEWER_GLIBC_TOOLCHAIN_IMAGE, runtime: 'provided.al2' }).then(
      () => undefined,
      (e: unknown) => e as Error & { fix: string },
    );
    expect(error?.message).toMatch(
      /^verify: bootstrap needs GLIBC_2\.3\d, but provided\.al2 has glibc 2\.26; the zip was not recorded, the previous one is unchanged$/,
    );
    expect(error?.fix).toBe(
      'build on an older base image (toolchain image rust:1-bullseye has glibc 2.31), or build a static binary with a musl target',
    );
    expect(Buffer.compare(fs.readFileSync(path.join(project.dist, 'sweep-lambda.zip')), zip)).toBe(0);
    expect(fs.readFileSync(path.join(project.dist, 'sweep-lambda.json'), 'utf8')).toBe(record);
    expect(fs.readdirSync(project.dist).sort()).toEqual(['sweep-arm64.json', 'sweep-arm64.zip', 'sweep-lambda.json', 'sweep-lambda.zip']);
  });
});
