import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { prepareCargoHome, removeTamperedCrates } from '../../build/builder/cargo-home.js';
import { cachePaths } from '../../build/cache/paths.js';
import { createRecordingOutput, createReporter } from '../../build/support/reporter.js';
import { sha256Hex as sha256 } from '../helpers/hash.js';

/**
 * Issue 12: cargo never checks a `.crate` file again once it is in its cache, so a build that
 * could write the cache (a build script, in the days CARGO_HOME was shared) could swap a
 * dependency's sources for every later build. Before each build, every cached `.crate` that
 * Cargo.lock names is checked against the lock's checksum; one that does not match is removed
 * (cargo downloads it again) and named.
 */
const REGISTRY = 'index.crates.io-6f17d22bba15001f';

const LOCK = `# A lock file as cargo 1.78 writes it (version 3).
version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["genuine", "tampered", "from-git"]

[[package]]
name = "genuine"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "${sha256('genuine crate bytes')}"

[[package]]
name = "tampered"
version = "2.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "${sha256('the crate crates.io serves')}"

[[package]]
name = "linked"
version = "0.3.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "${sha256('linked crate bytes')}"

[[package]]
name = "private-dep"
version = "0.4.0"
source = "sparse+https://crates.example.com/index/"
checksum = "${sha256('what the private registry serves')}"

[[package]]
name = "from-git"
version = "0.1.0"
source = "git+https://example.com/from-git#0123456789abcdef"
`;

describe('trust: cached .crate files are checked against Cargo.lock before each build', () => {
  let root: string;
  let registryCache: string;
  let lockFile: string;
  const cached = (name: string, registry = REGISTRY) => path.join(registryCache, registry, name);
  const put = (name: string, bytes: string, registry = REGISTRY) => {
    fs.mkdirSync(path.join(registryCache, registry), { recursive: true });
    fs.writeFileSync(cached(name, registry), bytes);
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-trust-crates-'));
    registryCache = path.join(root, 'registry-cache');
    lockFile = path.join(root, 'Cargo.lock');
    fs.writeFileSync(lockFile, LOCK);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('GIVEN a cached crate whose bytes differ from its Cargo.lock checksum WHEN checked THEN it alone is removed and named', () => {
    put('genuine-1.0.0.crate', 'genuine crate bytes');
    put('tampered-2.1.0.crate', 'a crate with a backdoor');
    put('unlocked-9.9.9.crate', 'a crate this lock does not name');
    // The same name in a second registry's folder is checked against the same lock entry.
    put('tampered-2.1.0.crate', 'the crate crates.io serves', 'other-registry-0123456789abcdef');

    const removed = removeTamperedCrates(registryCache, lockFile);

    expect(removed).toEqual([`${REGISTRY}/tampered-2.1.0.crate`]);
    expect(fs.existsSync(cached('tampered-2.1.0.crate'))).toBe(false);
    expect(fs.readFileSync(cached('genuine-1.0.0.crate'), 'utf8')).toBe('genuine crate bytes');
    expect(fs.existsSync(cached('unlocked-9.9.9.crate'))).toBe(true);
    expect(fs.existsSync(cached('tampered-2.1.0.crate', 'other-registry-0123456789abcdef'))).toBe(true);
  });

  it('GIVEN a tampered crate of an alternative sparse registry (source "sparse+...") WHEN checked THEN it is removed too', () => {
    const registry = 'crates.example.com-0123456789abcdef';
    put('private-dep-0.4.0.crate', 'a private crate with a backdoor', registry);
    expect(removeTamperedCrates(registryCache, lockFile)).toEqual([`${registry}/private-dep-0.4.0.crate`]);
    expect(fs.existsSync(cached('private-dep-0.4.0.crate', registry))).toBe(false);
  });

  it('GIVEN a cached crate that is a symlink to the right bytes WHEN checked THEN it is removed: its target could change after the check', () => {
    const elsewhere = path.join(root, 'elsewhere.crate');
    fs.writeFileSync(elsewhere, 'linked crate bytes');
    fs.mkdirSync(path.join(registryCache, REGISTRY), { recursive: true });
    fs.symlinkSync(elsewhere, cached('linked-0.3.0.crate'));

    expect(removeTamperedCrates(registryCache, lockFile)).toEqual([`${REGISTRY}/linked-0.3.0.crate`]);
    expect(fs.existsSync(cached('linked-0.3.0.crate'))).toBe(false);
    expect(fs.readFileSync(elsewhere, 'utf8')).toBe('linked crate bytes'); // the link went, not its target
  });

  it('GIVEN no Cargo.lock WHEN checked THEN nothing is removed (cargo reports the missing lock itself)', () => {
    put('tampered-2.1.0.crate', 'a crate with a backdoor');
    fs.rmSync(lockFile);
    expect(removeTamperedCrates(registryCache, lockFile)).toEqual([]);
    expect(fs.existsSync(cached('tampered-2.1.0.crate'))).toBe(true);
  });

  it('GIVEN a tampered cached crate WHEN a build prepares its CARGO_HOME THEN the log names the crate and says cargo downloads it again', () => {
    const workspace = path.join(root, 'rust');
    fs.mkdirSync(workspace);
    fs.copyFileSync(lockFile, path.join(workspace, 'Cargo.lock'));
    const cache = cachePaths({ cacheDir: path.join(root, '.cache'), remoteCache: undefined });
    registryCache = path.join(cache.cargoHome, 'registry-cache');
    put('tampered-2.1.0.crate', 'a crate with a backdoor');
    const output = createRecordingOutput();

    const home = prepareCargoHome(cache, workspace, createReporter('fn', output));

    expect(output.of('fn')).toEqual([
      `removed cached crate ${REGISTRY}/tampered-2.1.0.crate: its checksum does not match Cargo.lock (cargo downloads it again)`,
    ]);
    expect(fs.existsSync(cached('tampered-2.1.0.crate'))).toBe(false);
    // Only the content-addressed parts are mounted; CARGO_HOME itself is fresh in the container.
    expect(home.cargoHome).toBe('/tmp/cargo-home');
    expect(home.mounts.map((m) => path.relative(cache.cargoHome, m.source)).sort()).toEqual(['git-db', 'registry-cache', 'registry-index']);
  });
});
