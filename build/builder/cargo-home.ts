import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { CachePaths } from '../cache/paths.js';
import type { Reporter } from '../support/reporter.js';

/*
 * CARGO_HOME in a build container. Only what is content-addressed and checked by cargo persists
 * between containers: the registry index, the downloaded `.crate` files and git databases.
 * Everything else (a `config.toml` a build script could write with a `linker` or `rustflags`
 * entry, extracted sources, installed binaries) is fresh in each container, so no build can leave
 * something behind that changes every later build.
 *
 * Cargo does not check a `.crate` file again once it is in its cache, so before each build the
 * cached files that Cargo.lock names are checked here against the lock's checksums: one that does
 * not match is removed (cargo downloads it again) and named.
 */
export interface CargoHome {
  /** CARGO_HOME inside the container (a tmpfs, see builder-container.ts). */
  readonly cargoHome: string;
  readonly mounts: readonly { readonly source: string; readonly target: string }[];
  /** Shell commands that link the persistent parts into the fresh CARGO_HOME. */
  readonly setup: string;
}

const CONTAINER_CARGO_HOME = '/tmp/cargo-home';
/** [path inside CARGO_HOME, folder name in the cache] */
const PERSISTENT_PARTS = [
  ['registry/index', 'registry-index'],
  ['registry/cache', 'registry-cache'],
  ['git/db', 'git-db'],
] as const;

export function prepareCargoHome(cache: CachePaths, workspace: string, reporter: Reporter): CargoHome {
  const mounts = PERSISTENT_PARTS.map(([inside, folder]) => {
    const source = path.join(cache.cargoHome, folder);
    fs.mkdirSync(source, { recursive: true });
    return { source, target: `/cache/cargo/${folder}`, inside };
  });
  for (const removed of removeTamperedCrates(path.join(cache.cargoHome, 'registry-cache'), path.join(workspace, 'Cargo.lock'))) {
    reporter.line(`removed cached crate ${removed}: its checksum does not match Cargo.lock (cargo downloads it again)`);
  }
  const setup = [
    `mkdir -p "$CARGO_HOME/registry" "$CARGO_HOME/git"`,
    ...mounts.map((m) => `ln -s ${m.target} "$CARGO_HOME/${m.inside}"`),
  ].join(' && ');
  return { cargoHome: CONTAINER_CARGO_HOME, mounts: mounts.map(({ source, target }) => ({ source, target })), setup };
}

/** Removes cached `.crate` files whose SHA-256 differs from Cargo.lock's checksum; returns their names. */
export function removeTamperedCrates(registryCache: string, lockFile: string): string[] {
  const expected = lockedChecksums(lockFile);
  if (expected.size === 0) return [];
  const removed: string[] = [];
  for (const registry of safeReaddir(registryCache)) {
    const folder = path.join(registryCache, registry);
    for (const file of safeReaddir(folder)) {
      const checksum = expected.get(file);
      if (checksum === undefined) continue;
      const crate = path.join(folder, file);
      const stat = fs.lstatSync(crate);
      const actual = stat.isFile() ? createHash('sha256').update(fs.readFileSync(crate)).digest('hex') : 'not a regular file';
      if (actual !== checksum) {
        fs.rmSync(crate, { force: true, recursive: true });
        removed.push(`${registry}/${file}`);
      }
    }
  }
  return removed;
}

/** `<name>-<version>.crate` -> sha256 hex, for every registry package (git-index or sparse) in Cargo.lock. */
function lockedChecksums(lockFile: string): Map<string, string> {
  const checksums = new Map<string, string>();
  let lock: { package?: unknown };
  try {
    if (!fs.statSync(lockFile).isFile()) return checksums;
    lock = parseToml(fs.readFileSync(lockFile, 'utf8')) as { package?: unknown };
  } catch {
    return checksums; // No lock file, or one cargo will reject with its own message.
  }
  for (const entry of Array.isArray(lock.package) ? lock.package : []) {
    const { name, version, source, checksum } = entry as Record<string, unknown>;
    // `registry+` for crates.io and git-index registries, `sparse+` for other sparse registries:
    // cargo caches the .crate files of both in registry/cache.
    if (typeof source === 'string' && /^(registry|sparse)\+/.test(source) && typeof checksum === 'string') {
      checksums.set(`${name}-${version}.crate`, checksum);
    }
  }
  return checksums;
}

function safeReaddir(folder: string): string[] {
  try {
    return fs.readdirSync(folder);
  } catch {
    return [];
  }
}
