/**
 * The `docker run` arguments for running `bootstrap` in its builder image, confined roughly as a
 * Lambda execution environment confines it: not root, the function's memory and no swap, no
 * capabilities, no privilege gain, a read-only root with a writable /tmp, and Lambda's process
 * and file-descriptor quotas. The code is mounted read-only at /var/task, where Lambda puts it.
 */
import { LAMBDA_TASK_ROOT } from './lambda-environment.js';

export interface ContainerRunInput {
  /** `--name`, so the container can be removed even if the docker client is killed. */
  readonly name: string;
  readonly image: string;
  /** The host folder holding `bootstrap`, mounted read-only at /var/task. */
  readonly taskRoot: string;
  readonly environment: Readonly<Record<string, string>>;
  /** The function's memory size in MB: the container's memory limit. */
  readonly memorySize: number;
  /** Who runs `bootstrap`; undefined only where the OS has no uids (then Docker's default). */
  readonly user: { readonly uid: number; readonly gid: number } | undefined;
}

/** Lambda's quotas: 1,024 processes/threads and 1,024 file descriptors per environment. */
const LAMBDA_PROCESS_LIMIT = 1024;
const LAMBDA_FD_LIMIT = 1024;
/** Lambda's default ephemeral storage (/tmp): 512 MB. */
const LAMBDA_TMP_MB = 512;

export function containerRunArgs(input: ContainerRunInput): string[] {
  return [
    'run',
    '--rm',
    '--name',
    input.name,
    // Host networking, because the Runtime API server listens on 127.0.0.1 only, so that no
    // other machine (and no other container on a bridge network) can post results to it. The
    // container's loopback is the host's only with --network host.
    '--network',
    'host',
    ...(input.user ? ['--user', `${input.user.uid}:${input.user.gid}`] : []),
    // Swap equal to memory means none: Lambda has no swap, so exceeding the size is fatal there.
    '--memory',
    `${input.memorySize}m`,
    '--memory-swap',
    `${input.memorySize}m`,
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--pids-limit',
    String(LAMBDA_PROCESS_LIMIT),
    '--ulimit',
    `nofile=${LAMBDA_FD_LIMIT}:${LAMBDA_FD_LIMIT}`,
    // Lambda's file system is read-only except /tmp (which allows executables, unlike Docker's default tmpfs).
    '--read-only',
    '--tmpfs',
    `/tmp:rw,exec,size=${LAMBDA_TMP_MB}m,mode=1777`,
    '-v',
    `${input.taskRoot}:${LAMBDA_TASK_ROOT}:ro`,
    '-w',
    LAMBDA_TASK_ROOT,
    ...Object.entries(input.environment).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    input.image,
    `${LAMBDA_TASK_ROOT}/bootstrap`,
  ];
}
