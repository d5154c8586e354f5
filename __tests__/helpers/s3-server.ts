import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { withoutNodeVersionWarning } from '../../build/remote/store.js';
import { isAlive } from '../../build/support/processes.js';

/**
 * A real S3 server for tests: a single-node Ceph cluster (one monitor, one OSD on the memstore
 * object store, so the data lives in RAM) and Ceph's S3 gateway radosgw, on 127.0.0.1 and free
 * ports, all state in one fresh temp folder. Debian packages them
 * (`apt-get install --no-install-recommends radosgw ceph-mon ceph-osd`, Ceph 16). radosgw
 * checks Content-MD5 and answers `If-None-Match: *` with 412 like S3, which is what the remote
 * cache relies on; it does not check x-amz-checksum-* headers.
 *
 * No daemon outlives its test process: `describeWithS3` stops every server at the end of its
 * describe block, a watchdog per server kills its daemons when the test process ends in any
 * other way (even SIGKILL), and a new server first reaps daemons of servers whose owning process
 * and watchdog are both gone.
 */

/** The programs a server needs (ceph-mon, ceph-osd and radosgw, with ceph-common's tools). */
export const CEPH_PROGRAMS = ['ceph-mon', 'ceph-osd', 'radosgw', 'monmaptool', 'ceph', 'radosgw-admin'] as const;

export interface S3TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** The folder holding the cluster's configuration, logs and sockets. */
  readonly folder: string;
  /** Process ids of the daemons (monitor, OSD, gateway), for leak checks. */
  pids(): number[];
  /**
   * The environment a child process needs to use this server through the SDK's standard chain,
   * and nothing from the developer's own AWS setup (profile, config files, instance role).
   */
  env(): Record<string, string>;
  createBucket(name: string): Promise<void>;
  /** Another user (no access to the first user's buckets); keys derived from `uid`. */
  createUser(uid: string): Promise<{ accessKeyId: string; secretAccessKey: string }>;
  /** Every key in the bucket, sorted. */
  listKeys(bucket: string): Promise<string[]>;
  /** Writes an object unconditionally (no If-None-Match), e.g. to tamper with a cached object. */
  putRaw(bucket: string, key: string, body: Uint8Array, metadata?: Record<string, string>): Promise<void>;
  /** An object's bytes, or undefined when there is none. */
  getRaw(bucket: string, key: string): Promise<Uint8Array | undefined>;
  /** Stops the gateway (cleanly): its port then refuses connections (the data stays). */
  pause(): Promise<void>;
  /** Starts the gateway again on the same port and waits until it answers. */
  resume(): Promise<void>;
  /** Kills every daemon it started and removes the folder. Idempotent. */
  stop(): Promise<void>;
}

/** Whether the Ceph programs are on PATH; the reason when they are not. */
export function cephMissingReason(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const missing = CEPH_PROGRAMS.filter((program) => !dirs.some((dir) => isExecutable(path.join(dir, program))));
  if (missing.length === 0) return undefined;
  return `${missing.join(', ')} not installed (apt-get install --no-install-recommends radosgw ceph-mon ceph-osd)`;
}

/**
 * Like `describeWithDocker`: without the Ceph programs the suite is skipped (and reported as
 * skipped); with REQUIRE_S3=1 (CI sets it) it fails instead. Every server started inside the
 * block is stopped when the block ends, even if a test or a hook failed.
 */
export function describeWithS3(name: string, body: () => void): void {
  // Jest's globals, looked up only here, so that the server part of this file also runs outside
  // jest (a test starts a server in a child process and kills it; @jest/globals throws there).
  const { afterAll, describe, it } = globalThis as unknown as typeof import('@jest/globals');
  const missing = cephMissingReason();
  if (missing === undefined) {
    describe(name, () => {
      afterAll(stopAllS3Servers);
      body();
    });
  } else if (process.env.REQUIRE_S3 === '1') {
    describe(name, () => {
      it('needs a real S3 server (REQUIRE_S3=1)', () => {
        throw new Error(`REQUIRE_S3=1 but ${missing}; install them, or unset REQUIRE_S3 to skip`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: ${missing}; set REQUIRE_S3=1 to fail instead)`, body);
  }
}

const ACCESS_KEY_ID = 'SWEEPTESTACCESSKEY01';
const SECRET_ACCESS_KEY = 'sweep-test-secret-key-0000000000000000000';
const REGION = 'us-east-1';
const START_TIMEOUT_MS = 60_000;
const FOLDER_PREFIX = 'sweep-s3-';

const running = new Set<CephServer>();

/** Stops every server this process started (describeWithS3 calls it after each block). */
export async function stopAllS3Servers(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop()));
}

/** Starts a fresh server; fails with the daemons' log tails if it does not answer within 60 s. */
export async function startS3Server(): Promise<S3TestServer> {
  const missing = cephMissingReason();
  if (missing) throw new Error(`cannot start an S3 test server: ${missing}`);
  reapOrphans();
  const server = new CephServer(fs.mkdtempSync(path.join(os.tmpdir(), FOLDER_PREFIX)));
  running.add(server);
  try {
    await server.start(Date.now() + START_TIMEOUT_MS);
  } catch (error) {
    const logs = server.logTails();
    await server.stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`, { cause: error });
  }
  return server;
}

type Daemon = 'mon' | 'osd' | 'rgw';

class CephServer implements S3TestServer {
  readonly accessKeyId = ACCESS_KEY_ID;
  readonly secretAccessKey = SECRET_ACCESS_KEY;
  readonly region = REGION;
  endpoint = '';
  private readonly conf: string;
  private readonly daemons = new Map<Daemon, ChildProcess>();
  private rgwPort = 0;
  private client: S3Client | undefined;
  private watchdog: ChildProcess | undefined;
  private stopped = false;

  constructor(readonly folder: string) {
    this.conf = path.join(folder, 'ceph.conf');
  }

  async start(deadline: number): Promise<void> {
    fs.writeFileSync(path.join(this.folder, 'owner'), `${process.pid}\n`);
    this.startWatchdog();
    const [monPort, rgwPort] = await freePorts(2);
    this.rgwPort = rgwPort!;
    this.endpoint = `http://127.0.0.1:${rgwPort}`;
    const fsid = randomUUID();
    for (const dir of ['run', 'log', 'mon/a', 'osd/0']) fs.mkdirSync(path.join(this.folder, dir), { recursive: true });
    fs.writeFileSync(this.conf, cephConf(this.folder, fsid, monPort!));

    await this.tool(deadline, 'monmaptool', [
      '--create',
      '--add',
      'a',
      `127.0.0.1:${monPort}`,
      '--fsid',
      fsid,
      path.join(this.folder, 'monmap'),
    ]);
    await this.tool(deadline, 'ceph-mon', ['-c', this.conf, '--mkfs', '-i', 'a', '--monmap', path.join(this.folder, 'monmap')]);
    this.spawnDaemon('mon', 'ceph-mon', ['-c', this.conf, '-i', 'a', '-f']);
    // The OSD must be registered before it can boot; `osd crush update on start` then places
    // it under root=default by itself.
    await this.tool(deadline, 'ceph', ['-c', this.conf, '--connect-timeout', '20', 'osd', 'create']);
    await this.tool(deadline, 'ceph-osd', ['-c', this.conf, '-i', '0', '--mkfs']);
    this.spawnDaemon('osd', 'ceph-osd', ['-c', this.conf, '-i', '0', '-f']);
    // Creates the gateway's pools (waiting for the OSD to come up) and the test user.
    await this.tool(deadline, 'radosgw-admin', [
      '-c',
      this.conf,
      'user',
      'create',
      '--uid=sweep-test',
      '--display-name=sweep test',
      `--access-key=${ACCESS_KEY_ID}`,
      `--secret=${SECRET_ACCESS_KEY}`,
    ]);
    await this.startGateway(deadline);
  }

  pids(): number[] {
    return [...this.daemons.values()].map((child) => child.pid).filter((pid): pid is number => pid !== undefined);
  }

  env(): Record<string, string> {
    const none = path.join(this.folder, 'no-such-aws-file');
    return {
      AWS_ENDPOINT_URL_S3: this.endpoint,
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_REGION: REGION,
      // Keep the developer's own AWS setup out of the test: no profile, config or credentials
      // file, and no instance metadata lookup.
      AWS_CONFIG_FILE: none,
      AWS_SHARED_CREDENTIALS_FILE: none,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  async createBucket(name: string): Promise<void> {
    await this.s3().send(new CreateBucketCommand({ Bucket: name }));
  }

  async createUser(uid: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
    const accessKeyId = `SWEEP${uid.toUpperCase().replace(/[^A-Z0-9]/g, '')}`.padEnd(20, '0').slice(0, 20);
    const secretAccessKey = `secret-of-${uid}`.padEnd(40, '0');
    await this.tool(Date.now() + 30_000, 'radosgw-admin', [
      '-c',
      this.conf,
      'user',
      'create',
      `--uid=${uid}`,
      `--display-name=${uid}`,
      `--access-key=${accessKeyId}`,
      `--secret=${secretAccessKey}`,
    ]);
    return { accessKeyId, secretAccessKey };
  }

  async listKeys(bucket: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3().send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async putRaw(bucket: string, key: string, body: Uint8Array, metadata?: Record<string, string>): Promise<void> {
    const input: PutObjectCommandInput = { Bucket: bucket, Key: key, Body: body, ...(metadata ? { Metadata: metadata } : {}) };
    await this.s3().send(new PutObjectCommand(input));
  }

  async getRaw(bucket: string, key: string): Promise<Uint8Array | undefined> {
    try {
      const response = await this.s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await response.Body!.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async pause(): Promise<void> {
    const rgw = this.daemons.get('rgw');
    if (!rgw) return;
    this.daemons.delete('rgw');
    // A clean shutdown (SIGTERM, about 0.5 s here) removes the gateway's watches on its control
    // objects. After SIGKILL they linger for osd_client_watch_timeout (30 s), and the first bucket
    // created after `resume` waits for them to expire (measured: 28 s instead of 0.1 s).
    if (!(await kill(rgw, 'SIGTERM', 10_000))) await kill(rgw, 'SIGKILL');
    this.writePids();
    // Idle keep-alive connections of the helper's own client would point at the dead gateway.
    this.client?.destroy();
    this.client = undefined;
  }

  async resume(): Promise<void> {
    if (this.daemons.has('rgw')) return;
    await this.startGateway(Date.now() + START_TIMEOUT_MS);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    running.delete(this);
    this.client?.destroy();
    // The gateway first (it would otherwise wait for the monitor), then the rest. The data is in
    // RAM and the folder is removed, so nothing needs a clean shutdown: SIGKILL is enough.
    const order: Daemon[] = ['rgw', 'osd', 'mon'];
    for (const name of order) {
      const child = this.daemons.get(name);
      if (child) await kill(child, 'SIGKILL');
    }
    this.daemons.clear();
    this.watchdog?.stdin?.end('done\n');
    fs.rmSync(this.folder, { recursive: true, force: true });
  }

  logTails(): string {
    const logDir = path.join(this.folder, 'log');
    const parts: string[] = [];
    const files = fs.existsSync(logDir) ? fs.readdirSync(logDir).map((f) => path.join(logDir, f)) : [];
    for (const file of [
      ...files,
      ...fs
        .readdirSync(this.folder)
        .filter((f) => f.endsWith('.out'))
        .map((f) => path.join(this.folder, f)),
    ]) {
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-15);
      if (lines.join('').trim()) parts.push(`--- ${path.basename(file)} (last lines)\n${lines.join('\n')}`);
    }
    return parts.join('\n') || '(no daemon logs)';
  }

  private async startGateway(deadline: number): Promise<void> {
    this.spawnDaemon('rgw', 'radosgw', [
      '-c',
      this.conf,
      '-n',
      'client.rgw',
      '-f',
      // Without these two the gateway fails with "failed to fetch mon config".
      '--no-mon-config',
      '--ms-mon-client-mode=crc',
      '--ms-client-mode=crc',
      `--rgw-frontends=beast endpoint=127.0.0.1:${this.rgwPort}`,
    ]);
    for (;;) {
      const exited = [...this.daemons].find(([, child]) => child.exitCode !== null || child.signalCode !== null);
      if (exited) throw new Error(`S3 test server: ${exited[0]} exited (${exited[1].exitCode ?? exited[1].signalCode}) during start-up`);
      if ((await httpStatus(`${this.endpoint}/`)) === 200) return;
      if (Date.now() > deadline)
        throw new Error(`S3 test server: radosgw did not answer GET / at ${this.endpoint} within ${START_TIMEOUT_MS / 1000} s`);
      await sleep(100);
    }
  }

  private spawnDaemon(name: Daemon, program: string, args: string[]): void {
    const out = fs.openSync(path.join(this.folder, `${name}.out`), 'a');
    // Same process group as the test runner (Ctrl-C reaches the daemons too); unref'd so that a
    // forgotten server cannot keep jest alive: the exit handler then kills it.
    const child = spawn(program, args, { stdio: ['ignore', out, out], cwd: this.folder });
    fs.closeSync(out);
    child.on('error', () => {}); // reported by the start-up loop as an exit
    child.unref();
    this.daemons.set(name, child);
    this.writePids();
  }

  /**
   * A shell that waits for its stdin, a pipe from this process, to close: that happens when this
   * process ends in any way (a finished jest run, a crash, SIGKILL), and then it kills the
   * daemons listed in the folder and removes it. Jest's sandboxed `process` cannot be used
   * for this: exit listeners registered on it are never called. `stop` tells it "done" first.
   */
  private startWatchdog(): void {
    const script = [
      "trap '' INT TERM HUP", // Ctrl-C reaches the whole process group: outlive the runner
      'read line',
      '[ "$line" = done ] && exit 0',
      // Only pids whose command line still names this folder (never a reused pid).
      'for pid in $(cat "$1/pids" 2>/dev/null); do grep -qaF "$1" "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid"; done',
      'rm -rf "$1"',
    ].join('\n');
    const watchdog = spawn('sh', ['-c', script, 'sweep-s3-watchdog', this.folder], { stdio: ['pipe', 'ignore', 'ignore'] });
    watchdog.on('error', () => {});
    watchdog.stdin.on('error', () => {});
    // Neither the process nor the pipe may keep the test runner alive.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
    this.watchdog = watchdog;
  }

  private writePids(): void {
    fs.writeFileSync(path.join(this.folder, 'pids'), `${this.pids().join('\n')}\n`);
  }

  private async tool(deadline: number, program: string, args: string[]): Promise<void> {
    const remaining = deadline - Date.now();
    if (remaining <= 0)
      throw new Error(`S3 test server: no time left for ${program} (start-up is limited to ${START_TIMEOUT_MS / 1000} s)`);
    const result = await execa(program, args, { cwd: this.folder, timeout: remaining, reject: false, all: true });
    if (result.failed) {
      const why = result.timedOut
        ? `did not finish in time (start-up is limited to ${START_TIMEOUT_MS / 1000} s)`
        : `failed (${result.exitCode ?? result.signal})`;
      throw new Error(`S3 test server: ${program} ${args.filter((a) => !a.includes(this.folder)).join(' ')} ${why}:\n${result.all ?? ''}`);
    }
  }

  private s3(): S3Client {
    this.client ??= withoutNodeVersionWarning(
      () =>
        new S3Client({
          endpoint: this.endpoint,
          region: REGION,
          forcePathStyle: true,
          credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }),
    );
    return this.client;
  }
}

/**
 * Auth off, one replica, data in RAM, everything inside `folder`. `paxos propose interval`
 * (default 1 s) is how long the monitor batches map changes; each of the gateway's pools waits
 * for a few of them, so the default makes start-up take about 13 s and the first bucket 4.5 s,
 * and 0.05 s makes them about 3-5 s and 0.6-0.9 s (measured here).
 */
function cephConf(folder: string, fsid: string, monPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = 127.0.0.1:${monPort}
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms client mode = crc
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
paxos propose interval = 0.05
osd objectstore = memstore
memstore device bytes = 1073741824
run dir = ${folder}/run
admin socket = ${folder}/run/$name.$pid.asok
log file = ${folder}/log/$name.log
pid file = ${folder}/run/$name.pid
mon data = ${folder}/mon/$id
osd data = ${folder}/osd/$id
`;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Distinct free TCP ports on 127.0.0.1 (held open together so that they differ). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function httpStatus(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 1000, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

/** Sends `signal` and waits for the exit; with `timeoutMs`, resolves false if it has not exited by then. */
function kill(child: ChildProcess, signal: NodeJS.Signals, timeoutMs?: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
    child.kill(signal);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Kills the daemons of servers whose owning process is gone (a jest worker killed before its
 * clean-up ran) and removes their folders. A daemon is only killed if its command line still
 * names that server's folder, so a reused process id is never hit.
 */
function reapOrphans(): void {
  const tmp = os.tmpdir();
  for (const entry of fs.readdirSync(tmp)) {
    if (!entry.startsWith(FOLDER_PREFIX)) continue;
    const folder = path.join(tmp, entry);
    const owner = Number(readOr(path.join(folder, 'owner'), '').trim());
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
    for (const pid of readOr(path.join(folder, 'pids'), '')
      .split('\n')
      .map(Number)
      .filter((p) => Number.isInteger(p) && p > 0)) {
      if (readOr(`/proc/${pid}/cmdline`, '').includes(folder)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
    }
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
