/**
 * circom_runtime prints `ERROR: <code> <message>` with console.error before it throws the same message. zkai reports
 * the thrown error itself (as a WitnessError), so the echo is only noise in CLI and test output: drop exactly that
 * echo while `task` runs, and let every other console.error through.
 */
export async function withoutWitnessErrorEcho<T>(task: () => Promise<T>): Promise<T> {
  const original = console.error;
  console.error = (...args: unknown[]) => {
    if (args[0] === 'ERROR: ') return;
    original(...args);
  };
  try {
    return await task();
  } finally {
    console.error = original;
  }
}
