/**
 * Makes a cargo local registry (https://doc.rust-lang.org/cargo/reference/source-replacement.html#local-registry-sources)
 * from the Rust crates Debian packages, so that a workspace can depend on real crates.io crates
 * where no crates registry is reachable, through cargo's registry code path: cargo reads each
 * `.crate` file and extracts it into `$CARGO_HOME/registry/src/`, as it does with crates.io's
 * downloads. (A directory source, `[source.x] directory = ...`, would be used in place, with no
 * extraction: not what the fresh-CARGO_HOME benchmark must measure.)
 *
 * Needs, on the host (Debian bookworm), the crates' source packages; they put each crate in
 * `/usr/share/cargo/registry/<crate>-<version>/`:
 *
 *   apt-get update
 *   apt-get install -y --no-install-recommends librust-serde-dev librust-serde-derive-dev \
 *     librust-serde-json-dev librust-regex-dev librust-clap-dev librust-clap-derive-dev \
 *     librust-anyhow-dev librust-thiserror-dev librust-log-dev librust-tokio-dev \
 *     librust-tokio-macros-dev librust-chrono-dev librust-tracing-dev librust-bytes-dev \
 *     librust-aho-corasick-dev
 *
 * (174 packages, ~3 min here; they bring 154 crates, since Debian's packages depend on their
 * crates' optional dependencies too; aho-corasick is one of regex's default features that
 * Debian's regex package does not pull in.) Then:
 *
 *   npx tsx bench/local-registry/make-local-registry.ts [OUT] [--from /usr/share/cargo/registry]
 *
 * OUT (default `bench/local-registry/workspace/registry`, git-ignored) is replaced. It gets, for every crate
 * folder: `<name>-<version>.crate` (a gzip'd tar of `<name>-<version>/...`: the folder without
 * Debian's `debian/` and `.cargo-checksum.json`, deterministic: sorted, mtime 0, owner 0) and its
 * line in `index/` (crates.io's index layout: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd...`) with
 * name, vers, deps (normal and build; dev-dependencies are left out, cargo never resolves those
 * of a registry crate), cksum (SHA-256 of the `.crate`), features and links, read from the crate's
 * own (crates.io-normalized) Cargo.toml.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parse as parseToml } from 'smol-toml';

type Table = Record<string, unknown>;

interface IndexDep {
  name: string;
  req: string;
  features: string[];
  optional: boolean;
  default_features: boolean;
  target: string | null;
  kind: 'normal' | 'build';
  registry: null;
  package?: string;
}

interface IndexEntry {
  name: string;
  vers: string;
  deps: IndexDep[];
  cksum: string;
  features: Record<string, string[]>;
  features2?: Record<string, string[]>;
  yanked: false;
  links: string | null;
  v?: 2;
  rust_version?: string;
}

export interface LocalRegistrySummary {
  readonly crates: number;
  readonly crateBytes: number;
  readonly skipped: readonly string[];
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

export function makeLocalRegistry(from: string, out: string): LocalRegistrySummary {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(path.join(out, 'index'), { recursive: true });
  const entries = new Map<string, IndexEntry[]>();
  const skipped: string[] = [];
  let crateBytes = 0;
  for (const folder of fs.readdirSync(from).sort()) {
    const manifestPath = path.join(from, folder, 'Cargo.toml');
    if (!fs.existsSync(manifestPath)) {
      skipped.push(`${folder} (no Cargo.toml)`);
      continue;
    }
    const manifest = parseToml(fs.readFileSync(manifestPath, 'utf8')) as Table;
    const pkg = manifest.package as Table;
    const name = String(pkg.name);
    const vers = String(pkg.version);
    const crate = crateFile(from, folder, `${name}-${vers}`);
    crateBytes += crate.length;
    fs.writeFileSync(path.join(out, `${name}-${vers}.crate`), crate);
    const entry = indexEntry(manifest, name, vers, createHash('sha256').update(crate).digest('hex'));
    const list = entries.get(name) ?? [];
    list.push(entry);
    entries.set(name, list);
  }
  for (const [name, list] of entries) {
    const file = path.join(out, 'index', indexPath(name));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, list.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
  }
  return { crates: [...entries.values()].reduce((n, list) => n + list.length, 0), crateBytes, skipped };
}

/** A `.crate`: gzip'd tar of `<name>-<version>/...`, the same bytes for the same folder. */
function crateFile(from: string, folder: string, stem: string): Buffer {
  const tar = execFileSync(
    'tar',
    [
      '-C',
      from,
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--mode=u+rw,go+r,go-w',
      '--format=gnu',
      '--dereference',
      `--exclude=${folder}/debian`,
      `--exclude=${folder}/.cargo-checksum.json`,
      `--transform=s,^${escapeSed(folder)},${stem},`,
      '-cf',
      '-',
      folder,
    ],
    { maxBuffer: 1 << 30 },
  );
  return gzipSync(tar, { level: 9 });
}

function escapeSed(text: string): string {
  return text.replace(/[.[\]*^$\\,]/g, '\\$&');
}

function indexEntry(manifest: Table, name: string, vers: string, cksum: string): IndexEntry {
  const pkg = manifest.package as Table;
  const deps: IndexDep[] = [];
  const addDeps = (table: unknown, kind: IndexDep['kind'], target: string | null) => {
    for (const [key, spec] of Object.entries((table ?? {}) as Table)) {
      const dep = typeof spec === 'string' ? { version: spec } : (spec as Table);
      if (dep.version === undefined) continue; // a path or git dependency: crates.io has none
      const entry: IndexDep = {
        name: key,
        req: String(dep.version),
        features: Array.isArray(dep.features) ? dep.features.map(String) : [],
        optional: dep.optional === true,
        default_features: (dep['default-features'] ?? dep.default_features) !== false,
        target,
        kind,
        registry: null,
      };
      if (typeof dep.package === 'string') entry.package = dep.package;
      deps.push(entry);
    }
  };
  addDeps(manifest.dependencies, 'normal', null);
  addDeps(manifest['build-dependencies'] ?? manifest.build_dependencies, 'build', null);
  for (const [target, tables] of Object.entries((manifest.target ?? {}) as Table)) {
    const t = tables as Table;
    addDeps(t.dependencies, 'normal', target);
    addDeps(t['build-dependencies'] ?? t.build_dependencies, 'build', target);
  }
  const features = Object.fromEntries(
    Object.entries((manifest.features ?? {}) as Table).map(([feature, list]) => [feature, (list as unknown[]).map(String)]),
  );
  // As crates.io does: features written with `dep:` or `?/` go in `features2`, with `v: 2`.
  const isNew = (list: string[]) => list.some((f) => f.startsWith('dep:') || f.includes('?/'));
  const entry: IndexEntry = {
    name,
    vers,
    deps,
    cksum,
    features: Object.fromEntries(Object.entries(features).filter(([, list]) => !isNew(list))),
    yanked: false,
    links: typeof pkg.links === 'string' ? pkg.links : null,
  };
  const features2 = Object.fromEntries(Object.entries(features).filter(([, list]) => isNew(list)));
  if (Object.keys(features2).length > 0) {
    entry.features2 = features2;
    entry.v = 2;
  }
  if (typeof pkg['rust-version'] === 'string') entry.rust_version = pkg['rust-version'];
  return entry;
}

/** crates.io's index layout. */
export function indexPath(crateName: string): string {
  const name = crateName.toLowerCase();
  if (name.length <= 2) return path.join(String(name.length), name);
  if (name.length === 3) return path.join('3', name[0]!, name);
  return path.join(name.slice(0, 2), name.slice(2, 4), name);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const fromAt = args.indexOf('--from');
  const from = fromAt >= 0 ? args.splice(fromAt, 2)[1]! : '/usr/share/cargo/registry';
  const out = path.resolve(args[0] ?? path.join(HERE, 'workspace', 'registry'));
  if (!fs.existsSync(from)) {
    console.error(`${from} does not exist: install the librust-*-dev packages named in this script's header`);
    process.exit(1);
  }
  const summary = makeLocalRegistry(from, out);
  console.log(`${out}: ${summary.crates} crates, ${(summary.crateBytes / 1e6).toFixed(1)} MB of .crate files`);
  for (const line of summary.skipped) console.log(`skipped ${line}`);
}
