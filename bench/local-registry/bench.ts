/**
 * What a fresh CARGO_HOME costs a build with real registry dependencies (see README.md here).
 *
 * Two engines, each with its own warm target folder, build the same workspace (a copy of
 * `workspace/` with the local registry made by make-local-registry.ts) in the same container
 * image, interleaved:
 * - old: the whole CARGO_HOME persists (a bind mount at /cache/cargo-home, as before cargo-home.ts),
 *   so cargo finds every crate already extracted in `registry/src`;
 * - new: the container of build/builder/container.ts: CARGO_HOME=/tmp/cargo-home, fresh, with
 *   only `registry/index`, `registry/cache` and `git/db` linked to persistent folders, built with
 *   the engine's own `prepareCargoHome` and `bindMount`; cargo extracts every crate again.
 *
 * Cases, for each package (`lambda-small`: serde + serde_json, `lambda-full`: tokio, clap, regex,
 * chrono, tracing, serde...): a no-op rebuild, and a one-line edit of the package's main.rs (two
 * versions alternated). Each round edits, builds with both engines (the order alternates between
 * rounds), then builds again with both (no-op). Times: the `docker run` wall time (container start
 * and removal included) and cargo's own time measured inside the container.
 *
 *   npx tsx bench/local-registry/bench.ts [--runs 7] [--image rust:1-bullseye] [--work DIR] [--keep]
 *
 * Results: a table on stdout, JSON in bench/results/local-registry-<date>.json.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from 'smol-toml';
import { prepareCargoHome } from '../../build/builder/cargo-home.js';
import { bindMount, TARGET_MOUNT, WORKSPACE_MOUNT } from '../../build/builder/container.js';
import type { CachePaths } from '../../build/cache/paths.js';
import { makeLocalRegistry } from './make-local-registry.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const TRIPLE = 'x86_64-unknown-linux-gnu';
const PACKAGES = ['lambda-small', 'lambda-full'] as const;
const ENGINES = ['old', 'new', 'tmpfs'] as const;
const OLD_CARGO_HOME = '/cache/cargo-home';
const EDIT_LINE = /^const GREETING: &str = ".*";$/m;
const VARIANTS = ['const GREETING: &str = "hello";', 'const GREETING: &str = "hello again";'];

type Pkg = (typeof PACKAGES)[number];
type Engine = (typeof ENGINES)[number];
type Case = 'noop' | 'edit' | 'extract';

interface Sample {
  pkg: Pkg;
  engine: Engine;
  case: Case;
  round: number;
  wallS: number;
  cargoS: number;
  unpacked: number;
  compiled: number;
  /** 1-minute load average when the sample ended (other processes share the machine). */
  load: number;
}

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1]! : fallback;
}

const runs = Number(option('--runs', '7'));
const image = option('--image', 'rust:1-bullseye');
const work = path.resolve(option('--work', path.join(os.tmpdir(), 'sweep-local-registry-bench')));
const keep = process.argv.includes('--keep');
const log = (text: string) => process.stderr.write(`${text}\n`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

function sh(command: string, args: string[], input?: string): { status: number; out: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28, input });
  return { status: result.status ?? -1, out: `${result.stdout}${result.stderr}` };
}

// --- setup (not timed) ---
const registrySource = path.join(HERE, 'workspace', 'registry');
if (!fs.existsSync(path.join(registrySource, 'index'))) {
  log('making the local registry (make-local-registry.ts)');
  makeLocalRegistry('/usr/share/cargo/registry', registrySource);
}
const workspace = path.join(work, 'workspace');
if (!keep || !fs.existsSync(workspace)) {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  fs.cpSync(path.join(HERE, 'workspace'), workspace, { recursive: true });
}
ensureLockMatchesRegistry();

const registryStats = registryFacts(path.join(workspace, 'registry'));
log(`registry: ${registryStats.crates} crates, ${mb(registryStats.bytes)} MB of .crate files`);

function ensureLockMatchesRegistry(): void {
  const lock = parseToml(fs.readFileSync(path.join(workspace, 'Cargo.lock'), 'utf8')) as { package: Record<string, string>[] };
  const stale = lock.package.filter((p) => {
    if (p.checksum === undefined) return false;
    const file = path.join(workspace, 'registry', `${p.name}-${p.version}.crate`);
    return !fs.existsSync(file) || createHash('sha256').update(fs.readFileSync(file)).digest('hex') !== p.checksum;
  });
  if (stale.length === 0) return;
  log(`Cargo.lock does not match this registry (${stale.map((p) => p.name).join(', ')}): regenerating it with the image's cargo`);
  const result = sh('docker', [
    'run',
    '--rm',
    '--user',
    `${process.getuid!()}:${process.getgid!()}`,
    '--mount',
    bindMount(workspace, WORKSPACE_MOUNT, false),
    '-e',
    'HOME=/tmp',
    '-e',
    'CARGO_HOME=/tmp/cargo-home',
    '-w',
    WORKSPACE_MOUNT,
    image,
    'cargo',
    'generate-lockfile',
    '--offline',
  ]);
  if (result.status !== 0) throw new Error(`cargo generate-lockfile failed:\n${result.out}`);
}

function registryFacts(folder: string): { crates: number; bytes: number } {
  const crates = fs.readdirSync(folder).filter((f) => f.endsWith('.crate'));
  return { crates: crates.length, bytes: crates.reduce((n, f) => n + fs.statSync(path.join(folder, f)).size, 0) };
}

// --- the two containers ---
function cacheRoot(engine: Engine, pkg: Pkg): string {
  return path.join(work, `${engine}-${pkg}`);
}

/**
 * `docker run` arguments up to and including the image, as the engine's runInBuilder builds them,
 * and the shell commands that run before cargo in the container (the new engine's links).
 */
function container(engine: Engine, pkg: Pkg): { args: string[]; setup: string } {
  const root = cacheRoot(engine, pkg);
  const target = path.join(root, 'cargo-target');
  fs.mkdirSync(target, { recursive: true });
  const common = [
    'run',
    '--rm',
    '--label',
    'org.sweep.bench=local-registry',
    '--user',
    `${process.getuid!()}:${process.getgid!()}`,
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--mount',
    bindMount(workspace, WORKSPACE_MOUNT, true),
    '--mount',
    bindMount(target, TARGET_MOUNT, false),
    '-e',
    `CARGO_TARGET_DIR=${TARGET_MOUNT}`,
    '-e',
    'HOME=/tmp',
    '-w',
    WORKSPACE_MOUNT,
  ];
  if (engine === 'old') {
    const home = path.join(root, 'cargo-home');
    fs.mkdirSync(home, { recursive: true });
    return {
      args: [...common, '--mount', bindMount(home, OLD_CARGO_HOME, false), '-e', `CARGO_HOME=${OLD_CARGO_HOME}`, image],
      setup: 'true',
    };
  }
  const cache = { domain: 'local', cargoTarget: target, cargoHome: path.join(root, 'cargo-home'), features: '' };
  const home = prepareCargoHome(cache as CachePaths, workspace, { line: log, stream: () => log });
  // tmpfs: the new engine's container with its fresh CARGO_HOME in memory instead of the container's writable layer.
  const tmpfs = engine === 'tmpfs' ? ['--mount', `type=tmpfs,destination=${home.cargoHome},tmpfs-mode=1777`] : [];
  return {
    args: [
      ...common,
      ...tmpfs,
      ...home.mounts.flatMap((m) => ['--mount', bindMount(m.source, m.target, false)]),
      '-e',
      `CARGO_HOME=${home.cargoHome}`,
      image,
    ],
    setup: home.setup,
  };
}

interface BuildResult {
  wallS: number;
  cargoS: number;
  /** With `twice`: the second, identical cargo build in the same container (nothing left to extract). */
  againS?: number;
  unpacked: number;
  compiled: number;
}

function build(engine: Engine, pkg: Pkg, twice = false): BuildResult {
  const cargo = `cargo build --locked --profile release --target ${TRIPLE} -p ${pkg} --bin bootstrap`;
  const { args, setup } = container(engine, pkg);
  const timed = (marker: string) => `s=$(date +%s%N); ${cargo} || exit $?; e=$(date +%s%N); echo "@@${marker} $((e - s))"`;
  const script = `${setup} && ${timed('cargo_ns')}${twice ? ` && ${timed('again_ns')}` : ''}`;
  const started = performance.now();
  const result = sh('docker', [...args, 'sh', '-c', script]);
  const wallS = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`${engine} ${pkg}: cargo build failed:\n${result.out}`);
  const seconds = (marker: string) => Number(new RegExp(`@@${marker} (\\d+)`).exec(result.out)?.[1]) / 1e9;
  const count = (word: string) => result.out.split('\n').filter((l) => l.trimStart().startsWith(word)).length;
  return {
    wallS,
    cargoS: seconds('cargo_ns'),
    ...(twice ? { againS: seconds('again_ns') } : {}),
    unpacked: count('Unpacking'),
    compiled: count('Compiling'),
  };
}

function edit(pkg: Pkg, variant: number): void {
  const main = path.join(workspace, 'crates', pkg, 'src', 'main.rs');
  const text = fs.readFileSync(main, 'utf8');
  if (!EDIT_LINE.test(text)) throw new Error(`${main} has no GREETING line to edit`);
  fs.writeFileSync(main, text.replace(EDIT_LINE, VARIANTS[variant]!));
}

/** What the new engine extracts on every build: crates, files and bytes under registry/src. */
function extractedFacts(pkg: Pkg): { crates: number; files: number; bytes: number; crateBytes: number } {
  const { args, setup } = container('new', pkg);
  const script = `${setup} && cargo build --locked --profile release --target ${TRIPLE} -p ${pkg} --bin bootstrap -q 2>/dev/null; cd "$CARGO_HOME/registry/src"/* && ls | while read c; do echo "crate $c"; done; find . -type f -printf '%s\\n' | awk '{n++; b+=$1} END {print "files", n; print "bytes", b}'`;
  const result = sh('docker', [...args, 'sh', '-c', script]);
  const crates = result.out
    .split('\n')
    .filter((l) => l.startsWith('crate '))
    .map((l) => l.slice(6));
  const crateBytes = crates.reduce((n, c) => n + fs.statSync(path.join(workspace, 'registry', `${c}.crate`)).size, 0);
  return {
    crates: crates.length,
    files: Number(/^files (\d+)/m.exec(result.out)?.[1]),
    bytes: Number(/^bytes (\d+)/m.exec(result.out)?.[1]),
    crateBytes,
  };
}

// --- warm-up (not timed): each engine's target folder and CARGO_HOME brought up to date ---
for (const pkg of PACKAGES) {
  edit(pkg, 0);
  for (const engine of ENGINES) {
    // tmpfs starts from a copy of new's target folder (same paths inside the container, so still fresh).
    const target = path.join(cacheRoot(engine, pkg), 'cargo-target');
    const fromNew = path.join(cacheRoot('new', pkg), 'cargo-target');
    if (engine === 'tmpfs' && !fs.existsSync(target) && fs.existsSync(fromNew)) {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      sh('cp', ['-a', fromNew, target]);
    }
    log(`warm-up: ${engine} ${pkg}`);
    const first = build(engine, pkg);
    log(`  ${first.compiled} compiled, ${first.unpacked} unpacked, ${first.wallS.toFixed(1)} s`);
  }
}

// --- measured rounds ---
const samples: Sample[] = [];
for (let round = 0; round < runs; round++) {
  for (const pkg of PACKAGES) {
    const order = ENGINES.map((_, i) => ENGINES[(i + round) % ENGINES.length]!);
    if (round % 2 === 1) order.reverse();
    edit(pkg, (round + 1) % 2);
    for (const kase of ['edit', 'noop', 'extract'] as const) {
      for (const engine of order) {
        if (kase === 'extract' && engine === 'old') continue;
        const r = build(engine, pkg, kase === 'extract');
        // extract: cargo's time for a no-op build that extracts every crate, minus the same build again in the same container.
        const cargoS = kase === 'extract' ? r.cargoS - r.againS! : r.cargoS;
        const load = os.loadavg()[0]!;
        samples.push({ pkg, engine, case: kase, round, wallS: r.wallS, cargoS, unpacked: r.unpacked, compiled: r.compiled, load });
        log(
          `round ${round + 1}/${runs} ${pkg} ${kase} ${engine}: ${r.wallS.toFixed(2)} s (cargo ${cargoS.toFixed(2)} s), ${r.compiled} compiled, ${r.unpacked} unpacked, load ${load.toFixed(1)}`,
        );
      }
    }
  }
}

// --- same bytes? ---
const binaries = Object.fromEntries(
  PACKAGES.flatMap((pkg) =>
    ENGINES.map((engine) => {
      const file = path.join(cacheRoot(engine, pkg), 'cargo-target', TRIPLE, 'release', 'bootstrap');
      return [`${engine} ${pkg}`, createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16)];
    }),
  ),
);

// --- report ---
const fmt = (xs: number[]) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
const rows: string[] = [
  '| package | case | old wall | new wall | tmpfs wall | new - old | tmpfs - old | old cargo | new cargo | tmpfs cargo | unpacked (new) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
const extracted: Record<string, ReturnType<typeof extractedFacts>> = {};
for (const pkg of PACKAGES) {
  extracted[pkg] = extractedFacts(pkg);
  for (const kase of ['noop', 'edit'] as const) {
    const of = (engine: Engine) => samples.filter((s) => s.pkg === pkg && s.case === kase && s.engine === engine);
    const wall = (engine: Engine) => of(engine).map((s) => s.wallS);
    const cargo = (engine: Engine) => median(of(engine).map((s) => s.cargoS)).toFixed(2);
    // Median of the per-round differences: each round's builds ran back to back, under the same load.
    const delta = (engine: Engine) => {
      const old = new Map(of('old').map((s) => [s.round, s.wallS]));
      return fmt(of(engine).map((s) => s.wallS - old.get(s.round)!));
    };
    rows.push(
      `| ${pkg} | ${kase} | ${fmt(wall('old'))} | ${fmt(wall('new'))} | ${fmt(wall('tmpfs'))} | ${delta('new')} | ${delta('tmpfs')} | ${cargo('old')} | ${cargo('new')} | ${cargo('tmpfs')} | ${median(of('new').map((s) => s.unpacked))} |`,
    );
  }
  const extract = (engine: Engine) =>
    fmt(samples.filter((s) => s.pkg === pkg && s.case === 'extract' && s.engine === engine).map((s) => s.cargoS));
  rows.push(`| ${pkg} | extraction alone (cargo, same container) | - | - | - | ${extract('new')} | ${extract('tmpfs')} | | | | |`);
}
const loads = samples.map((s) => s.load);
const facts = [
  `image ${image}, ${runs} runs per cell, interleaved; ${os.cpus().length} CPUs, 1-min load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}; seconds, median (min-max)`,
  `registry: ${registryStats.crates} crates, ${mb(registryStats.bytes)} MB of .crate files`,
  ...PACKAGES.map(
    (pkg) =>
      `${pkg}: the new engine extracts ${extracted[pkg]!.crates} crates per build (${mb(extracted[pkg]!.crateBytes)} MB of .crate files -> ${extracted[pkg]!.files} files, ${mb(extracted[pkg]!.bytes)} MB)`,
  ),
  `binaries (sha256/16): ${Object.entries(binaries)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
];
console.log([...facts, '', ...rows].join('\n'));
const resultsDir = path.join(REPO, 'bench', 'results');
fs.mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `local-registry-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(
  file,
  JSON.stringify({ image, runs, cpus: os.cpus().length, registry: registryStats, extracted, binaries, samples }, null, 2),
);
log(`wrote ${path.relative(REPO, file)}`);
if (!keep) fs.rmSync(work, { recursive: true, force: true });
