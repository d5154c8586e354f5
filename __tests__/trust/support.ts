import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execaSync } from 'execa';
import { unzipSync } from 'fflate';
import { artifactPaths } from '../../build/cache/paths.js';
import { type Environment, resolveArtifactOptions } from '../../build/options/resolve.js';
import type { ArtifactOptions } from '../../build/options/schema.js';
import { startCli } from '../helpers/cli.js';
import { DOCKER, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { REPO_ROOT } from '../helpers/project.js';

/** Shared pieces of the trust tests (issues 12 and 13): fixtures, the CLI, Docker labels, zips. */

export const FIXTURES = path.join(REPO_ROOT, '__tests__', 'fixtures', 'workspaces');
/**
 * The artifact the CLI builds in a project of the trust-hold fixture without cdktf.json: the one
 * function, whose artifact is named after its package.
 */
export const CLI_ARTIFACT = 'trust-hold';
/** The builder-image repository of tests that make or remove builder images (the engine is shared). */
export const OWN_BUILDER_REPOSITORY = 'sweep-test-trust';

/** The environment an in-process engine run sees: only what the test gives, plus the docker command. */
export function engineEnv(extra: Record<string, string> = {}): Environment {
  return { ...(process.env.SWEEP_DOCKER ? { SWEEP_DOCKER: process.env.SWEEP_DOCKER } : {}), ...extra };
}

export function engineOptions(projectRoot: string, options: ArtifactOptions = {}, env: Record<string, string> = {}) {
  return resolveArtifactOptions({ projectRoot, toolchainImage: TOOLCHAIN_IMAGE, ...options }, { env: engineEnv(env) });
}

/** The key the engine labels this artifact's build containers with (`org.sweep.artifact.<key>`). */
export function artifactKey(projectRoot: string, name: string): string {
  return artifactPaths(resolveArtifactOptions({ projectRoot, name }, { env: {} }), name).key;
}

/** Starts `sweep-runtime <args>` in `cwd` with the test toolchain image (see helpers/cli.ts). */
export function startSweep(args: readonly string[], cwd: string, env: Record<string, string> = {}, killAfterMs?: number) {
  return startCli(args, { cwd, env: { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE, ...env }, killAfterMs });
}

export interface LabelledContainer {
  readonly id: string;
  readonly state: string;
  /** `host:pid:start` of the process that started it. */
  readonly owner: string;
  readonly pid: number;
}

/** Every container (running or not) labelled as a build container of this artifact. */
export function buildContainersOf(key: string): LabelledContainer[] {
  const { stdout } = execaSync(DOCKER, [
    'ps',
    '-a',
    '--filter',
    `label=org.sweep.artifact.${key}`,
    '--format',
    '{{.ID}}\t{{.State}}\t{{.Label "org.sweep.owner"}}',
  ]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id = '', state = '', owner = ''] = line.split('\t');
      return { id, state, owner, pid: Number(owner.split(':')[1]) };
    });
}

/** Removes this artifact's build containers: a test's own, left if it failed half-way. */
export function removeBuildContainersOf(key: string): void {
  for (const container of buildContainersOf(key)) execaSync(DOCKER, ['rm', '-f', container.id], { reject: false });
}

/**
 * Polls `probe` until it returns something; a bound on a wait for Docker, not an assertion on
 * time: past `limitMs` it fails naming what it waited for.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined, limitMs = 180_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() - started > limitMs) throw new Error(`gave up waiting for ${what}`);
    await sleep(250);
  }
}

/**
 * The file that holds a build of the trust-hold fixture in its build script while it exists
 * (see its build.rs): in the cargo target folder, which the container sees at /cache/target.
 */
export function holdFile(cargoTarget: string): { readonly path: string; hold(): void; release(): void } {
  const file = path.join(cargoTarget, 'sweep-hold');
  return {
    path: file,
    hold: () => {
      fs.mkdirSync(cargoTarget, { recursive: true });
      fs.writeFileSync(file, 'held by a test\n');
    },
    release: () => fs.rmSync(file, { force: true }),
  };
}

/** The `bootstrap` binary inside a Lambda zip. */
export function bootstrapOf(zip: Uint8Array): Buffer {
  const entry = unzipSync(zip).bootstrap;
  if (!entry) throw new Error('the zip has no bootstrap entry');
  return Buffer.from(entry);
}

/** A local TCP port nothing listens on: an S3 endpoint that refuses every connection at once. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Every path under `root`, relative, without following symlinks (they are listed, not entered). */
export function listTree(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).map((p) => p.split(path.sep).join('/')).sort();
}
