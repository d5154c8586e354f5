import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CargoFunction } from '../cargo/feature-tree.js';
import { cargoBuildArgs } from '../cargo/runs.js';
import { type BuilderContainer, runInBuilder } from './container.js';
import { cargoProducedNoBinary } from './errors.js';

/*
 * Compiles one cargo run: one `cargo build --locked` in the builder container for every unit
 * (package, binary, features) that may share it (see cargo-runs.ts for who may), and returns
 * each unit's binary, read at once: a later run in the same target folder may write a binary of
 * the same name.
 */
export type CompileUnit = CargoFunction;

export interface CompileSettings {
  readonly profile: string;
  readonly targetTriple: string;
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
  container.reporter.line(`compile: ${cargo.join(' ')}`);
  await runInBuilder(container, 'compile', cargo);
  const binaries = new Map<string, Uint8Array>();
  for (const unit of units) {
    const file = builtBinaryPath(container.cache.cargoTarget, settings, unit.binary);
    if (!fs.existsSync(file)) throw cargoProducedNoBinary(file, unit.package, unit.binary, settings.profile);
    binaries.set(unitKey(unit), fs.readFileSync(file));
  }
  return binaries;
}

/** Cargo's output folder for a profile: `dev` and `test` build into `debug`, `bench` into `release`, the rest into their own name. */
export function builtBinaryPath(targetDir: string, settings: CompileSettings, binary: string): string {
  const { profile } = settings;
  const folder = profile === 'dev' || profile === 'test' ? 'debug' : profile === 'bench' ? 'release' : profile;
  return path.join(targetDir, settings.targetTriple, folder, binary);
}
