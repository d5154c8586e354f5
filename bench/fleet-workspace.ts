import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { lockUpdateCommand } from '../build/cargo/lock-update.js';
import { DOCKER } from './docker.js';

/**
 * The 100-function workspace of issue 22, generated (never committed): crates `fn001`..`fnNNN`,
 * each a binary depending on one shared path crate `core`, `members = ["crates/*"]`, resolver 2,
 * the example's release profile, std only.
 *
 * The binaries are as big as the issue's (about 10.8 MiB) through one static table in `core`
 * that every function indexes at run time, so none of it is optimised away. Its bytes are the
 * first TABLE_BYTES of the toolchain image's own cargo binary: real machine code, so a function's
 * zip compresses as a Rust binary does (a pseudo-random table deflates several times faster than
 * code and would make packaging look cheap).
 *
 * Cargo.lock is written by the toolchain image's cargo (`cargo generate-lockfile --offline`), so
 * its format is the one that cargo reads (version 3 for cargo 1.78).
 */
export const TABLE_BYTES = 10 * 1024 * 1024;
/** How many functions the bench's fleet has. */
export const FLEET_SIZE = 100;

export interface FleetWorkspace {
  readonly root: string;
  /** fn001, fn002, ... */
  readonly functions: readonly string[];
}

/** The function names of a fleet of `count`. */
export function fleetNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `fn${String(i + 1).padStart(3, '0')}`);
}

/** Writes the workspace into `root` (an empty folder): manifests, sources, the table and Cargo.lock. */
export async function generateFleetWorkspace(root: string, count: number, toolchainImage: string): Promise<FleetWorkspace> {
  const functions = fleetNames(count);
  fs.mkdirSync(path.join(root, 'crates', 'core', 'src'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'Cargo.toml'),
    `[workspace]
resolver = "2"
members = ["crates/*"]

[workspace.package]
version = "0.1.0"
edition = "2021"
publish = false

[profile.release]
opt-level = 3
debug = false
strip = true
incremental = false
`,
  );
  fs.writeFileSync(
    path.join(root, 'crates', 'core', 'Cargo.toml'),
    `[package]
name = "core"
description = "What every generated function shares: a large static table."
version.workspace = true
edition.workspace = true
publish.workspace = true
`,
  );
  fs.writeFileSync(
    path.join(root, 'crates', 'core', 'src', 'lib.rs'),
    `//! The shared crate of the generated fleet.

/// Real machine code as data: it keeps every binary as large as a real Lambda's.
pub static TABLE: &[u8] = include_bytes!("../table.bin");

/// One byte of the table, chosen at run time (so the whole table stays in the binary).
pub fn pick(index: usize) -> u8 {
    TABLE[index % TABLE.len()]
}

pub fn greeting(name: &str) -> String {
    format!("{name}: hello from core {}", env!("CARGO_PKG_VERSION"))
}
`,
  );
  fs.writeFileSync(path.join(root, 'crates', 'core', 'table.bin'), await readTable(toolchainImage));
  for (const [i, name] of functions.entries()) writeFunction(root, name, i + 1);
  const [docker, ...args] = lockUpdateCommand(DOCKER, root, toolchainImage);
  await execa(docker!, args, { timeout: 120_000 });
  return { root, functions };
}

/** Writes (or rewrites) one function crate. */
export function writeFunction(root: string, name: string, seed: number, extraDependencies = ''): void {
  const crate = path.join(root, 'crates', name);
  fs.mkdirSync(path.join(crate, 'src'), { recursive: true });
  fs.writeFileSync(
    path.join(crate, 'Cargo.toml'),
    `[package]
name = "${name}"
version.workspace = true
edition.workspace = true
publish.workspace = true

[[bin]]
name = "${name}"
path = "src/main.rs"

[dependencies]
fleet-core = { package = "core", path = "../core" }
${extraDependencies}`,
  );
  fs.writeFileSync(path.join(crate, 'src', 'main.rs'), functionMain(name, seed));
}

/** A function's main.rs; `revision` is what the bench's edit changes. */
export function functionMain(name: string, seed: number, revision = 0): string {
  return `fn main() {
    let index = std::env::args().count() * ${seed * 7919};
    println!("{} {} (revision ${revision})", fleet_core::greeting("${name}"), fleet_core::pick(index));
}
`;
}

/** The first TABLE_BYTES of the toolchain image's cargo binary (the same bytes for the same image). */
async function readTable(toolchainImage: string): Promise<Buffer> {
  const { stdout } = await execa(DOCKER, ['run', '--rm', toolchainImage, 'sh', '-c', `head -c ${TABLE_BYTES} "$(command -v cargo)"`], {
    encoding: 'buffer',
    timeout: 120_000,
  });
  const table = Buffer.from(stdout);
  if (table.byteLength !== TABLE_BYTES) throw new Error(`the toolchain image's cargo gave ${table.byteLength} bytes, not ${TABLE_BYTES}`);
  return table;
}

/** cdktf.json's context for the fleet: every function in `sweep.functions`. */
export function fleetCdktfJson(functions: readonly string[]): string {
  const fns = Object.fromEntries(
    functions.map((name) => [name, { functionName: `fleet-${name}`, artifact: { package: name, binary: name } }]),
  );
  return `${JSON.stringify(
    {
      language: 'typescript',
      app: 'node bin/run-ts.mjs main.ts',
      projectId: 'sweep-fleet-bench',
      sendCrashReports: 'false',
      terraformProviders: [],
      terraformModules: [],
      context: {
        sweep: {
          stackName: 'sweep-fleet',
          region: 'us-east-1',
          artifact: { workspace: 'rust', architecture: 'x86_64', runtime: 'provided.al2023', profile: 'release' },
          functions: fns,
          backend: { type: 'local' },
        },
      },
    },
    null,
    2,
  )}\n`;
}
