import * as fs from 'node:fs';
import * as path from 'node:path';
import { LAMBDA_SRC_DIR } from './project.js';

/**
 * Generated inputs for the fast-path scaling run: `count` Rust-looking source files of about
 * `bytesPerFile` each under the Lambda crate's `src/gen/` (100 files per sub-folder, as a real
 * tree spreads them), all different. They are never compiled: the fast path only stats, reads and
 * hashes them.
 *
 * Their mtimes are set `ageMs` in the past, outside the hash index's racy window, so a check
 * after the index is written finds every file known (the steady state of an unchanged tree).
 */
export interface GeneratedTree {
  readonly files: number;
  readonly bytes: number;
  readonly folder: string;
}

export function generateSources(workspace: string, count: number, bytesPerFile = 10_240, ageMs = 10_000): GeneratedTree {
  const folder = path.join(workspace, LAMBDA_SRC_DIR, 'gen');
  fs.mkdirSync(folder, { recursive: true });
  const past = new Date(Date.now() - ageMs);
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const sub = path.join(folder, `m${String(Math.floor(i / 100)).padStart(3, '0')}`);
    if (i % 100 === 0) fs.mkdirSync(sub, { recursive: true });
    const file = path.join(sub, `f${String(i).padStart(5, '0')}.rs`);
    const content = sourceText(i, bytesPerFile);
    fs.writeFileSync(file, content);
    fs.utimesSync(file, past, past);
    bytes += content.byteLength;
  }
  return { files: count, bytes, folder };
}

/** About `size` bytes of plausible Rust, unique to `seed`. */
function sourceText(seed: number, size: number): Buffer {
  const lines: string[] = [`//! Generated module ${seed} (benchmark input; never compiled).`, ''];
  let length = lines.join('\n').length;
  let n = 0;
  let x = (seed * 2654435761) >>> 0;
  while (length < size) {
    x = (Math.imul(x ^ (x >>> 15), 2246822519) + n) >>> 0;
    const line = `pub const ITEM_${seed}_${n}: (u32, &str) = (${x}, "${x.toString(36)}-${(x ^ seed).toString(16)}-sweep");`;
    lines.push(line);
    length += line.length + 1;
    n++;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** The shared crate the many-functions workspace's edit changes, and the line it changes. */
export const SHARED_CRATE_FILE = 'crates/sweep-core/src/lib.rs';
export const SHARED_REVISION_ANCHOR = 'pub const BENCH_REVISION: &str = "';

/**
 * A workspace of `count` Lambda functions over shared crates, for the many-functions scenario:
 * the example's library crates (sweep-core, sweep-lambda-runtime, and the test kit their tests
 * use) and `fn-a`, `fn-b`, ... each a copy of sweep-lambda's main.rs with a binary named after
 * its package (binaries of the same name cannot share a cargo run). Every function prints
 * `sweep_core::BENCH_REVISION`, a constant the scenario's edit of the shared crate changes, so
 * that edit changes every binary. Std only, path dependencies only: `Cargo.lock` is written here
 * in cargo's version 3 format (what cargo 1.78 reads), no registry is needed.
 */
export function generateManyFunctionWorkspace(example: string, target: string, count: number): string[] {
  const shared = ['sweep-core', 'sweep-lambda-runtime', 'sweep-lambda-testkit'];
  fs.mkdirSync(path.join(target, 'crates'), { recursive: true });
  fs.copyFileSync(path.join(example, 'Cargo.toml'), path.join(target, 'Cargo.toml'));
  for (const crate of shared) {
    fs.cpSync(path.join(example, 'crates', crate), path.join(target, 'crates', crate), {
      recursive: true,
      filter: (source) => path.basename(source) !== 'target',
    });
  }
  fs.appendFileSync(
    path.join(target, SHARED_CRATE_FILE),
    `\n/// Changed by the benchmark's edit of the shared crate; every generated function prints it.\n${SHARED_REVISION_ANCHOR}0";\n`,
  );

  const lambdaMain = fs.readFileSync(path.join(example, 'crates', 'sweep-lambda', 'src', 'main.rs'), 'utf8');
  const names = Array.from({ length: count }, (_, i) => `fn-${String.fromCharCode(97 + i)}`);
  for (const name of names) {
    const crate = path.join(target, 'crates', name);
    fs.mkdirSync(path.join(crate, 'src'), { recursive: true });
    fs.writeFileSync(
      path.join(crate, 'Cargo.toml'),
      `[package]
name = "${name}"
description = "A generated benchmark function (a copy of sweep-lambda)."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish.workspace = true

[[bin]]
name = "${name}"
path = "src/main.rs"

[features]
default = []
trace = []

[dependencies]
sweep-core.workspace = true
sweep-lambda-runtime.workspace = true

[lints]
workspace = true
`,
    );
    const main = lambdaMain
      .replace('const NAME: &str = "sweep-lambda";', `const NAME: &str = "${name}";`)
      .replace(
        'fn main() -> ExitCode {\n',
        `fn main() -> ExitCode {\n    eprintln!("{NAME}: sweep-core revision {}", sweep_core::BENCH_REVISION);\n`,
      );
    if (!main.includes('sweep_core::BENCH_REVISION'))
      throw new Error("sweep-lambda's main.rs has no `fn main() -> ExitCode {` line to print the revision from");
    fs.writeFileSync(path.join(crate, 'src', 'main.rs'), main);
  }

  // Cargo.lock: the example's entries of the shared crates, plus one per function, sorted by name.
  const lock = fs.readFileSync(path.join(example, 'Cargo.lock'), 'utf8');
  const [header, ...blocks] = lock.split(/\n(?=\[\[package\]\]\n)/);
  const nameOf = (block: string) => /^name = "([^"]+)"/m.exec(block)?.[1] ?? '';
  const kept = blocks.filter((block) => shared.includes(nameOf(block))).map((block) => block.trim());
  const generated = names.map(
    (name) => `[[package]]\nname = "${name}"\nversion = "0.1.0"\ndependencies = [\n "sweep-core",\n "sweep-lambda-runtime",\n]`,
  );
  const all = [...kept, ...generated].sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : 1));
  fs.writeFileSync(path.join(target, 'Cargo.lock'), `${header!.trimEnd()}\n\n${all.join('\n\n')}\n`);
  return names;
}
