import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { sha256Hex } from '../helpers/hash.js';
import { copyWorkspace, EXAMPLE_WORKSPACE, projectAt, type TestProject } from '../helpers/project.js';
import type { S3TestServer } from '../helpers/s3-server.js';

/**
 * What the shared-cache integration tests have in common: projects that the CLI builds the way
 * an operator does (cdktf.json context, SWEEP_* environment), a template project built once per
 * file in both cargo cache domains, and the object keys of the shared cache.
 */

/** The function every project here builds: the example workspace's Lambda. */
export const NAME = 'sweep-lambda';
export const PREFIX = 'team/sweep';

/** What the CLI reads: one function, the example workspace's Lambda (cdktf.json context `sweep`). */
export const SWEEP_CONTEXT = { sweep: { artifact: { package: NAME } } };

/** A docker command that does not exist: a run that calls Docker with it fails. */
export const NO_DOCKER = '/nonexistent/docker';

/** The environment of a CLI run against `server`: the SDK's chain, the toolchain, the remote cache. */
export function remoteEnv(
  server: S3TestServer,
  remote: { url?: string; mode?: 'read' | 'read-write' | 'off' } = {},
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...server.env(),
    SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE,
    // Empty means "not set" for the engine (whatever the test runner's own environment holds):
    // no shared cache, and the default mode (read).
    SWEEP_REMOTE_CACHE: remote.url ?? '',
    SWEEP_REMOTE_CACHE_MODE: remote.mode ?? '',
    FORCE_REBUILD: '',
    ...extra,
  };
}

/** `<prefix>/v2/<fingerprint>.zip` or `.json`: where the shared cache keeps one build. */
export function objectKey(fingerprint: string, extension: 'zip' | 'json'): string {
  return `${PREFIX}/v2/${fingerprint}.${extension}`;
}

export { sha256Hex } from '../helpers/hash.js';

/** A new project folder holding a copy of the example workspace and the CLI's cdktf.json; no build output, no caches. */
export function freshProject(prefix = 'sweep-remote-'): TestProject {
  const project = projectAt(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  copyWorkspace(EXAMPLE_WORKSPACE, project.workspace);
  fs.writeFileSync(path.join(project.root, 'cdktf.json'), JSON.stringify({ context: SWEEP_CONTEXT }, null, 2));
  return project;
}

/** A project's zip, metadata text and the names in its dist folder. */
export const distZip = (project: TestProject) => fs.readFileSync(path.join(project.dist, `${NAME}.zip`));
export const distMetadata = (project: TestProject) => JSON.parse(fs.readFileSync(path.join(project.dist, `${NAME}.json`), 'utf8'));
export const distEntries = (project: TestProject) => (fs.existsSync(project.dist) ? fs.readdirSync(project.dist).sort() : []);

/** Which dist folder a copy of the template starts with. */
export type DistState = 'none' | 'local' | 'publish';

/**
 * The example workspace built once per test file, by the CLI, in both cargo cache domains: an
 * everyday build (remote cache mode read: `.cache/cargo-target`) and a publishing build (mode
 * read-write: `.cache/publish/cargo-target`), whose dist folders are kept apart. A test takes a
 * copy (timestamps preserved, so cargo finds every crate fresh and a "build" costs a container
 * start) with the dist folder it needs.
 */
export interface Template {
  /** The everyday build's zip: what any local build of these sources gives. */
  readonly zip: Buffer;
  /** The publishing build's metadata, as the shared cache stores it. */
  readonly metadataText: string;
  readonly fingerprint: string;
  copy(dist: DistState, prefix?: string): TestProject;
  /** Puts the publishing build in `bucket` as a publishing build does (zip with its sha256, then metadata). */
  seed(server: S3TestServer, bucket: string): Promise<void>;
  remove(): void;
}

export async function buildTemplate(server: S3TestServer): Promise<Template> {
  const project = freshProject('sweep-remote-template-');
  try {
    // The everyday build: no shared cache configured at all.
    const local = await runCli(['build'], { cwd: project.root, env: remoteEnv(server) });
    if (local.exitCode !== 0) throw new Error(`template: the everyday build failed:\n${local.stdout}\n${local.stderr}`);
    fs.renameSync(project.dist, path.join(project.root, 'dist-local'));
    // The publishing build uploads to a bucket no test uses.
    await server.createBucket('template');
    const publish = await runCli(['build'], {
      cwd: project.root,
      env: remoteEnv(server, { url: `s3://template/${PREFIX}`, mode: 'read-write' }),
    });
    if (publish.exitCode !== 0 || !publish.stdout.includes('remote: uploaded'))
      throw new Error(`template: the publishing build failed:\n${publish.stdout}\n${publish.stderr}`);
    fs.renameSync(project.dist, path.join(project.root, 'dist-publish'));
  } catch (error) {
    project.remove();
    throw error;
  }
  const zip = fs.readFileSync(path.join(project.root, 'dist-local', `${NAME}.zip`));
  const metadataText = fs.readFileSync(path.join(project.root, 'dist-publish', `${NAME}.json`), 'utf8');
  const fingerprint: string = JSON.parse(metadataText).fingerprint;
  return {
    zip,
    metadataText,
    fingerprint,
    copy(dist, prefix = 'sweep-remote-') {
      const copy = projectAt(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
      fs.cpSync(project.root, copy.root, {
        recursive: true,
        preserveTimestamps: true,
        verbatimSymlinks: true,
        filter: (source) => !['dist-local', 'dist-publish'].includes(path.relative(project.root, source)),
      });
      if (dist !== 'none') {
        fs.cpSync(path.join(project.root, `dist-${dist}`), copy.dist, { recursive: true, preserveTimestamps: true });
      }
      return copy;
    },
    async seed(target, bucket) {
      const publishedZip = fs.readFileSync(path.join(project.root, 'dist-publish', `${NAME}.zip`));
      await target.putRaw(bucket, objectKey(fingerprint, 'zip'), publishedZip, { sha256: sha256Hex(publishedZip) });
      await target.putRaw(bucket, objectKey(fingerprint, 'json'), new TextEncoder().encode(metadataText));
    },
    remove: () => project.remove(),
  };
}

/**
 * An HTTP proxy in front of the S3 server that forwards every request unchanged (the Host header
 * too, so the SigV4 signature still matches) but, for the first GET of a `.zip` object, sends the
 * headers and half the body and then holds the connection open: a download caught mid-way, for
 * as long as the test wants. `stalled` resolves at that moment.
 */
export interface StallingProxy {
  readonly endpoint: string;
  readonly stalled: Promise<{ sent: number; total: number }>;
  close(): Promise<void>;
}

export async function startStallingProxy(target: string): Promise<StallingProxy> {
  const upstream = new URL(target);
  let onStall!: (value: { sent: number; total: number }) => void;
  const stalled = new Promise<{ sent: number; total: number }>((resolve) => {
    onStall = resolve;
  });
  let stalledOnce = false;
  const server = http.createServer((request, response) => {
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        const isZip = request.method === 'GET' && /\.zip(\?|$)/.test(request.url ?? '') && answer.statusCode === 200;
        if (!isZip || stalledOnce) {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
          return;
        }
        stalledOnce = true;
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          response.writeHead(answer.statusCode!, answer.headers);
          const half = Math.floor(body.length / 2);
          response.write(body.subarray(0, half), () => onStall({ sent: half, total: body.length }));
          // ... and nothing more: the client waits for the rest until it is killed.
        });
      },
    );
    forward.on('error', () => response.destroy());
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stalled,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
