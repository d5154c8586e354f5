// `invoke --in-container`: bootstrap runs confined (not root, memory-limited, no capabilities,
// no privilege gain, read-only code), and its container never outlives the invocation.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { invokeLocally, type LocalInvokeRequest } from '../../invoke/local-invoke.js';
import { DOCKER, describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { fakeMetadata } from './fake-runtime.js';
import { makeZip, tempFiles } from './zip-fixtures.js';

/** Reports what it can see about its own confinement, then exits (or hangs, if asked to). */
const PROBE = `#!/bin/sh
echo "uid=$(id -u) gid=$(id -g)"
grep -E '^(CapEff|NoNewPrivs):' /proc/self/status | tr -d '\\t'
echo "memory=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
echo "nofile=$(ulimit -n)"
touch /tmp/probe && echo tmp-writable
touch /var/task/probe 2>/dev/null || echo task-read-only
touch /probe 2>/dev/null || echo root-read-only
echo "log-group=$AWS_LAMBDA_LOG_GROUP_NAME"
if [ "$PROBE_MODE" = hang ]; then exec sleep 600; fi
`;

describeWithDocker('invoke in the builder container', () => {
  let files: ReturnType<typeof tempFiles>;
  beforeEach(() => {
    files = tempFiles();
  });
  afterEach(() => files.cleanup());

  async function probe(overrides: Partial<LocalInvokeRequest> = {}): Promise<{ lines: string[]; kind: string }> {
    const lines: string[] = [];
    const { outcome, ranOn } = await invokeLocally({
      zipPath: files.write('probe.zip', makeZip({ bootstrap: PROBE })),
      // What a forged download's metadata said: it must never reach `docker run`.
      metadata: fakeMetadata('--privileged'),
      builderImage: TOOLCHAIN_IMAGE,
      event: '{}',
      timeoutMs: 30_000,
      functionName: 'probe',
      memorySize: 128,
      region: 'eu-west-1',
      environment: {},
      inContainer: true,
      dockerCommand: DOCKER,
      onLog: (line) => lines.push(line),
      ...overrides,
    });
    expect(ranOn).toBe(TOOLCHAIN_IMAGE);
    return { lines, kind: outcome.kind };
  }

  it("runs bootstrap in the configured image (not the metadata's tag, --privileged), as the calling user with the function's memory, no capabilities and no privilege gain", async () => {
    const { lines, kind } = await probe();
    expect(kind).toBe('exited');
    expect(lines).toEqual([
      `uid=${process.getuid?.()} gid=${process.getgid?.()}`,
      'CapEff:0000000000000000',
      'NoNewPrivs:1',
      `memory=${128 * 1024 * 1024}`,
      'nofile=1024',
      'tmp-writable',
      'task-read-only',
      'root-read-only',
      'log-group=/aws/lambda/probe',
    ]);
  });

  it('runs bootstrap as another user when asked (not root, even when the caller is)', async () => {
    const { lines } = await probe({ runAs: { uid: 4242, gid: 4242 } });
    expect(lines[0]).toBe('uid=4242 gid=4242');
    expect(lines).toContain('tmp-writable');
  });

  it('removes the container of a bootstrap that never asks for the event', async () => {
    const token = randomBytes(8).toString('hex');
    const { kind } = await probe({ initTimeoutMs: 2_000, environment: { PROBE_MODE: 'hang', PROBE_TOKEN: token } });
    expect(kind).toBe('init-timeout');
    const ids = (await execa(DOCKER, ['ps', '-aq', '--filter', 'name=sweep-invoke-'])).stdout.split('\n').filter(Boolean);
    const envs = await Promise.all(ids.map((id) => execa(DOCKER, ['inspect', '--format', '{{json .Config.Env}}', id], { reject: false })));
    expect(envs.filter((e) => e.stdout.includes(token))).toEqual([]);
  });
});
