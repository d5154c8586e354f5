/*
 * The one way this project writes a Cargo.lock: the toolchain image's own cargo, so the lock's
 * format is one that cargo reads (a lock written by a newer host cargo may not be), offline and
 * without a network (no registry is asked), as the calling user (the lock is theirs), with a
 * CARGO_HOME and target folder of its own inside the container. `cargo update --workspace` adds
 * new members and their path dependencies and keeps every other entry as it is; it creates the
 * lock when there is none.
 */
export function lockUpdateCommand(docker: string, workspace: string, toolchainImage: string): string[] {
  const user = typeof process.getuid === 'function' ? ['--user', `${process.getuid()}:${process.getgid!()}`] : [];
  return [
    docker,
    'run',
    '--rm',
    ...user,
    '--network',
    'none',
    '--mount',
    `type=bind,source=${workspace},target=/work`,
    '-w',
    '/work',
    '-e',
    'HOME=/tmp',
    '-e',
    'CARGO_HOME=/tmp/cargo-home',
    '-e',
    'CARGO_TARGET_DIR=/tmp/target',
    toolchainImage,
    'cargo',
    'update',
    '--workspace',
    '--offline',
  ];
}
