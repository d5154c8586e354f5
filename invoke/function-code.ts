/**
 * One version of a function's code, as the Invoke API's execution environments run it: the zip
 * is read and checked once, when the version is made (a zip Lambda would refuse is refused
 * before any environment starts), and every environment then gets its own unpacked copy of that
 * same binary. A version never changes: a code update makes a new one, so an environment runs
 * exactly one zip, never a mix.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ArtifactMetadata, ZIP_ENTRY_NAME } from '../build/index.js';
import { zipWithoutBootstrap } from './errors.js';
import { readZipEntry } from './zip-entry.js';

/** A built zip and the metadata the engine wrote for it (architecture, glibc, builder image). */
export interface CodeSource {
  readonly zipPath: string;
  readonly metadata: ArtifactMetadata;
  /**
   * The builder image this machine's configuration names for the function (its recipe's tag),
   * where `bootstrap` runs when it cannot run on this machine. Never the metadata's own tag: that
   * may come from the shared cache.
   */
  readonly builderImage: string;
}

/** Counts versions across all functions, so a log line's version number is unambiguous. */
let versions = 0;

export class FunctionCode {
  private constructor(
    readonly source: CodeSource,
    /** 1 for the first version made in this process, then 2, 3, ... */
    readonly version: number,
    private readonly binary: Buffer,
  ) {}

  /**
   * Reads `bootstrap` out of the zip (refusing one over Lambda's unzipped limit, damaged, or
   * without that entry). The zip may change on disk afterwards: this version keeps its bytes.
   */
  static read(source: CodeSource): FunctionCode {
    const binary = readZipEntry(source.zipPath, ZIP_ENTRY_NAME);
    if (!binary) throw zipWithoutBootstrap(source.zipPath);
    versions += 1;
    return new FunctionCode(source, versions, binary);
  }

  /**
   * A new temporary folder holding this version's `bootstrap` (mode 0755), for one environment's
   * task root. The caller removes it when the environment is retired.
   */
  unpack(): string {
    const taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-env-'));
    try {
      // Readable by the function's user, as /var/task is on Lambda (mkdtemp makes it owner-only,
      // which a container user other than the caller could not enter).
      fs.chmodSync(taskRoot, 0o755);
      fs.writeFileSync(path.join(taskRoot, ZIP_ENTRY_NAME), this.binary, { mode: 0o755 });
    } catch (error) {
      fs.rmSync(taskRoot, { recursive: true, force: true });
      throw error;
    }
    return taskRoot;
  }
}
