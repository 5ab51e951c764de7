/** Is a process with this pid still running? (signal 0 checks without sending anything) */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
