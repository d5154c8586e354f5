/**
 * Where a zip's `bootstrap` runs locally: on this machine when it can (same architecture, a glibc
 * at least as new as the binary needs), else in its builder image, whose glibc is the one it was
 * built against; a binary for another architecture runs there under a registered qemu emulator.
 * Shared by the one-shot invoke and the Invoke API's warm environments, so both decide alike.
 */
import * as fs from 'node:fs';
import { type ArtifactMetadata, compareVersions } from '../build/index.js';
import { noEmulator } from './errors.js';

const HOST_MACHINE: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

/**
 * `host`, or the builder image to run in; an error when neither can run the binary.
 * `builderImage` is the image this machine's configuration names for the function (its recipe's
 * tag), never `metadata.builderImage`: metadata may come from the shared cache, and nothing read
 * from the bucket chooses what runs.
 */
export function whereToRun(metadata: ArtifactMetadata, inContainer: boolean, builderImage: string): string {
  const { binary } = metadata;
  const hostMachine = HOST_MACHINE[process.arch] ?? process.arch;
  if (binary.machine !== hostMachine) {
    // With a qemu emulator registered (binfmt_misc, fix-binary flag), the kernel runs foreign
    // binaries, in containers too. The builder image of a cross build has the target's C library
    // (its multiarch packages), which this machine lacks: run it there.
    const emulator = `/proc/sys/fs/binfmt_misc/qemu-${binary.machine}`;
    if (fs.existsSync(emulator)) return builderImage;
    throw noEmulator(binary.machine, hostMachine, emulator);
  }
  if (inContainer) return builderImage;
  const hostGlibc = hostGlibcVersion();
  const needs = binary.glibcRequired;
  if (needs === null || (hostGlibc !== undefined && compareVersions(hostGlibc, needs) >= 0)) return 'host';
  return builderImage;
}

let glibc: { readonly version: string | undefined } | undefined;

/**
 * This machine's glibc, read once: a diagnostic report costs tens of milliseconds, and a watch
 * loop asks again on every rebuild.
 */
function hostGlibcVersion(): string | undefined {
  glibc ??= {
    version: (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime,
  };
  return glibc.version;
}
