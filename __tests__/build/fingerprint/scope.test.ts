import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { type CacheCheck, checkCache } from '../../../build/cache/check.js';
import { writeMetadata } from '../../../build/cache/metadata.js';
import { readCargoWorkspace } from '../../../build/cargo/workspace.js';
import { resolveArtifactOptions } from '../../../build/options/resolve.js';
import { createLambdaZip } from '../../../build/package/zip.js';
import { recordFor } from '../../helpers/artifact-records.js';
import { checksumOf, REGISTRY_SOURCE, write, writeFleet, writeLock } from '../../helpers/fleet.js';

// What a function's inputs are (fingerprint/scope.ts), end to end through checkCache on a small
// generated workspace of functions over one shared crate: a change that can change a function's
// binary is a miss for it, naming what changed; a change that cannot is a hit.
let project: string;
let ws: string;
beforeEach(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-scope-'));
  ws = path.join(project, 'rust');
});
afterEach(() => {
  fs.rmSync(project, { recursive: true, force: true });
});

function options(fn: string) {
  return resolveArtifactOptions(
    { projectRoot: project, package: fn, binary: fn },
    { env: { SWEEP_DOCKER: '/nonexistent/docker-that-must-not-run' } },
  );
}

/** dist/<fn>.zip and the metadata a build of the current sources would have written. */
function recordBuild(check: CacheCheck): void {
  const zip = createLambdaZip(new TextEncoder().encode(`\x7fELF ${check.name}`));
  fs.mkdirSync(path.dirname(check.paths.zip), { recursive: true });
  fs.writeFileSync(check.paths.zip, zip);
  const digest = createHash('sha256').update(zip).digest();
  writeMetadata(
    check.paths.metadata,
    recordFor(check.fingerprint, {
      artifact: check.name,
      zip: {
        file: path.basename(check.paths.zip),
        size: zip.byteLength,
        sha256: digest.toString('hex'),
        sha256Base64: digest.toString('base64'),
        originFingerprint: check.fingerprint.value,
      },
    }),
  );
}

function buildAll(functions: readonly string[]): void {
  for (const fn of functions) recordBuild(checkCache(options(fn)));
}

const explain = (fn: string) => checkCache(options(fn)).explanation;
const lockEntry = (name: string, dependencies: string[] = [], version = '0.1.0') => ({ name, version, dependencies });

describe('inputs of one function: resolver 2', () => {
  it('GIVEN an edit of another member`s manifest THEN a hit for every other function, a miss for that one', () => {
    const fns = writeFleet(ws);
    buildAll(fns);
    fs.appendFileSync(path.join(ws, 'crates/fn002/Cargo.toml'), '\n[package.metadata.team]\nowner = "payments"\n');
    expect(explain('fn001')).toBe('cache-hit');
    expect(explain('fn003')).toBe('cache-hit');
    expect(explain('fn002')).toBe('cache-miss: changed crates/fn002/Cargo.toml');
  });

  it('GIVEN a new crate used by one function (Cargo.lock changes) THEN only that function misses, naming the crate and the lock entries', () => {
    const fns = writeFleet(ws);
    buildAll(fns);
    write(ws, 'crates/extra/Cargo.toml', '[package]\nname = "extra"\nversion = "0.3.0"\nedition = "2021"\n');
    write(ws, 'crates/extra/src/lib.rs', 'pub const X: u8 = 1;\n');
    fs.appendFileSync(path.join(ws, 'crates/fn002/Cargo.toml'), '\n[dependencies.extra]\npath = "../extra"\n');
    writeLock(ws, [
      lockEntry('core'),
      lockEntry('extra', [], '0.3.0'),
      lockEntry('fn001', ['core']),
      lockEntry('fn002', ['core', 'extra']),
      lockEntry('fn003', ['core']),
    ]);
    expect(explain('fn001')).toBe('cache-hit');
    expect(explain('fn003')).toBe('cache-hit');
    expect(explain('fn002')).toBe(
      'cache-miss: changed crates/fn002/Cargo.toml; added crates/extra/Cargo.toml, crates/extra/src/lib.rs; Cargo.lock: fn002 0.1.0 (its source, checksum or dependencies), extra 0.3.0 added',
    );
  });

  it('GIVEN a version bump of the shared crate THEN every function misses, naming the package old -> new', () => {
    const fns = writeFleet(ws);
    buildAll(fns);
    const manifest = path.join(ws, 'crates/core/Cargo.toml');
    fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('version = "0.1.0"', 'version = "0.2.0"'));
    writeLock(ws, [lockEntry('core', [], '0.2.0'), ...fns.map((fn) => lockEntry(fn, ['core 0.2.0']))]);
    for (const fn of fns) {
      expect(explain(fn)).toBe(
        `cache-miss: changed crates/core/Cargo.toml; Cargo.lock: core 0.1.0 -> 0.2.0, ${fn} 0.1.0 (its source, checksum or dependencies)`,
      );
    }
  });

  it('GIVEN a registry package bumped in Cargo.lock THEN a miss for the function that reaches it, a hit for the others', () => {
    const registry = [{ name: 'itoa', version: '1.0.9', usedBy: ['fn001'] }];
    const fns = writeFleet(ws, { registry });
    buildAll(fns);
    const lock = path.join(ws, 'Cargo.lock');
    fs.writeFileSync(
      lock,
      fs
        .readFileSync(lock, 'utf8')
        .replace('version = "1.0.9"', 'version = "1.0.10"')
        .replace(checksumOf('itoa', '1.0.9'), checksumOf('itoa', '1.0.10')),
    );
    expect(explain('fn001')).toBe('cache-miss: Cargo.lock: itoa 1.0.9 -> 1.0.10');
    expect(explain('fn002')).toBe('cache-hit');
  });

  it('GIVEN only the checksum of a reached registry package changed THEN a miss that says so', () => {
    const fns = writeFleet(ws, { registry: [{ name: 'itoa', version: '1.0.9', usedBy: ['fn001'] }] });
    buildAll(fns);
    const lock = path.join(ws, 'Cargo.lock');
    fs.writeFileSync(lock, fs.readFileSync(lock, 'utf8').replace(checksumOf('itoa', '1.0.9'), 'f'.repeat(64)));
    expect(explain('fn001')).toBe('cache-miss: Cargo.lock: itoa 1.0.9 (its source, checksum or dependencies)');
  });

  it('GIVEN a new dependency of the function THEN a miss naming its manifest and the lock entries', () => {
    const fns = writeFleet(ws, { registry: [{ name: 'itoa', version: '1.0.9', usedBy: ['fn001'] }] });
    buildAll(fns);
    fs.appendFileSync(path.join(ws, 'crates/fn002/Cargo.toml'), '\n[dependencies.itoa]\nversion = "1"\n');
    const lock = path.join(ws, 'Cargo.lock');
    fs.writeFileSync(
      lock,
      fs
        .readFileSync(lock, 'utf8')
        .replace(
          'name = "fn002"\nversion = "0.1.0"\ndependencies = [\n "core",\n',
          'name = "fn002"\nversion = "0.1.0"\ndependencies = [\n "core",\n "itoa",\n',
        ),
    );
    expect(explain('fn002')).toBe(
      'cache-miss: changed crates/fn002/Cargo.toml; Cargo.lock: fn002 0.1.0 (its source, checksum or dependencies), itoa 1.0.9 added',
    );
    expect(explain('fn001')).toBe('cache-hit');
  });

  it.each([
    ['a [patch]', '\n[patch.crates-io]\nitoa = { path = "crates/core" }\n'],
    ['a profile', '\n[profile.release.package.core]\nopt-level = 1\n'],
    ['[workspace.dependencies]', '\n[workspace.dependencies]\nitoa = "1"\n'],
  ])('GIVEN %s in the root manifest THEN every function misses, naming Cargo.toml', (_what, lines) => {
    const fns = writeFleet(ws);
    buildAll(fns);
    fs.appendFileSync(path.join(ws, 'Cargo.toml'), lines);
    for (const fn of fns) expect(explain(fn)).toBe('cache-miss: changed Cargo.toml');
  });

  it('GIVEN .cargo/config.toml or a toolchain file appears THEN every function misses', () => {
    const fns = writeFleet(ws);
    buildAll(fns);
    write(ws, '.cargo/config.toml', '[build]\nrustflags = ["-C", "target-cpu=native"]\n');
    write(ws, 'rust-toolchain.toml', '[toolchain]\nchannel = "1.78"\n');
    for (const fn of fns) expect(explain(fn)).toBe('cache-miss: added .cargo/config.toml, rust-toolchain.toml');
  });

  it('has as inputs the workspace files, its closure`s files and its reachable lock entries, nothing else', () => {
    writeFleet(ws, { registry: [{ name: 'itoa', version: '1.0.9', usedBy: ['fn002'] }] });
    const check = checkCache(options('fn001'));
    expect([...check.fingerprint.inputs.keys()]).toEqual([
      'Cargo.lock//core',
      'Cargo.lock//fn001',
      'Cargo.toml',
      'crates/core/Cargo.toml',
      'crates/core/src/lib.rs',
      'crates/fn001/Cargo.toml',
      'crates/fn001/src/main.rs',
    ]);
    // The lock file's stat stands for its entries in the snapshot the engine compares after a compile.
    expect(check.inputSnapshot.has('Cargo.lock')).toBe(true);
    expect([...check.inputSnapshot.keys()].filter((k) => k.startsWith('Cargo.lock//'))).toEqual([]);
  });

  it('GIVEN a Cargo.lock that does not list the package THEN the whole file is an input', () => {
    writeFleet(ws);
    writeLock(ws, [lockEntry('core')]);
    const check = checkCache(options('fn001'));
    expect(check.fingerprint.inputs.has('Cargo.lock')).toBe(true);
    expect([...check.fingerprint.inputs.keys()].some((k) => k.startsWith('Cargo.lock//'))).toBe(false);
  });

  it('GIVEN a Cargo.lock that is not TOML THEN the whole file is an input (cargo says what is wrong)', () => {
    writeFleet(ws);
    write(ws, 'Cargo.lock', 'version = 3\n[[package]\n');
    expect(checkCache(options('fn001')).fingerprint.inputs.has('Cargo.lock')).toBe(true);
  });
});

describe('inputs of one function: resolver 1 falls back to the whole workspace', () => {
  const RESOLVER_1_NOTE =
    'the workspace uses cargo\'s resolver 1 (a virtual workspace without `resolver = "2"`, or a root package of edition 2015/2018), which may unify features across members: every member\'s Cargo.toml and the whole Cargo.lock are inputs of every function. Set `resolver = "2"` in [workspace] for per-function inputs';

  it('GIVEN a virtual workspace without resolver THEN another member`s manifest and the whole lock are inputs', () => {
    const fns = writeFleet(ws, { workspaceTable: 'members = ["crates/*"]' });
    buildAll(fns);
    fs.appendFileSync(path.join(ws, 'crates/fn002/Cargo.toml'), '\n[features]\nloud = []\n');
    expect(explain('fn001')).toBe('cache-miss: changed crates/fn002/Cargo.toml');
    const check = checkCache(options('fn001'));
    expect(check.fingerprint.inputs.has('Cargo.lock')).toBe(true);
    expect(check.fingerprint.inputs.has('crates/fn003/Cargo.toml')).toBe(true);
  });

  it('says so once per run: the first check of the workspace carries the note, the others do not', () => {
    const fns = writeFleet(ws, { workspaceTable: 'members = ["crates/*"]' });
    const workspace = readCargoWorkspace(ws);
    const notes = fns.map((fn) => checkCache(options(fn), { workspace }).notes);
    expect(notes).toEqual([[RESOLVER_1_NOTE], [], []]);
  });

  it.each([
    ['resolver = "1"', '[workspace]\nresolver = "1"\nmembers = ["crates/*"]\n', '1'],
    ['a virtual workspace without resolver', '[workspace]\nmembers = ["crates/*"]\n', '1'],
    ['resolver = "2"', '[workspace]\nresolver = "2"\nmembers = ["crates/*"]\n', '2'],
    ['resolver = "3"', '[workspace]\nresolver = "3"\nmembers = ["crates/*"]\n', '3'],
    ['a root package of edition 2018', '[package]\nname = "r"\nversion = "0.1.0"\nedition = "2018"\n', '1'],
    ['a root package of edition 2021', '[package]\nname = "r"\nversion = "0.1.0"\nedition = "2021"\n', '2'],
    [
      'a root package inheriting edition 2021',
      '[workspace]\nmembers = ["crates/*"]\n[workspace.package]\nedition = "2021"\n[package]\nname = "r"\nversion = "0.1.0"\nedition.workspace = true\n',
      '2',
    ],
    [
      'a root package of edition 2021 with resolver = "1"',
      '[package]\nname = "r"\nversion = "0.1.0"\nedition = "2021"\nresolver = "1"\n',
      '1',
    ],
  ])('reads %s as resolver %s', (_what, manifest, expected) => {
    fs.mkdirSync(ws, { recursive: true });
    fs.writeFileSync(path.join(ws, 'Cargo.toml'), manifest);
    expect(readCargoWorkspace(ws).resolver).toBe(expected);
  });
});

describe('the registry source in lock entries', () => {
  it('keys two versions of one package apart, and a change of one names it', () => {
    const fns = writeFleet(ws);
    writeLock(ws, [
      lockEntry('core'),
      lockEntry('fn001', ['core', 'itoa 0.4.8', 'itoa 1.0.9']),
      ...fns.slice(1).map((fn) => lockEntry(fn, ['core'])),
      { name: 'itoa', version: '0.4.8', source: REGISTRY_SOURCE, checksum: checksumOf('itoa', '0.4.8'), dependencies: [] },
      { name: 'itoa', version: '1.0.9', source: REGISTRY_SOURCE, checksum: checksumOf('itoa', '1.0.9'), dependencies: [] },
    ]);
    const check = checkCache(options('fn001'));
    expect([...check.fingerprint.inputs.keys()].filter((k) => k.startsWith('Cargo.lock//itoa'))).toEqual([
      'Cargo.lock//itoa@0.4.8',
      'Cargo.lock//itoa@1.0.9',
    ]);
  });
});

describe('one hash index per workspace', () => {
  it('GIVEN every function checked, then one alone WHEN the others are checked again THEN none of their files is read: the shared index kept them', () => {
    // GIVEN sources older than the index's racy window, and one check of each function
    const fns = writeFleet(ws);
    const old = new Date(Date.now() - 3_600_000);
    for (const entry of fs.readdirSync(ws, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) fs.utimesSync(path.join(entry.parentPath, entry.name), old, old);
    }
    for (const fn of fns) checkCache(options(fn));
    // WHEN one function is checked alone (a `--function` run), then the others
    expect(checkCache(options('fn001')).hashedFiles).toBe(0);
    // THEN the others' entries are still in the index
    expect(checkCache(options('fn002')).hashedFiles).toBe(0);
    expect(checkCache(options('fn003')).hashedFiles).toBe(0);
  });

  it('drops the entry of a file that is gone from a folder a check walked', () => {
    const fns = writeFleet(ws);
    const old = new Date(Date.now() - 3_600_000);
    write(ws, 'crates/fn002/src/extra.rs', '// extra\n');
    for (const entry of fs.readdirSync(ws, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) fs.utimesSync(path.join(entry.parentPath, entry.name), old, old);
    }
    for (const fn of fns) checkCache(options(fn));
    const index = checkCache(options('fn001')).paths.hashIndex;
    const keys = () => Object.keys((JSON.parse(fs.readFileSync(index, 'utf8')) as { entries: object }).entries);
    expect(keys()).toContain('crates/fn002/src/extra.rs');
    fs.rmSync(path.join(ws, 'crates/fn002/src/extra.rs'));
    checkCache(options('fn002'));
    expect(keys()).not.toContain('crates/fn002/src/extra.rs');
    expect(keys()).toContain('crates/fn003/src/main.rs');
  });
});
