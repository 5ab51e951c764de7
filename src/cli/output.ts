import { ZkaiError } from '../errors.ts';
import type { ProgressListener } from '../setup/progress.ts';

/** Global CLI flags every command understands. */
export interface GlobalFlags {
  json?: boolean;
  debug?: boolean;
  quiet?: boolean;
  cacheDir?: string;
}

/** Print a command's result: JSON on stdout with --json, otherwise the human text. */
export function emit(flags: GlobalFlags, result: unknown, human: () => string): void {
  if (flags.json) process.stdout.write(`${JSON.stringify(result, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2)}\n`);
  else process.stdout.write(`${human()}\n`);
}

/**
 * Progress on stderr (so stdout stays clean for --json): every stage change, then at most one line every 2 s.
 * Silent with --quiet.
 */
export function progressPrinter(flags: GlobalFlags): ProgressListener | undefined {
  if (flags.quiet) return undefined;
  let lastStage = '';
  let lastAt = 0;
  return ({ stage, message }) => {
    const now = Date.now();
    if (stage === lastStage && now - lastAt < 2000 && stage !== 'ptau') return;
    lastStage = stage;
    lastAt = now;
    process.stderr.write(`[${stage}] ${message}\n`);
  };
}

/** Print an error for a person (or as JSON), without a stack trace unless --debug. Returns the exit code. */
export function reportError(flags: GlobalFlags, error: unknown): number {
  const known = error instanceof ZkaiError;
  if (flags.json) {
    const body = known ? { error: { code: error.code, message: error.message, hint: error.hint } } : { error: { code: 'INTERNAL', message: String(error) } };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (known && error.hint) process.stderr.write(`hint: ${error.hint}\n`);
    if (!known && !flags.debug) process.stderr.write('(this looks like a bug in zkai; run again with --debug for the stack trace)\n');
  }
  if (flags.debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return 1;
}

/** Format a number of seconds for people. */
export function seconds(value: number): string {
  return value < 1 ? `${(value * 1000).toFixed(0)} ms` : `${value.toFixed(2)} s`;
}
