import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { optionHint } from '../../../build/options/origin.js';
import { type Environment, isBuildEnvName, resolveArtifactOptions } from '../../../build/options/resolve.js';
import { type ArtifactOptions, artifactOptionsSchema } from '../../../build/options/schema.js';
import { generateKeyPair } from '../../../build/remote/keys.js';
import { parseAppConfig } from '../../../config/app-config.js';
import { sweepError } from '../../helpers/errors.js';

// Every test passes its own environment object: the host's variables (a developer's RUSTFLAGS,
// a CI's FORCE_REBUILD) must not leak into what is asserted.
const PROJECT = path.resolve('/projects/sweep');
const resolve = (options: ArtifactOptions = {}, env: Environment = {}) =>
  resolveArtifactOptions({ projectRoot: PROJECT, ...options }, { env });

/** The SweepError `run` throws; fails the test when it throws nothing or something else. */

const FORCE_EXPECTED = '1 or true to force a rebuild; 0, false or empty for none';

describe('resolveArtifactOptions: defaults', () => {
  it('fills every default, with absolute paths under the project root', () => {
    // GIVEN no options and an empty environment
    // WHEN they are resolved
    const resolved = resolve();
    // THEN each default is the documented one
    expect(resolved).toEqual({
      projectRoot: PROJECT,
      workspace: path.join(PROJECT, 'rust'),
      package: undefined,
      binary: 'bootstrap',
      name: undefined,
      architecture: 'x86_64',
      targetTriple: 'x86_64-unknown-linux-gnu',
      runtime: 'provided.al2023',
      profile: 'release',
      features: [],
      toolchainImage: 'rust:1-bullseye',
      pullPolicy: 'if-missing',
      forceRebuild: false,
      distDir: path.join(PROJECT, 'dist'),
      cacheDir: path.join(PROJECT, '.cache'),
      remoteCache: undefined,
      dockerCommand: 'docker',
      builderRepository: 'sweep-builder',
      buildEnv: {},
      sources: {
        forceRebuild: undefined,
        pullPolicy: 'the default',
        toolchainImage: 'the default',
        remoteCache: undefined,
        remoteCacheMode: 'the default',
        trustedKeys: undefined,
      },
      origin: { kind: 'props', label: 'artifact options' },
    });
  });

  it('resolves the project root against the current directory when it is not given', () => {
    // GIVEN no projectRoot at all
    const resolved = resolveArtifactOptions({}, { env: {} });
    // THEN the current directory is the root, and every path is absolute
    expect(resolved.projectRoot).toBe(process.cwd());
    expect(resolved.workspace).toBe(path.join(process.cwd(), 'rust'));
    expect(path.isAbsolute(resolved.distDir)).toBe(true);
    expect(path.isAbsolute(resolved.cacheDir)).toBe(true);
  });

  it('maps arm64 to the aarch64 GNU target triple', () => {
    expect(resolve({ architecture: 'arm64' })).toMatchObject({ architecture: 'arm64', targetTriple: 'aarch64-unknown-linux-gnu' });
  });

  it('maps x86_64 to the x86_64 GNU target triple', () => {
    expect(resolve({ architecture: 'x86_64' })).toMatchObject({ architecture: 'x86_64', targetTriple: 'x86_64-unknown-linux-gnu' });
  });

  it('resolves relative workspace, dist and cache folders against the project root, and keeps absolute ones', () => {
    // GIVEN relative and absolute folders
    const absoluteCache = path.resolve('/var/cache/sweep');
    const resolved = resolve({ workspace: 'native/rust', distDir: 'out', cacheDir: absoluteCache });
    // THEN relative ones are under the project root, the absolute one is kept
    expect(resolved.workspace).toBe(path.join(PROJECT, 'native', 'rust'));
    expect(resolved.distDir).toBe(path.join(PROJECT, 'out'));
    expect(resolved.cacheDir).toBe(absoluteCache);
  });

  it('keeps the given package, binary, name, runtime and profile', () => {
    expect(resolve({ package: 'sweep-lambda', binary: 'handler', name: 'sweep', runtime: 'provided.al2', profile: 'dev' })).toMatchObject({
      package: 'sweep-lambda',
      binary: 'handler',
      name: 'sweep',
      runtime: 'provided.al2',
      profile: 'dev',
    });
  });

  it('de-duplicates and sorts the features, so their order does not change the fingerprint', () => {
    // GIVEN features in arbitrary order with a duplicate
    const resolved = resolve({ features: ['trace', 'metrics', 'trace', 'serde/derive'] });
    // THEN each appears once, sorted by code point
    expect(resolved.features).toEqual(['metrics', 'serde/derive', 'trace']);
  });
});

describe('resolveArtifactOptions: force rebuild from the environment', () => {
  it.each([
    [{ FORCE_REBUILD: '1' }, 'FORCE_REBUILD=1'],
    [{ FORCE_REBUILD: 'true' }, 'FORCE_REBUILD=true'],
    [{ FORCE_REBUILD: 'TRUE' }, 'FORCE_REBUILD=TRUE'],
    [{ SWEEP_FORCE_REBUILD: '1' }, 'SWEEP_FORCE_REBUILD=1'],
    [{ SWEEP_FORCE_REBUILD: 'true' }, 'SWEEP_FORCE_REBUILD=true'],
  ])('%j forces a rebuild and names itself as %s', (env, source) => {
    // GIVEN the variable set to a true value
    const resolved = resolve({}, env);
    // THEN the rebuild is forced and the cache-miss line can say why
    expect(resolved.forceRebuild).toBe(true);
    expect(resolved.sources.forceRebuild).toBe(source);
  });

  it.each([
    [{ FORCE_REBUILD: '0' }],
    [{ FORCE_REBUILD: 'false' }],
    [{ FORCE_REBUILD: '' }],
    [{ SWEEP_FORCE_REBUILD: '0' }],
    [{ SWEEP_FORCE_REBUILD: 'FALSE' }],
  ])('%j does not force a rebuild', (env) => {
    const resolved = resolve({}, env);
    expect(resolved.forceRebuild).toBe(false);
    expect(resolved.sources.forceRebuild).toBeUndefined();
  });

  it('forces when one variable is true and the other false, whichever order they come in', () => {
    expect(resolve({}, { FORCE_REBUILD: '0', SWEEP_FORCE_REBUILD: '1' })).toMatchObject({
      forceRebuild: true,
      sources: expect.objectContaining({ forceRebuild: 'SWEEP_FORCE_REBUILD=1' }),
    });
    expect(resolve({}, { FORCE_REBUILD: '1', SWEEP_FORCE_REBUILD: '0' })).toMatchObject({
      forceRebuild: true,
      sources: expect.objectContaining({ forceRebuild: 'FORCE_REBUILD=1' }),
    });
  });

  it.each(['yes', '2', 'on'])('FORCE_REBUILD=%s is an error naming the variable, the value and the accepted values', (value) => {
    // GIVEN a value that is neither true nor false
    const error = sweepError(() => resolve({}, { FORCE_REBUILD: value }));
    // THEN the whole message says which variable, what it got and what it accepts
    expect(error.stage).toBe('config');
    expect(error.message).toBe(`config: invalid environment:\n  FORCE_REBUILD: got "${value}"; expected ${FORCE_EXPECTED}`);
    expect(error.fix).toBe('fix or unset the variables above');
  });

  it('reports both force variables when both are bad', () => {
    const error = sweepError(() => resolve({}, { FORCE_REBUILD: 'yes', SWEEP_FORCE_REBUILD: '2' }));
    expect(error.message).toBe(
      `config: invalid environment:\n  FORCE_REBUILD: got "yes"; expected ${FORCE_EXPECTED}\n  SWEEP_FORCE_REBUILD: got "2"; expected ${FORCE_EXPECTED}`,
    );
  });

  it("names the forceRebuild option with the caller's label when the option forces the rebuild", () => {
    // GIVEN the option, not the environment, asks for a rebuild
    const resolved = resolveArtifactOptions({ projectRoot: PROJECT, forceRebuild: true }, { env: {}, forceLabel: '--force' });
    // THEN the source is the caller's label
    expect(resolved).toMatchObject({ forceRebuild: true, sources: expect.objectContaining({ forceRebuild: '--force' }) });
    // AND the default label is "forceRebuild option"
    expect(resolve({ forceRebuild: true })).toMatchObject({
      forceRebuild: true,
      sources: expect.objectContaining({ forceRebuild: 'forceRebuild option' }),
    });
  });

  it('lets FORCE_REBUILD=1 win over forceRebuild: false in the options', () => {
    expect(resolve({ forceRebuild: false }, { FORCE_REBUILD: '1' })).toMatchObject({
      forceRebuild: true,
      sources: expect.objectContaining({ forceRebuild: 'FORCE_REBUILD=1' }),
    });
  });

  it('lets FORCE_REBUILD=0 win over forceRebuild: true in the options', () => {
    // GIVEN the code asks for a rebuild but the operator says FORCE_REBUILD=0
    const resolved = resolve({ forceRebuild: true }, { FORCE_REBUILD: '0' });
    // THEN the environment wins: no rebuild is forced
    expect(resolved.forceRebuild).toBe(false);
  });

  // Regression (fixed bug in build/options/schema.ts, `forceSource:` line in resolveArtifactOptions): when the environment
  // turns force off, forceSource still names the option ("forceRebuild option"), so the resolved
  // options say "not forced" and "forced by the option" at once.
  it('has no force source when the environment turns off a rebuild the options asked for', () => {
    const resolved = resolve({ forceRebuild: true }, { FORCE_REBUILD: '0' });
    expect(resolved).toMatchObject({ forceRebuild: false, sources: expect.objectContaining({ forceRebuild: undefined }) });
  });
});

describe('resolveArtifactOptions: other environment overrides', () => {
  it.each(['always', 'if-missing', 'never'] as const)('SWEEP_DOCKER_PULL_POLICY=%s beats the option', (policy) => {
    const other = policy === 'never' ? 'always' : 'never';
    expect(resolve({ pullPolicy: other }, { SWEEP_DOCKER_PULL_POLICY: policy }).pullPolicy).toBe(policy);
  });

  it('an empty SWEEP_DOCKER_PULL_POLICY is unset: the option applies', () => {
    expect(resolve({ pullPolicy: 'never' }, { SWEEP_DOCKER_PULL_POLICY: '' }).pullPolicy).toBe('never');
  });

  it('a bad SWEEP_DOCKER_PULL_POLICY is an error listing the three policies', () => {
    const error = sweepError(() => resolve({}, { SWEEP_DOCKER_PULL_POLICY: 'sometimes' }));
    expect(error.message).toBe(
      'config: invalid environment:\n  SWEEP_DOCKER_PULL_POLICY: got "sometimes"; expected one of always, if-missing, never',
    );
    expect(error.fix).toBe('fix or unset the variables above');
  });

  it('reports a bad force variable and a bad pull policy together', () => {
    const error = sweepError(() => resolve({}, { FORCE_REBUILD: 'yes', SWEEP_DOCKER_PULL_POLICY: 'Always' }));
    expect(error.message).toBe(
      `config: invalid environment:\n  FORCE_REBUILD: got "yes"; expected ${FORCE_EXPECTED}\n  SWEEP_DOCKER_PULL_POLICY: got "Always"; expected one of always, if-missing, never`,
    );
  });

  it('SWEEP_TOOLCHAIN_IMAGE beats the toolchainImage option', () => {
    expect(resolve({ toolchainImage: 'rust:1.80-bullseye' }, { SWEEP_TOOLCHAIN_IMAGE: 'sweep-local/rust:1' }).toolchainImage).toBe(
      'sweep-local/rust:1',
    );
    expect(resolve({ toolchainImage: 'rust:1.80-bullseye' }).toolchainImage).toBe('rust:1.80-bullseye');
  });

  it('SWEEP_DOCKER names the docker command', () => {
    expect(resolve({}, { SWEEP_DOCKER: '/usr/local/bin/podman' }).dockerCommand).toBe('/usr/local/bin/podman');
    expect(resolve({}, { SWEEP_DOCKER: '   ' }).dockerCommand).toBe('docker');
  });

  it('SWEEP_CACHE_DIR beats the cacheDir option and is resolved against the project root', () => {
    expect(resolve({ cacheDir: 'my-cache' }, { SWEEP_CACHE_DIR: '/tmp/sweep-cache' }).cacheDir).toBe(path.resolve('/tmp/sweep-cache'));
    expect(resolve({ cacheDir: 'my-cache' }, { SWEEP_CACHE_DIR: 'ci-cache' }).cacheDir).toBe(path.join(PROJECT, 'ci-cache'));
    expect(resolve({ cacheDir: 'my-cache' }, {}).cacheDir).toBe(path.join(PROJECT, 'my-cache'));
  });
});

describe('resolveArtifactOptions: the build-environment allow-list', () => {
  it('passes the variables that change what cargo builds, and nothing else', () => {
    // GIVEN a host environment with build variables, secrets and cargo's own folders
    const env = {
      RUSTFLAGS: '-C target-cpu=neoverse-n1',
      CARGO_PROFILE_RELEASE_LTO: 'fat',
      CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS: '-C link-arg=-s',
      CARGO_ENCODED_RUSTFLAGS: '-Copt-level=3',
      CARGO_BUILD_RUSTFLAGS: '-Dwarnings',
      CARGO_INCREMENTAL: '0',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      GITHUB_TOKEN: 'ghp_example',
      CARGO_HOME: '/home/me/.cargo',
      CARGO_TARGET_DIR: '/home/me/target',
      PATH: '/usr/bin:/bin',
      RUSTFLAGS_EXTRA: 'x',
      HOME: '/home/me',
    };
    // WHEN resolved
    const { buildEnv } = resolve({}, env);
    // THEN only the allow-listed ones are picked, sorted by name
    expect(buildEnv).toEqual({
      CARGO_BUILD_RUSTFLAGS: '-Dwarnings',
      CARGO_ENCODED_RUSTFLAGS: '-Copt-level=3',
      CARGO_INCREMENTAL: '0',
      CARGO_PROFILE_RELEASE_LTO: 'fat',
      CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS: '-C link-arg=-s',
      RUSTFLAGS: '-C target-cpu=neoverse-n1',
    });
    expect(Object.keys(buildEnv)).toEqual([...Object.keys(buildEnv)].sort());
  });

  it.each([
    'AWS_SECRET_ACCESS_KEY',
    'AWS_ACCESS_KEY_ID',
    'GITHUB_TOKEN',
    'CARGO_HOME',
    'CARGO_TARGET_DIR',
    'CARGO_REGISTRY_TOKEN',
    'PATH',
    'rustflags',
  ])('%s is not a build variable', (name) => {
    expect(isBuildEnvName(name)).toBe(false);
  });
});

describe('resolveArtifactOptions: invalid options', () => {
  it('names the key, the value it got and what it expects for architecture "x86"', () => {
    // GIVEN an architecture Lambda does not have
    const error = sweepError(() => resolve({ architecture: 'x86' as never }));
    // THEN the whole message names the key, the value and the accepted values
    expect(error.stage).toBe('config');
    expect(error.message).toBe('config: invalid artifact options:\n  architecture: got "x86"; expected one of "x86_64", "arm64"');
    expect(error.fix).toBe('correct the value above in artifact options');
  });

  it('names an unknown key and lists the known ones, in the source the caller names', () => {
    const error = sweepError(() =>
      resolveArtifactOptions({ projectRoot: PROJECT, memory: 512 } as ArtifactOptions, {
        env: {},
        origin: { kind: 'props', label: 'RuntimeArtifact props' },
      }),
    );
    expect(error.message).toBe(
      'config: invalid RuntimeArtifact props:\n  memory: got 512; expected no such key (known keys: workspace, pullPolicy, forceRebuild, projectRoot, distDir, cacheDir, remoteCache, package, binary, name, architecture, runtime, profile, features, toolchainImage)',
    );
    expect(error.fix).toBe('correct the value above in RuntimeArtifact props');
  });

  it('names the element of a bad feature list', () => {
    const error = sweepError(() => resolve({ features: ['trace', 'has space'] }));
    expect(error.message).toBe('config: invalid artifact options:\n  features.1: got "has space"; expected a list of Cargo feature names');
  });

  it('reports every bad key at once, with the plural fix', () => {
    const error = sweepError(() => resolve({ runtime: 'nodejs20.x' as never, pullPolicy: 'sometimes' as never }));
    expect(error.message).toBe(
      'config: invalid artifact options:\n  pullPolicy: got "sometimes"; expected one of "always", "if-missing", "never"\n  runtime: got "nodejs20.x"; expected one of "provided.al2023", "provided.al2"',
    );
    expect(error.fix).toBe('correct the values above in artifact options');
  });

  it('refuses a binary name that is not file-name safe', () => {
    const error = sweepError(() => resolve({ binary: '../bootstrap' }));
    expect(error.message).toBe('config: invalid artifact options:\n  binary: got "../bootstrap"; expected a Cargo binary name');
  });
});

describe('resolveArtifactOptions: where settings came from', () => {
  it('names the cdktf.json key of a pull policy and a toolchain image set there, and the variable that overrides them', () => {
    const origin = { kind: 'context', function: 'api' } as const;
    const fromContext = resolveArtifactOptions(
      { projectRoot: PROJECT, pullPolicy: 'never', toolchainImage: 'rust:1.80-bullseye' },
      { env: {}, origin },
    );
    expect(fromContext.sources).toMatchObject({
      pullPolicy: 'sweep.artifact.pullPolicy "never"',
      toolchainImage: 'sweep.functions.api.artifact.toolchainImage',
    });
    const fromEnv = resolveArtifactOptions(
      { projectRoot: PROJECT, pullPolicy: 'never' },
      { env: { SWEEP_DOCKER_PULL_POLICY: 'always', SWEEP_TOOLCHAIN_IMAGE: 'x/y:z' }, origin },
    );
    expect(fromEnv.sources).toMatchObject({ pullPolicy: 'SWEEP_DOCKER_PULL_POLICY=always', toolchainImage: 'SWEEP_TOOLCHAIN_IMAGE' });
  });

  it('reads the remote cache from the options, and lets SWEEP_REMOTE_CACHE and SWEEP_REMOTE_CACHE_MODE override it', () => {
    const options = { projectRoot: PROJECT, remoteCache: { url: 's3://team-cache/sweep', mode: 'read-write' as const } };
    expect(resolve(options).remoteCache).toEqual({
      url: 's3://team-cache/sweep',
      bucket: 'team-cache',
      prefix: 'sweep',
      mode: 'read-write',
      region: undefined,
      trustedKeys: [],
    });
    expect(resolve(options, { SWEEP_REMOTE_CACHE_MODE: 'off' }).remoteCache?.mode).toBe('off');
    expect(resolve({}, { SWEEP_REMOTE_CACHE: 's3://other/' }).remoteCache).toEqual({
      url: 's3://other',
      bucket: 'other',
      prefix: '',
      mode: 'read',
      region: undefined,
      trustedKeys: [],
    });
    expect(resolve({}).remoteCache).toBeUndefined();
  });

  describe('trusted keys', () => {
    const A = generateKeyPair('ci-a');
    const B = generateKeyPair('ci-b');
    const keyOf = (line: string) => ({ name: line.split(':')[0], publicKey: line.split(':')[1] });
    const remote = (trustedKeys?: string[]) => ({ remoteCache: { url: 's3://team-cache/sweep', ...(trustedKeys && { trustedKeys }) } });

    it('reads them from the options; SWEEP_REMOTE_CACHE_TRUSTED_KEYS (comma-separated) wins; the same line twice is one key', () => {
      const fromOptions = resolve(remote([A.publicLine, B.publicLine, ` ${A.publicLine} `]));
      expect(fromOptions.remoteCache?.trustedKeys).toEqual([keyOf(A.publicLine), keyOf(B.publicLine)]);
      expect(fromOptions.sources.trustedKeys).toBe('remoteCache.trustedKeys');
      const fromEnv = resolve(remote([A.publicLine]), { SWEEP_REMOTE_CACHE_TRUSTED_KEYS: ` ${B.publicLine} ,` });
      expect(fromEnv.remoteCache?.trustedKeys).toEqual([keyOf(B.publicLine)]);
      expect(fromEnv.sources.trustedKeys).toBe('SWEEP_REMOTE_CACHE_TRUSTED_KEYS');
      expect(resolve(remote()).remoteCache?.trustedKeys).toEqual([]);
      expect(resolve(remote()).sources.trustedKeys).toBeUndefined();
    });

    it('refuses a bad key naming where it is, and never repeats a private key pasted in by mistake', () => {
      const origin = { kind: 'context' } as const;
      const error = sweepError(() =>
        resolveArtifactOptions(
          { projectRoot: PROJECT, ...remote(['ci-a', `../x:${keyOf(A.publicLine).publicKey}`, 'ci-a:AAAA', A.privateText]) },
          { env: {}, origin },
        ),
      );
      expect(error.message).toBe(
        'config: invalid cdktf.json:\n' +
          '  sweep.artifact.remoteCache.trustedKeys.0: got "ci-a"; expected a public key "NAME:<base64>": expected NAME:<base64 public key>, as `sweep-runtime keygen` prints it\n' +
          `  sweep.artifact.remoteCache.trustedKeys.1: got "../x:${keyOf(A.publicLine).publicKey}"; expected a public key "NAME:<base64>": the key name must be letters, digits, "_", "-" and ".", not starting with "." and without "..", at most 200 bytes\n` +
          '  sweep.artifact.remoteCache.trustedKeys.2: got "ci-a:AAAA"; expected a public key "NAME:<base64>": the part after "ci-a:" is not the base64 of a 32-byte Ed25519 public key\n' +
          '  sweep.artifact.remoteCache.trustedKeys.3: got "(a private signing key, not shown)"; expected a public key "NAME:<base64>": this is a private signing key: it belongs only in the publishing CI\'s secret store; list the ".public" line instead',
      );
      expect(error.message).not.toContain(A.privateText.split(':')[2]);
      const fromEnv = sweepError(() => resolve(remote(), { SWEEP_REMOTE_CACHE_TRUSTED_KEYS: `${A.publicLine},${A.privateText}` }));
      expect(fromEnv.message).toContain('SWEEP_REMOTE_CACHE_TRUSTED_KEYS (entry 2): got "(a private signing key, not shown)"');
      expect(fromEnv.message).not.toContain(A.privateText.split(':')[2]);
    });

    it('refuses one name listed with two different keys', () => {
      const other = `ci-a:${keyOf(B.publicLine).publicKey}`;
      const error = sweepError(() => resolve(remote([A.publicLine, other])));
      expect(error.problem).toContain(
        `remoteCache.trustedKeys.1: got "${other}"; expected one key per name: ci-a is listed with two different keys`,
      );
    });
  });

  it('refuses a bad SWEEP_REMOTE_CACHE, SWEEP_REMOTE_CACHE_MODE and SWEEP_TOOLCHAIN_IMAGE, naming each', () => {
    const error = sweepError(() =>
      resolve({}, { SWEEP_REMOTE_CACHE: 'https://bucket', SWEEP_REMOTE_CACHE_MODE: 'write', SWEEP_TOOLCHAIN_IMAGE: 'Not An Image' }),
    );
    expect(error.message).toBe(
      'config: invalid environment:\n' +
        '  SWEEP_TOOLCHAIN_IMAGE: got "Not An Image"; expected a Docker image reference such as "rust:1-bullseye"\n' +
        '  SWEEP_REMOTE_CACHE: got "https://bucket"; expected an S3 location "s3://bucket/prefix"\n' +
        '  SWEEP_REMOTE_CACHE_MODE: got "write"; expected one of read, read-write, off',
    );
  });
});

describe('optionHint: every key it suggests exists in cdktf.json', () => {
  const keys = Object.keys(artifactOptionsSchema.shape).filter((key) => key !== 'projectRoot') as (keyof ArtifactOptions)[];
  const VALID: Record<string, unknown> = {
    workspace: 'rust',
    package: 'sweep-lambda',
    binary: 'bootstrap',
    name: 'api',
    architecture: 'arm64',
    runtime: 'provided.al2',
    profile: 'dev',
    features: ['trace'],
    toolchainImage: 'rust:1-bullseye',
    pullPolicy: 'never',
    forceRebuild: true,
    distDir: 'out',
    cacheDir: '.c',
    remoteCache: { url: 's3://bucket/prefix' },
  };
  /** Sets `value` at a dotted `sweep.a.b.c` key in a fresh context object. */
  const contextWith = (key: string, value: unknown) => {
    const parts = key.split('.').slice(1);
    const root: Record<string, unknown> = {};
    let at = root;
    for (const part of parts.slice(0, -1)) {
      at[part] ??= {};
      at = at[part] as Record<string, unknown>;
    }
    at[parts.at(-1)!] = value;
    return root;
  };

  it.each(keys.flatMap((key) => [[key, 'one function'] as const, [key, 'sweep.functions'] as const]))(
    '%s (%s): the suggested key parses',
    (key, form) => {
      const origin = form === 'one function' ? ({ kind: 'context' } as const) : ({ kind: 'context', function: 'api' } as const);
      const hint = optionHint(origin, key);
      const suggested = /cdktf\.json context (\S+?)[,)]/.exec(hint)?.[1];
      expect(suggested).toBeDefined();
      const context = contextWith(suggested!, VALID[key]);
      // The functions form also needs the function itself (and no shared name beside it).
      if (form === 'sweep.functions')
        (context.functions as Record<string, unknown> | undefined) ?? Object.assign(context, { functions: { api: {} } });
      expect(() => parseAppConfig(context)).not.toThrow();
    },
  );

  it('names the flag too when the options came from the command line, and the prop for a construct', () => {
    expect(optionHint({ kind: 'context', cli: true }, 'package')).toBe(
      '`package` (cdktf.json context sweep.artifact.package, or --package)',
    );
    expect(optionHint({ kind: 'props', label: 'RuntimeArtifact "s/r" config' }, 'package')).toBe(
      '`package` in the RuntimeArtifact "s/r" config',
    );
  });
});

describe('resolveArtifactOptions: folders the engine writes', () => {
  it.each([
    ['distDir', { distDir: '/' }, {}, "cannot use / as a folder of the engine (from distDir option): it is the file system's root"],
    ['cacheDir', { cacheDir: '/' }, {}, "cannot use / as a folder of the engine (from cacheDir option): it is the file system's root"],
    [
      'SWEEP_CACHE_DIR',
      {},
      { SWEEP_CACHE_DIR: '/' },
      "cannot use / as a folder of the engine (from SWEEP_CACHE_DIR): it is the file system's root",
    ],
  ])('refuses the root as %s', (_what, options, env, problem) => {
    const error = sweepError(() => resolve(options as ArtifactOptions, env));
    expect(error.message).toBe(`config: ${problem}`);
  });

  it('refuses a cache folder that is a file, and a path longer than the system allows, naming the key to set', () => {
    const file = path.join(os.tmpdir(), `sweep-options-file-${process.pid}`);
    fs.writeFileSync(file, 'not a folder');
    try {
      const error = sweepError(() =>
        resolveArtifactOptions({ projectRoot: PROJECT, cacheDir: file }, { env: {}, origin: { kind: 'context' } }),
      );
      expect(error.message).toBe(
        `config: cannot use ${file} as a folder of the engine (from sweep.artifact.cacheDir): it exists and is not a folder`,
      );
      expect(error.fix).toBe(
        'set `cacheDir` (cdktf.json context sweep.artifact.cacheDir) to a folder of its own inside the project (the defaults are dist and .cache)',
      );
    } finally {
      fs.rmSync(file, { force: true });
    }
    const long = sweepError(() => resolve({ distDir: 'd'.repeat(4000) }));
    expect(long.message).toMatch(
      /^config: cannot use .*\.\.\.d+ as a folder of the engine \(from distDir option\): the path is \d+ bytes long/,
    );
  });
});
