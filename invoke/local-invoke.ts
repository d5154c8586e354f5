import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { unzipSync } from 'fflate';
import { compareVersions } from '../build/elf.js';
import { SweepError } from '../build/errors.js';
import type { ArtifactMetadata } from '../build/metadata.js';
import { ZIP_ENTRY_NAME } from '../build/package-zip.js';
import { type InvocationOutcome, RuntimeApiServer } from './runtime-api-server.js';

/**
 * Runs a built zip's `bootstrap` once against a local Lambda Runtime API: the zip is unpacked to
 * a temporary folder (what is tested is the artifact that will be deployed, not a host build),
 * the binary is started with the variables Lambda sets, one event is sent, and the outcome is
 * returned. The binary runs on the host when the host can run it (same architecture, a glibc at
 * least as new as it needs), else in the builder container, whose glibc is the one it was built
 * against; a binary for another architecture runs there under a registered qemu emulator.
 */
export interface LocalInvokeRequest {
  readonly zipPath: string;
  readonly metadata: ArtifactMetadata;
  readonly event: string;
  readonly timeoutMs: number;
  readonly functionName: string;
  readonly memorySize: number;
  readonly region: string;
  /** The function's configured environment variables. */
  readonly environment: Readonly<Record<string, string>>;
  /** Run in the builder container even when the host could run the binary. */
  readonly inContainer?: boolean;
  readonly dockerCommand: string;
  /** The function's own output (stdout and stderr), line by line. */
  readonly onLog?: (line: string) => void;
}

export type LocalInvokeOutcome =
  | InvocationOutcome
  | { readonly kind: 'exited'; readonly exitCode: number | undefined; readonly signal: string | undefined };

export interface LocalInvokeResult {
  readonly outcome: LocalInvokeOutcome;
  /** Where the binary ran: `host` or the builder image's tag. */
  readonly ranOn: string;
}

export async function invokeLocally(request: LocalInvokeRequest): Promise<LocalInvokeResult> {
  const taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-invoke-'));
  const server = await RuntimeApiServer.start();
  let child: ResultPromise | undefined;
  try {
    const bootstrap = path.join(taskRoot, ZIP_ENTRY_NAME);
    const entries = unzipSync(fs.readFileSync(request.zipPath));
    const binary = entries[ZIP_ENTRY_NAME];
    if (!binary) {
      throw new SweepError({
        stage: 'invoke',
        problem: `${request.zipPath} has no ${ZIP_ENTRY_NAME} entry`,
        fix: 'rebuild it: FORCE_REBUILD=1 npx sweep-runtime build',
      });
    }
    fs.writeFileSync(bootstrap, binary, { mode: 0o755 });

    const where = chooseWhereToRun(request);
    const lambdaEnv: Record<string, string> = {
      ...request.environment,
      AWS_LAMBDA_RUNTIME_API: server.endpoint,
      AWS_LAMBDA_FUNCTION_NAME: request.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(request.memorySize),
      AWS_REGION: request.region,
      AWS_DEFAULT_REGION: request.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${request.metadata.settings.runtime.replace('.', '')}`,
      _HANDLER: ZIP_ENTRY_NAME,
      LAMBDA_TASK_ROOT: where === 'host' ? taskRoot : '/var/task',
    };
    // biome-ignore lint/correctness/useYield: an execa transform that yields nothing streams each line here instead of buffering it
    const log = function* (line: unknown) {
      request.onLog?.(String(line));
    };
    const common = { stdin: 'ignore', stdout: log, stderr: log, reject: false, buffer: false } as const;
    child =
      where === 'host'
        ? execa(bootstrap, [], { ...common, cwd: taskRoot, env: lambdaEnv, extendEnv: false })
        : execa(
            request.dockerCommand,
            [
              'run',
              '--rm',
              '--network',
              'host',
              '-v',
              `${taskRoot}:/var/task:ro`,
              '-w',
              '/var/task',
              ...Object.entries(lambdaEnv).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
              where,
              '/var/task/bootstrap',
            ],
            common,
          );
    const exited = child.then((r): LocalInvokeOutcome => ({ kind: 'exited', exitCode: r.exitCode, signal: r.signal }));
    const outcome = await Promise.race([server.invoke(request.event, { timeoutMs: request.timeoutMs }), exited]);
    return { outcome, ranOn: where };
  } finally {
    child?.kill('SIGKILL');
    await child?.catch(() => undefined);
    await server.close().catch(() => undefined);
    fs.rmSync(taskRoot, { recursive: true, force: true });
  }
}

const HOST_MACHINE: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

/** `host`, or the builder image to run in; an error when neither can run the binary. */
function chooseWhereToRun(request: LocalInvokeRequest): string {
  const { binary, builderImage } = request.metadata;
  const hostMachine = HOST_MACHINE[process.arch] ?? process.arch;
  if (binary.machine !== hostMachine) {
    // With a qemu emulator registered (binfmt_misc, fix-binary flag), the kernel runs foreign
    // binaries, in containers too. The builder image of a cross build has the target's C library
    // (its multiarch packages), which this machine lacks: run it there.
    const emulator = `/proc/sys/fs/binfmt_misc/qemu-${binary.machine}`;
    if (fs.existsSync(emulator)) return builderImage.tag;
    throw new SweepError({
      stage: 'invoke',
      problem: `cannot run ${binary.machine} binaries on this ${hostMachine} machine: no emulator is registered (${emulator})`,
      fix: `install an emulator (e.g. \`sudo apt-get install qemu-user-static binfmt-support\`), or invoke on a ${binary.machine} machine`,
    });
  }
  if (request.inContainer) return builderImage.tag;
  const hostGlibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  const needs = binary.glibcRequired;
  if (needs === null || (hostGlibc !== undefined && compareVersions(hostGlibc, needs) >= 0)) return 'host';
  return builderImage.tag;
}
