import * as fs from 'node:fs';
import * as path from 'node:path';
import { BuildLock, describeOwner } from '../cache/lock.js';
import type { CargoFunction } from '../cargo/feature-tree.js';
import { cargoBuildArgs } from '../cargo/runs.js';
import { isSweepError, type SweepError } from '../support/errors.js';
import { formatDuration } from '../support/stage-timer.js';
import { type BuilderContainer, runInBuilder, WORKSPACE_MOUNT } from './container.js';
import { DockerCommandError } from './docker.js';
import { cargoCouldNotBuild, cargoProducedNoBinary } from './errors.js';

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
export interface CompileUnit extends CargoFunction {
  /** The package's folder relative to the workspace root ('' for a root package): how cargo's messages name it. */
  readonly packageDir: string;
  /** How the functions of this unit are named in an error. @default the package */
  readonly label?: string;
}

/** How cargo is asked to report a run (see compileRun); they change nothing it builds. */
const REPORTING_FLAGS = ['--keep-going', '--message-format=json-render-diagnostics'];

export interface CompileSettings {
  readonly profile: string;
  readonly targetTriple: string;
  /** How long to wait for another process's compile in the same target folder (SWEEP_LOCK_TIMEOUT_SECONDS). */
  readonly lockTimeoutMs?: number;
}

export function unitKey(unit: CargoFunction): string {
  return `${unit.package}/${unit.binary}[${unit.features.join(',')}]`;
}

/**
 * Builds a run's units and returns, by unit key, each unit's binary, or the error of a unit cargo
 * could not build. Cargo runs with `--keep-going`, so one unit that does not compile does not stop
 * the others (they are built and committed), and with its JSON messages on stdout
 * (`--message-format=json-render-diagnostics`: its own human-readable messages still stream on
 * stderr), which say exactly which binaries it made in this run. A unit it did not make has
 * failed, whatever an earlier build left in the target folder.
 */
export async function compileRun(
  container: BuilderContainer,
  units: readonly CompileUnit[],
  settings: CompileSettings,
): Promise<Map<string, Uint8Array | SweepError>> {
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
    let messages: string;
    let failure: SweepError | undefined;
    try {
      // The log shows what is built; these two flags change only how cargo reports, not the bytes.
      messages = await runInBuilder(container, 'compile', [...cargo, ...REPORTING_FLAGS], true);
    } catch (error) {
      const cause = isSweepError(error) ? error.cause : undefined;
      // cargo itself failed (not a cancellation, nor docker refusing to start): see what it made.
      if (!(cause instanceof DockerCommandError) || cause.cancelled || cause.exitCode === 125 || cause.stdout === undefined) throw error;
      messages = cause.stdout;
      failure = error as SweepError;
    }
    const made = binariesMade(messages);
    const results = new Map<string, Uint8Array | SweepError>();
    const failed = units.filter((unit) => !made.has(`${unit.packageDir}\0${unit.binary}`));
    const unbuilt =
      failed.length > 0
        ? cargoCouldNotBuild(
            failed.map((unit) => unit.label ?? unit.package),
            failure,
          )
        : undefined;
    for (const unit of units) {
      const file = builtBinaryPath(container.cache.cargoTarget, settings, unit.binary);
      if (failed.includes(unit) && failure !== undefined) {
        results.set(unitKey(unit), unbuilt!);
        continue;
      }
      // cargo succeeded yet did not say it made this binary, or said so and it is not there.
      if (failed.includes(unit) || !fs.existsSync(file)) throw cargoProducedNoBinary(file, unit.package, unit.binary, settings.profile);
      results.set(unitKey(unit), fs.readFileSync(file));
    }
    return results;
  } finally {
    lock.release();
  }
}

/**
 * The binaries cargo says it made (or found fresh) in this run, as `<package folder>\0<binary>`,
 * from its `compiler-artifact` messages: the package by its manifest's folder relative to the
 * workspace mount, which cannot be confused with another package of the same name.
 */
export function binariesMade(messages: string): Set<string> {
  const made = new Set<string>();
  for (const line of messages.split('\n')) {
    if (!line.startsWith('{')) continue;
    let message: { reason?: unknown; executable?: unknown; manifest_path?: unknown; target?: { name?: unknown; kind?: unknown } };
    try {
      message = JSON.parse(line);
    } catch {
      continue; // a line a build script printed on stdout: not cargo's
    }
    if (message.reason !== 'compiler-artifact' || typeof message.executable !== 'string' || typeof message.manifest_path !== 'string')
      continue;
    const manifest = path.posix.relative(WORKSPACE_MOUNT, message.manifest_path);
    const folder = path.posix.dirname(manifest);
    if (typeof message.target?.name === 'string') made.add(`${folder === '.' ? '' : folder}\0${message.target.name}`);
  }
  return made;
}

/** Cargo's output folder for a profile: `dev` and `test` build into `debug`, `bench` into `release`, the rest into their own name. */
export function builtBinaryPath(targetDir: string, settings: Pick<CompileSettings, 'profile' | 'targetTriple'>, binary: string): string {
  const { profile } = settings;
  const folder = profile === 'dev' || profile === 'test' ? 'debug' : profile === 'bench' ? 'release' : profile;
  return path.join(targetDir, settings.targetTriple, folder, binary);
}
