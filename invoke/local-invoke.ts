import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { type ArtifactMetadata, ZIP_ENTRY_NAME } from '../build/index.js';
import { containerRunArgs } from './container-run.js';
import { zipWithoutBootstrap } from './errors.js';
import { LAMBDA_TASK_ROOT, lambdaEnvironment } from './lambda-environment.js';
import { checkEventSize } from './limits.js';
import { type InvocationOutcome, RuntimeApiServer } from './runtime-api-server.js';
import { whereToRun } from './where-to-run.js';
import { readZipEntry } from './zip-entry.js';

/*
 * Runs a built zip's `bootstrap` once against a local Lambda Runtime API: the zip is unpacked to
 * a temporary folder (what is tested is the artifact that will be deployed, not a host build),
 * the binary is started with the variables Lambda sets, one event is sent, and the outcome is
 * returned. The binary runs on the host when the host can run it (same architecture, a glibc at
 * least as new as it needs), else in the builder container, whose glibc is the one it was built
 * against; a binary for another architecture runs there under a registered qemu emulator.
 *
 * What Lambda would refuse is refused first: an event of 6 MiB or more before anything starts,
 * a zip over 250 MB unzipped before anything is inflated.
 */
export interface LocalInvokeRequest {
  readonly zipPath: string;
  readonly metadata: ArtifactMetadata;
  readonly event: string;
  /** The function's timeout, counted from the moment `bootstrap` receives the event. */
  readonly timeoutMs: number;
  /** How long `bootstrap` may take to ask for the event; default Lambda's 10 s init limit. */
  readonly initTimeoutMs?: number;
  readonly functionName: string;
  readonly memorySize: number;
  readonly region: string;
  /** The function's configured environment variables. */
  readonly environment: Readonly<Record<string, string>>;
  /** Run in the builder container even when the host could run the binary. */
  readonly inContainer?: boolean;
  /**
   * The builder image to run in when the host cannot (or `inContainer`): the one this machine's
   * configuration names (builder/recipe.ts), never `metadata.builderImage`, which a download
   * from the shared cache brings (its tag reached `docker run`, where `--privileged` is a flag).
   */
  readonly builderImage: string;
  /** Makes sure `builderImage` exists, called only when the binary runs in a container. */
  readonly prepareBuilderImage?: () => Promise<void>;
  /**
   * Who runs `bootstrap` in the container; default the calling user, so files it might create
   * on a mount are the caller's and it is not root in the container.
   */
  readonly runAs?: { readonly uid: number; readonly gid: number };
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
  checkEventSize(request.event);
  const binary = readZipEntry(request.zipPath, ZIP_ENTRY_NAME);
  if (!binary) {
    throw zipWithoutBootstrap(request.zipPath);
  }
  const where = whereToRun(request.metadata, request.inContainer ?? false, request.builderImage);
  if (where !== 'host') await request.prepareBuilderImage?.();
  const taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-invoke-'));
  // Readable by the function's user, as /var/task is on Lambda (mkdtemp makes it owner-only,
  // which a container user other than the caller could not enter). It holds only the zip's binary.
  fs.chmodSync(taskRoot, 0o755);
  let server: RuntimeApiServer | undefined;
  let child: ResultPromise | undefined;
  let container: string | undefined;
  try {
    fs.writeFileSync(path.join(taskRoot, ZIP_ENTRY_NAME), binary, { mode: 0o755 });
    server = await RuntimeApiServer.start();
    const environment = lambdaEnvironment({
      functionName: request.functionName,
      memorySize: request.memorySize,
      region: request.region,
      runtimeApi: server.endpoint,
      handler: ZIP_ENTRY_NAME,
      taskRoot: where === 'host' ? taskRoot : LAMBDA_TASK_ROOT,
      configured: request.environment,
    });
    // biome-ignore lint/correctness/useYield: an execa transform that yields nothing streams each line here instead of buffering it
    const log = function* (line: unknown) {
      request.onLog?.(String(line));
    };
    const common = { stdin: 'ignore', stdout: log, stderr: log, reject: false, buffer: false } as const;
    if (where === 'host') {
      // extendEnv: false, so nothing of this process's environment (host credentials
      // included) reaches the function: it sees what Lambda would set, and no more.
      child = execa(path.join(taskRoot, ZIP_ENTRY_NAME), [], { ...common, cwd: taskRoot, env: environment, extendEnv: false });
    } else {
      container = `sweep-invoke-${randomBytes(6).toString('hex')}`;
      const uid = process.getuid?.();
      const gid = process.getgid?.();
      const user = request.runAs ?? (uid !== undefined && gid !== undefined ? { uid, gid } : undefined);
      const args = containerRunArgs({ name: container, image: where, taskRoot, environment, memorySize: request.memorySize, user });
      child = execa(request.dockerCommand, args, common);
    }
    const exited = child.then((r): LocalInvokeOutcome => ({ kind: 'exited', exitCode: r.exitCode, signal: r.signal }));
    // The init budget starts here, just after the spawn: in a container it also covers the
    // container's start (under a second), which Lambda's own init clock does not.
    const outcome = await Promise.race([
      server.invoke(request.event, { timeoutMs: request.timeoutMs, initTimeoutMs: request.initTimeoutMs }),
      exited,
    ]);
    return { outcome, ranOn: where };
  } finally {
    const stillRunning = child !== undefined && child.exitCode === null && child.signalCode === null;
    child?.kill('SIGKILL');
    await child?.catch(() => undefined);
    // Killing the docker client does not stop its container (a hung bootstrap would run on):
    // remove it by name.
    if (container && stillRunning) await execa(request.dockerCommand, ['rm', '-f', container], { reject: false });
    await server?.close().catch(() => undefined);
    fs.rmSync(taskRoot, { recursive: true, force: true });
  }
}
