/**
 * Whether a process with this pid exists on this machine. Used to tell what a killed process left
 * behind (a lock, a container, a temporary file) from what a live one is still using. EPERM means
 * it exists but belongs to another user.
 */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
