import * as fs from 'node:fs';
import { expect, it } from '@jest/globals';
import { describeWithS3, startS3Server } from './s3-server.js';
import { spawnTsChild } from './ts-child.js';

// The S3 test server must never outlive its tests: Ceph's three daemons hold about 125-200 MB.

/** Whether a process runs (a zombie, left to an init that does not reap, does not count). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

describeWithS3('the S3 test server (Ceph radosgw)', () => {
  it('stop kills every daemon it started and removes its folder; stopping again is harmless', async () => {
    const server = await startS3Server();
    const pids = server.pids();
    expect(pids).toHaveLength(3);
    expect(pids.every(running)).toBe(true);
    await server.stop();
    expect(pids.filter(running)).toEqual([]);
    expect(fs.existsSync(server.folder)).toBe(false);
    await server.stop();
  });

  it('a test process killed with SIGKILL leaves no daemon behind (its watchdog cleans up)', async () => {
    const child = spawnTsChild(
      { '{ startS3Server }': '__tests__/helpers/s3-server.ts' },
      `const server = await startS3Server();
       console.log(JSON.stringify({ folder: server.folder, pids: server.pids() }));
       setInterval(() => {}, 60_000); // until killed`,
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.process.stdout!.on('data', (chunk) => {
          out += chunk;
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.process.stderr!.on('data', (chunk) => {
          err += chunk;
        });
        child.process.on('exit', (code) => reject(new Error(`the child exited (${code}) before starting a server:\n${err}`)));
      });
      const { folder, pids } = JSON.parse(line) as { folder: string; pids: number[] };
      expect(pids).toHaveLength(3);
      expect(pids.every(running)).toBe(true);
      child.process.kill('SIGKILL');
      expect(await waitUntil(() => !pids.some(running) && !fs.existsSync(folder), 15_000)).toBe(true);
    } finally {
      child.process.kill('SIGKILL');
      child.remove();
    }
  });
});
