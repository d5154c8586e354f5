import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, expect, it } from '@jest/globals';
import { execaSync } from 'execa';
import { ensureArtifact } from '../../build/engine/engine.js';
import { createRecordingOutput } from '../../build/support/reporter.js';
import { DOCKER, describeWithDocker } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';
import { artifactKey, buildContainersOf, engineOptions, FIXTURES, holdFile, removeBuildContainersOf, waitFor } from './support.js';

/**
 * Issue 13: build containers run untrusted code (build scripts, proc macros) and need nothing
 * but to read the sources, write the target folder and reach the registry. So they run as the
 * calling user with every capability dropped and no way to gain privileges (setuid binaries).
 * This catches a real build container mid-build (held in the trust-hold fixture's build script)
 * and asks Docker and the kernel what it runs with; the build then completes.
 */
describeWithDocker('trust: build containers run without capabilities', () => {
  let project: TestProject | undefined;
  let key: string | undefined;
  let release: (() => void) | undefined;
  let build: Promise<unknown> | undefined;
  afterEach(async () => {
    release?.();
    await build?.catch(() => undefined); // a failed assertion must not leave the build running
    if (key) removeBuildContainersOf(key);
    project?.remove();
  });

  it('GIVEN a build in progress WHEN its container is inspected THEN it has no capabilities and no-new-privileges, and the build succeeds', async () => {
    project = makeTestProject({ workspace: path.join(FIXTURES, 'trust-hold'), prefix: 'sweep-trust-caps-' });
    key = artifactKey(project.root, 'caps');
    const hold = holdFile(path.join(project.cache, 'cargo-target'));
    release = hold.release;
    hold.hold();
    const output = createRecordingOutput();

    const running = ensureArtifact(engineOptions(project.root, { name: 'caps' }), { output });
    build = running;
    const container = await waitFor('the build container to run', () => buildContainersOf(key!).find((c) => c.state === 'running'));

    // What Docker was asked for.
    const [inspected] = JSON.parse(execaSync(DOCKER, ['inspect', container.id]).stdout) as [
      {
        HostConfig: { CapDrop: string[] | null; CapAdd: string[] | null; SecurityOpt: string[] | null; Privileged: boolean };
        Config: { User: string };
      },
    ];
    expect((inspected.HostConfig.CapDrop ?? []).map((c) => c.toUpperCase())).toContain('ALL');
    expect(inspected.HostConfig.CapAdd ?? []).toEqual([]);
    expect(inspected.HostConfig.SecurityOpt ?? []).toContain('no-new-privileges');
    expect(inspected.HostConfig.Privileged).toBe(false);
    expect(inspected.Config.User).toBe(`${process.getuid!()}:${process.getgid!()}`);

    // What the kernel enforces on cargo (pid 1 in the container): no capability in any set.
    const status = execaSync(DOCKER, ['exec', container.id, 'cat', '/proc/1/status']).stdout;
    for (const set of ['CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
      expect(status).toMatch(new RegExp(`^${set}:\\s+0{16}$`, 'm'));
    }
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);

    hold.release();
    const result = await running;
    expect(result.outcome).toBe('cache-miss');
    expect(result.via).toBe('build');
    expect(fs.existsSync(result.zipPath)).toBe(true);
  });
});
