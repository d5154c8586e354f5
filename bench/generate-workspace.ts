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
