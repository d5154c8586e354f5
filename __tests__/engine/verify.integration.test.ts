import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { unzipSync } from 'fflate';
import type { ArtifactMetadata } from '../../build/cache/metadata.js';
import { ensureArtifact } from '../../build/engine/engine.js';
import { resolveArtifactOptions } from '../../build/options/resolve.js';
import type { ArtifactOptions } from '../../build/options/schema.js';
import { verifyArtifact } from '../../build/package/verify.js';
import { createRecordingOutput } from '../../build/support/reporter.js';
import { builtProject } from '../helpers/built-project.js';
import { runCli } from '../helpers/cli.js';
import { describeWithDocker, NEWER_GLIBC_TOOLCHAIN_IMAGE, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import type { TestProject } from '../helpers/project.js';

/**
 * Will the zip start on Lambda? Checked on real builds before anything is committed: the right
 * architecture (x86_64 and a real arm64 cross build), and no glibc newer than the runtime's (a
 * real build on a newer base image is refused and leaves the previous zip alone). One project
 * with both builds is made in beforeAll; each test works on its own copy.
 */
describeWithDocker('verification of real builds', () => {
  const prepared = builtProject({ artifacts: [{}, { architecture: 'arm64', name: 'sweep-arm64' }] });
  beforeAll(() => prepared.build());
  afterAll(() => prepared.remove());

  const metadataOf = (project: TestProject, name: string): ArtifactMetadata =>
    JSON.parse(fs.readFileSync(path.join(project.dist, `${name}.json`), 'utf8'));
  const withProject = async (test: (project: TestProject) => Promise<void> | void) => {
    const project = prepared.copy();
    try {
      await test(project);
    } finally {
      project.remove();
    }
  };
  const build = (project: TestProject, extra: ArtifactOptions) =>
    ensureArtifact(resolveArtifactOptions({ projectRoot: project.root, toolchainImage: TOOLCHAIN_IMAGE, ...extra }, { env: {} }), {
      output: createRecordingOutput(),
    });

  it('an x86_64 build passes every check, and what was checked is in its metadata', () =>
    withProject((project) => {
      expect(metadataOf(project, 'sweep-lambda').binary).toEqual({
        machine: 'x86_64',
        linkage: 'dynamic',
        glibcRequired: expect.stringMatching(/^2\.\d+$/),
        glibcAvailable: '2.34',
        size: expect.any(Number),
      });
    }));

  it('architecture arm64 cross-builds a real AArch64 bootstrap in its own builder image, which an x86_64 function refuses', () =>
    withProject((project) => {
      const arm64 = metadataOf(project, 'sweep-arm64');
      expect(arm64.settings.target).toBe('aarch64-unknown-linux-gnu');
      expect(arm64.binary.machine).toBe('aarch64');
      expect(arm64.builderImage.tag).not.toBe(metadataOf(project, 'sweep-lambda').builderImage.tag);
      const zip = fs.readFileSync(path.join(project.dist, 'sweep-arm64.zip'));
      expect(() => verifyArtifact(zip, unzipSync(zip).bootstrap!, { architecture: 'x86_64', runtime: 'provided.al2023' })).toThrow(
        "verify: bootstrap is built for aarch64, but the function's architecture is x86_64 (needs x86_64); the zip was not committed, the previous one is unchanged",
      );
    }));

  it('the arm64 zip answers an invocation under an emulator, or says plainly that none is registered', () =>
    withProject(async (project) => {
      fs.writeFileSync(path.join(project.root, 'event.json'), '{"values": [1, 4, 9], "function": "sqrt"}');
      // The CLI reads the artifact's settings from cdktf.json, as the app does.
      fs.writeFileSync(
        path.join(project.root, 'cdktf.json'),
        JSON.stringify({ context: { sweep: { artifact: { architecture: 'arm64', name: 'sweep-arm64' } } } }),
      );
      const run = await runCli(['invoke', '--event', 'event.json'], { cwd: project.root, env: { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE } });
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
    }));

  it('a build on a newer base image whose glibc the runtime lacks is refused, and the previous zip and metadata stay', () =>
    withProject(async (project) => {
      const zip = fs.readFileSync(path.join(project.dist, 'sweep-lambda.zip'));
      const metadata = fs.readFileSync(path.join(project.dist, 'sweep-lambda.json'), 'utf8');
      // Debian bookworm (glibc 2.36) links against GLIBC_2.34 symbols; provided.al2 has glibc 2.26.
      const error = await build(project, { toolchainImage: NEWER_GLIBC_TOOLCHAIN_IMAGE, runtime: 'provided.al2' }).then(
        () => undefined,
        (e: unknown) => e as Error & { fix: string },
      );
      expect(error?.message).toMatch(
        /^verify: sweep-lambda: bootstrap needs GLIBC_2\.3\d, but provided\.al2 has glibc 2\.26; the zip was not committed, the previous one is unchanged$/,
      );
      expect(error?.fix).toBe(
        'build on an older base image (toolchain image rust:1-bullseye has glibc 2.31), or build a static binary with a musl target',
      );
      expect(Buffer.compare(fs.readFileSync(path.join(project.dist, 'sweep-lambda.zip')), zip)).toBe(0);
      expect(fs.readFileSync(path.join(project.dist, 'sweep-lambda.json'), 'utf8')).toBe(metadata);
      expect(fs.readdirSync(project.dist).sort()).toEqual(['sweep-arm64.json', 'sweep-arm64.zip', 'sweep-lambda.json', 'sweep-lambda.zip']);
    }));
});
