import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { builtBinaryPath, unitKey } from '../../../build/builder/compile.js';
import { groupIntoBatches } from '../../../build/engine/build-misses.js';
import { checkAllOrThrow } from '../../../build/engine/engine.js';
import { artifactsFailed } from '../../../build/engine/errors.js';
import { type Environment, resolveArtifactOptions } from '../../../build/options/resolve.js';
import type { ArtifactOptions } from '../../../build/options/schema.js';
import { SweepError } from '../../../build/support/errors.js';

/**
 * Which misses may share a builder container (groupIntoBatches), on real cache checks of the
 * multi-function fixture: no Docker, the checks only read files. A batch is then split into
 * cargo runs by features and binary names (cargo-runs.test.ts); here only what makes the
 * container setup differ may separate functions.
 */
const FIXTURES = fileURLToPath(new URL('../../fixtures/workspaces/', import.meta.url));
const FUNCTIONS = ['api', 'worker', 'scheduler', 'reporter'] as const;

let project: string;
beforeAll(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-batches-'));
  fs.cpSync(path.join(FIXTURES, 'multi-function'), path.join(project, 'rust'), { recursive: true });
  fs.cpSync(path.join(FIXTURES, 'feature-unification'), path.join(project, 'other'), { recursive: true });
});
afterAll(() => {
  fs.rmSync(project, { recursive: true, force: true });
});

/** Options of one fixture function; `name` is the package and its binary. */
function fn(name: string, extra: ArtifactOptions = {}, env: Environment = {}) {
  return resolveArtifactOptions(
    { projectRoot: project, package: name, binary: name, name, toolchainImage: 'rust:1-bullseye', ...extra },
    { env: { SWEEP_DOCKER: '/nonexistent/docker-that-must-not-run', ...env } },
  );
}

function batchNames(list: ReturnType<typeof fn>[]): string[][] {
  return groupIntoBatches(checkAllOrThrow(list)).map((batch) => batch.map((check) => check.name));
}

describe('groupIntoBatches', () => {
  it('GIVEN four functions with the same settings THEN one batch, in the order given', () => {
    expect(batchNames([fn('scheduler'), fn('api'), fn('reporter'), fn('worker')])).toEqual([['scheduler', 'api', 'reporter', 'worker']]);
  });

  it('GIVEN x86_64 and arm64 functions THEN a batch per architecture (another target and builder image), first seen first', () => {
    const list = [fn('api', { architecture: 'arm64' }), fn('worker'), fn('scheduler', { architecture: 'arm64' }), fn('reporter')];
    expect(batchNames(list)).toEqual([
      ['api', 'scheduler'],
      ['worker', 'reporter'],
    ]);
  });

  it('GIVEN another profile THEN a batch of its own (one cargo run has one --profile)', () => {
    const list = FUNCTIONS.map((name) => fn(name, name === 'worker' ? { profile: 'dev' } : {}));
    expect(batchNames(list)).toEqual([['api', 'scheduler', 'reporter'], ['worker']]);
  });

  it('GIVEN another toolchain image THEN a batch of its own', () => {
    const list = FUNCTIONS.map((name) => fn(name, name === 'reporter' ? { toolchainImage: 'sweep-local/rust:bookworm' } : {}));
    expect(batchNames(list)).toEqual([['api', 'worker', 'scheduler'], ['reporter']]);
  });

  it('GIVEN a build variable THEN a batch of its own (it is passed into the container)', () => {
    const list = [fn('api'), fn('worker', {}, { RUSTFLAGS: '-C opt-level=1' })];
    expect(batchNames(list)).toEqual([['api'], ['worker']]);
  });

  it('GIVEN another workspace, cache folder or trust domain THEN separate batches (another mount or target folder)', () => {
    const list = [
      fn('api'),
      fn('fn-a', { workspace: 'other' }),
      fn('worker', { cacheDir: '.other-cache' }),
      fn('scheduler', { remoteCache: { url: 's3://bucket/prefix', mode: 'read-write' } }),
      fn('reporter', { remoteCache: { url: 's3://bucket/prefix', mode: 'read' } }),
    ];
    // A read-only shared cache builds in the local domain, with the local target folder.
    expect(batchNames(list)).toEqual([['api', 'reporter'], ['fn-a'], ['worker'], ['scheduler']]);
  });

  it('GIVEN settings that do not reach the container (runtime, features, name, dist folder) THEN one batch', () => {
    const list = [
      fn('api', { runtime: 'provided.al2' }),
      fn('worker', { distDir: 'elsewhere' }),
      fn('scheduler', { name: 'cron' }),
      fn('reporter'),
    ];
    expect(batchNames(list)).toEqual([['api', 'worker', 'cron', 'reporter']]);
    const features = [fn('fn-a', { workspace: 'other' }), fn('fn-e', { workspace: 'other', features: ['extra'] })];
    expect(batchNames(features)).toEqual([['fn-a', 'fn-e']]);
  });

  it('GIVEN nothing THEN no batch', () => {
    expect(groupIntoBatches([])).toEqual([]);
  });
});

describe('builtBinaryPath', () => {
  const triple = 'x86_64-unknown-linux-gnu';
  it.each([
    ['release', 'release'],
    ['dev', 'debug'],
    ['test', 'debug'],
    ['bench', 'release'],
    ['lambda-small', 'lambda-small'],
  ])('profile %s -> <target>/<triple>/%s/<binary>', (profile, folder) => {
    expect(builtBinaryPath('/cache/target', { profile, targetTriple: triple }, 'api')).toBe(
      path.join('/cache/target', triple, folder, 'api'),
    );
  });
});

describe('unitKey', () => {
  it('tells apart package, binary and features, so two artifacts share a binary only when all three agree', () => {
    const keys = [
      unitKey({ package: 'api', binary: 'api', features: [] }),
      unitKey({ package: 'api', binary: 'api-admin', features: [] }),
      unitKey({ package: 'fn-d', binary: 'api', features: [] }),
      unitKey({ package: 'api', binary: 'api', features: ['loud'] }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(unitKey({ package: 'api', binary: 'api', features: [] })).toBe(keys[0]);
  });
});

describe('artifactsFailed', () => {
  const verify = new SweepError({ stage: 'verify', problem: 'bootstrap needs GLIBC_2.28', fix: 'build on an older image' });
  const compile = new SweepError({ stage: 'compile', problem: 'cargo build failed', fix: 'fix the error', details: 'error[E0425]' });

  it('GIVEN one failure THEN its own error, prefixed with the function', () => {
    const error = artifactsFailed(new Map([['worker', verify]]));
    expect(error.stage).toBe('verify');
    expect(error.problem).toBe('worker: bootstrap needs GLIBC_2.28');
    expect(error.fix).toBe('build on an older image');
  });

  it('GIVEN several failures THEN one error naming each function and stage, saying the others are committed', () => {
    const error = artifactsFailed(
      new Map([
        ['worker', verify],
        ['api', compile],
      ]),
    );
    expect(error.problem).toBe('2 artifacts failed: worker (verify), api (compile); the others are committed');
    expect(error.details).toContain('[worker] error (verify): bootstrap needs GLIBC_2.28');
    expect(error.details).toContain('[api] error (compile): cargo build failed');
  });
});
