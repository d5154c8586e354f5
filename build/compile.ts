import * as fs from 'node:fs';
import * as path from 'node:path';
import { type BuilderContainer, runInBuilder } from './builder-container.js';
import { DockerCommandError } from './docker-client.js';
import { cargoBuildFailed, cargoProducedNoBinary, compileInterrupted } from './errors.js';

/**
 * Compiles one cargo run: one `cargo build --locked` in the builder container for every unit
 * (package, binary, features) that may share it (see cargo-features.ts for who may), and returns
 * each unit's binary, read at once: a later run in the same target folder may write a binary of
 * the same name.
 */
export interface CompileUnit {
  readonly package: string;
  readonly binary: string;
  readonly features: readonly string[];
}

export interface CompileSettings {
  readonly profile: string;
  readonly targetTriple: string;
}

export function unitKey(unit: CompileUnit): string {
  return `${unit.package}/${unit.binary}[${unit.features.join(',')}]`;
}

export async function compileRun(container: BuilderContainer, units: readonly CompileUnit[], settings: CompileSettings): Promise<Map<string, Uint8Array>> {
  const cargo = cargoBuildArgs(units, settings);
  container.reporter.line(`compile: ${cargo.join(' ')}`);
  fs.mkdirSync(container.cache.cargoTarget, { recursive: true });
  try {
    await runInBuilder(container, 'compile', cargo);
  } catch (error) {
    if (!(error instanceof DockerCommandError)) throw error;
    throw error.cancelled ? compileInterrupted(error) : cargoBuildFailed(error.exitCode, error.output, error);
  }
  const binaries = new Map<string, Uint8Array>();
  for (const unit of units) {
    const file = builtBinaryPath(container.cache.cargoTarget, settings, unit.binary);
    if (!fs.existsSync(file)) throw cargoProducedNoBinary(file, unit.package, unit.binary, settings.profile);
    binaries.set(unitKey(unit), fs.readFileSync(file));
  }
  return binaries;
}

/**
 * The cargo command line. One unit: exactly `cargo build --locked --profile P --target T
 * --package X --bin B [--features a,b]`, what building that function alone means. Several:
 * every package and binary named, features as `package/feature`, so each applies to its own
 * package only.
 */
export function cargoBuildArgs(units: readonly CompileUnit[], settings: CompileSettings): string[] {
  const args = ['cargo', 'build', '--locked', '--profile', settings.profile, '--target', settings.targetTriple];
  if (units.length === 1) {
    const [unit] = units as [CompileUnit];
    args.push('--package', unit.package, '--bin', unit.binary);
    if (unit.features.length > 0) args.push('--features', unit.features.join(','));
    return args;
  }
  // `--bin` selects that binary in every package named, which is why the plan never puts two
  // packages with a binary of the same name in one run.
  for (const pkg of new Set(units.map((unit) => unit.package))) args.push('--package', pkg);
  for (const binary of new Set(units.map((unit) => unit.binary))) args.push('--bin', binary);
  const features = units.flatMap((unit) => unit.features.map((feature) => `${unit.package}/${feature}`));
  if (features.length > 0) args.push('--features', [...new Set(features)].join(','));
  return args;
}

/** Cargo's output folder for a profile: `dev` and `test` build into `debug`, `bench` into `release`, the rest into their own name. */
export function builtBinaryPath(targetDir: string, settings: CompileSettings, binary: string): string {
  const { profile } = settings;
  const folder = profile === 'dev' || profile === 'test' ? 'debug' : profile === 'bench' ? 'release' : profile;
  return path.join(targetDir, settings.targetTriple, folder, binary);
}
