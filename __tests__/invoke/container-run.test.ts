// containerRunArgs: the confinement flags of an --in-container invoke.
import { describe, expect, it } from '@jest/globals';
import { containerRunArgs } from '../../invoke/container-run.js';

const input = {
  name: 'sweep-invoke-abc',
  image: 'sweep-builder:x',
  taskRoot: '/tmp/sweep-invoke-1',
  environment: { A: '1' },
  memorySize: 512,
  user: { uid: 1000, gid: 100 },
};

/** The value after `flag`, for flags given once. */
function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

describe('containerRunArgs', () => {
  it("runs as the given user, with the function's memory and no swap, no capabilities and no privilege gain", () => {
    const args = containerRunArgs(input);
    expect(flag(args, '--user')).toBe('1000:100');
    expect(flag(args, '--memory')).toBe('512m');
    expect(flag(args, '--memory-swap')).toBe('512m');
    expect(flag(args, '--cap-drop')).toBe('ALL');
    expect(flag(args, '--security-opt')).toBe('no-new-privileges');
    expect(flag(args, '--pids-limit')).toBe('1024');
    expect(flag(args, '--ulimit')).toBe('nofile=1024:1024');
    expect(args).toContain('--read-only');
    expect(flag(args, '--tmpfs')).toBe('/tmp:rw,exec,size=512m,mode=1777');
    expect(flag(args, '--name')).toBe('sweep-invoke-abc');
    expect(flag(args, '-v')).toBe('/tmp/sweep-invoke-1:/var/task:ro');
    expect(flag(args, '-e')).toBe('A=1');
    expect(args.slice(-2)).toEqual(['sweep-builder:x', '/var/task/bootstrap']);
  });

  it('keeps host networking (the Runtime API listens on 127.0.0.1 only) and omits --user where there are no uids', () => {
    const args = containerRunArgs({ ...input, user: undefined });
    expect(flag(args, '--network')).toBe('host');
    expect(args).not.toContain('--user');
  });
});
