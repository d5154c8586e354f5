import * as fs from 'node:fs';
import * as path from 'node:path';
import { BuildLock, describeOwner } from '../cache/lock.js';
import type { CargoFunction } from '../cargo/feature-tree.js';
import { cargoBuildArgs } from '../cargo/runs.js';
import { formatDuration } from '../support/stage-timer.js';
import { type BuilderContainer, runInBuilder } from './container.js';
import { cargoProducedNoBinary } from './errors.js';

/*
 * Compiles one cargo run: one `cargo build --locked` in the builder container for every unit
 * (package, binary, features) that may share it (see cargo/runs.ts for who may), and returns
 * each unit's binary.
 *
 * Every build of a trust domain shares one cargo target folder, and cargo writes each binary to
 * `target/<triple>/<profile>/<binary>`: two packages with a binary named `bootstrap` write the
 * same file. So the target folder has a lock of its own, held from before cargo starts until the
 * binaries are read into memory: no other process of this engine can compile into the folder in
 * between, and the bytes read are the ones this cargo run wrote. (Cargo's own lock on the folder
 * ends when cargo exits, before the binaries are read.) It is the innermost lock: held for one
 * compile, never while waiting for another lock, so it cannot deadlock with the build locks.
 */
export type CompileUnit = CargoFunction;

export interface CompileSettings {
  readonly profile: string;
  readonly targetTriple: string;
  /** How long to wait for another process's compile in the same target folder (SWEEP_LOCK_TIMEOUT_SECONDS). */
  readonly lockTimeoutMs?: number;
}

export function unitKey(unit: CompileUnit): string {
  return `${unit.package}/${unit.binary}[${unit.features.join(',')}]`;
}

export async function compileRun(
  container: BuilderContainer,
  units: readonly CompileUnit[],
  settings: CompileSettings,
): Promise<Map<string, Uint8Array>> {
  const cargo = cargoBuildArgs(units, settings.profile, settings.targetTriple);
  const lock = await BuildLock.acquire(container.cache.cargoTargetLock, {
    signal: container.signal,
    timeoutMs: settings.lockTimeoutMs,
    onWait: (owner, waitedMs, first) =>
      container.reporter.line(
        first
          ? `compile: waiting for the cargo target folder: ${describeOwner(owner)} is compiling in it`
          : `compile: still waiting for the cargo target folder (${formatDuration(waitedMs)}, held by ${describeOwner(owner)})`,
      ),
  });
  try {
    container.reporter.line(`compile: ${cargo.join(' ')}`);
    await runInBuilder(container, 'compile', cargo);
    const binaries = new Map<string, Uint8Array>();
    for (const unit of units) {
      const file = builtBinaryPath(container.cache.cargoTarget, settings, unit.binary);
      if (!fs.existsSync(file)) throw cargoProducedNoBinary(file, unit.package, unit.binary, settings.profile);
      binaries.set(unitKey(unit), fs.readFileSync(file));
    }
    return binaries;
  } finally {
    lock.release();
  }
}

/** Cargo's output folder for a profile: `dev` and `test` build into `debug`, `bench` into `release`, the rest into their own name. */
export function builtBinaryPath(targetDir: string, settings: Pick<CompileSettings, 'profile' | 'targetTriple'>, binary: string): string {
  const { profile } = settings;
  const folder = profile === 'dev' || profile === 'test' ? 'debug' : profile === 'bench' ? 'release' : profile;
  return path.join(targetDir, settings.targetTriple, folder, binary);
}
