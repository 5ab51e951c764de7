import { DataError, DatasetErrors } from '../data/encode.ts';
import { ZkaiError } from '../errors.ts';
import type { ProgressListener } from '../setup/progress.ts';
import { progressBars, stopProgressBars, type BarStream } from './progress-bar.ts';

/** Global CLI flags every command understands. */
export interface GlobalFlags {
  json?: boolean;
  debug?: boolean;
  quiet?: boolean;
  cacheDir?: string;
  prover?: string;
}

/** Print a command's result: JSON on stdout with --json, otherwise the human text. */
export function emit(flags: GlobalFlags, result: unknown, human: () => string): void {
  stopProgressBars(); // the result comes after the last bar, not through it
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify(result, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2)}\n`,
    );
  else process.stdout.write(`${human()}\n`);
}

/**
 * Progress on stderr (so stdout stays clean for --json). On a terminal (not --json), the steps it knows (compile,
 * setup stages, batch and chunk proving) are progress bars (src/cli/progress-bar.ts) and the other events are lines
 * above them; otherwise every stage change is a line, then at most one line every 2 s per stage (events marked
 * `transient` are only for bars). Silent with --quiet.
 * `stream` is for tests.
 */
export function progressPrinter(flags: GlobalFlags, stream: BarStream = process.stderr): ProgressListener | undefined {
  if (flags.quiet) return undefined;
  const bars = progressBars(flags, stream);
  let lastStage = '';
  let lastAt = 0;
  return (event) => {
    if (bars?.handle(event) || event.transient) return;
    const { stage, message } = event;
    const now = Date.now();
    if (stage === lastStage && now - lastAt < 2000 && stage !== 'ptau') return;
    lastStage = stage;
    lastAt = now;
    if (bars) bars.log(`[${stage}] ${message}`);
    else stream.write(`[${stage}] ${message}\n`);
  };
}

/** What a file-system error code means, and what to do about it. */
const SYSTEM_ERRORS: Record<string, { what: string; hint: string }> = {
  ENOENT: { what: 'no such file or folder', hint: 'check the path (relative paths start from the current folder)' },
  EACCES: {
    what: 'permission denied',
    hint: 'check the permissions of the file and its folder, or choose another path',
  },
  EPERM: {
    what: 'operation not permitted',
    hint: 'check the permissions of the file and its folder, or choose another path',
  },
  EISDIR: { what: 'is a folder, not a file', hint: 'give the path of a file' },
  ENOTDIR: {
    what: 'a part of the path is a file, not a folder',
    hint: 'check the path; for the cache, zkai doctor checks the cache folder',
  },
  EEXIST: { what: 'already exists', hint: 'remove it or choose another path' },
  ENOSPC: {
    what: 'no space left on the device',
    hint: 'free some space (zkai doctor shows the cache size) or use --cache-dir on another disk',
  },
  EROFS: { what: 'read-only file system', hint: 'choose a writable path (or --cache-dir)' },
};

/** A Node file-system error (it has an errno code and usually a path). */
function systemError(error: unknown): { message: string; hint: string } | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, path, syscall } = error as NodeJS.ErrnoException;
  const known = code ? SYSTEM_ERRORS[code] : undefined;
  if (!known) return undefined;
  return { message: `${path ? `${path}: ` : ''}${known.what}${syscall ? ` (${syscall})` : ''}`, hint: known.hint };
}

/** The stack of an error and of each error in its cause chain. */
export function formatErrorStack(error: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (
    let current: unknown = error;
    current !== undefined && current !== null && !seen.has(current);
    current = (current as { cause?: unknown }).cause
  ) {
    seen.add(current);
    const text = current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current);
    parts.push(parts.length === 0 ? text : `caused by: ${text}`);
    if (!(current instanceof Error)) break;
  }
  return parts.join('\n');
}

/** One data problem as JSON: where it is, the value (text; numbers and bigints as decimal), and what was expected. */
function problemJson(error: DataError): Record<string, unknown> {
  const value =
    error.value === undefined
      ? undefined
      : typeof error.value === 'bigint'
        ? error.value.toString()
        : (JSON.parse(
            JSON.stringify(error.value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null',
          ) as unknown);
  return {
    ...(error.row === undefined ? {} : { row: error.row }),
    ...(error.where === undefined ? {} : { where: error.where }),
    ...(error.column === undefined ? {} : { column: error.column }),
    ...(value === undefined ? {} : { value }),
    ...(error.expected === undefined ? {} : { expected: error.expected }),
    problem: error.problem,
  };
}

/** For `--json`: the problems of a data error as data (`problems`, every one listed, and `total`). */
function dataProblems(error: ZkaiError): Record<string, unknown> {
  if (error instanceof DatasetErrors) return { problems: error.errors.map(problemJson), total: error.total };
  if (error instanceof DataError) return { problems: [problemJson(error)], total: 1 };
  return {};
}

/**
 * Print an error for a person (or as JSON): one line naming what is at fault, a hint when there is one, and the
 * stack trace (with the chain of causes) only with --debug. Returns the exit code.
 */
export function reportError(flags: GlobalFlags, error: unknown): number {
  stopProgressBars({ completed: false });
  const known = error instanceof ZkaiError;
  const system = known ? undefined : systemError(error);
  const message = system?.message ?? (error instanceof Error ? error.message || error.name : String(error));
  const hint = known ? error.hint : system?.hint;
  if (flags.json) {
    const body = known
      ? { error: { code: error.code, message: error.message, hint: error.hint, ...dataProblems(error) } }
      : system
        ? { error: { code: (error as NodeJS.ErrnoException).code, message, hint } }
        : { error: { code: 'INTERNAL', message: String(error), hint: 'run again with --debug for the stack trace' } };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else {
    process.stderr.write(`error: ${message}\n`);
    if (hint) process.stderr.write(`hint: ${hint}\n`);
    if (!known && !system && !flags.debug)
      process.stderr.write('(this looks like a bug in zkai; run again with --debug for the stack trace)\n');
  }
  if (flags.debug) process.stderr.write(`${formatErrorStack(error)}\n`);
  return 1;
}

/** Format a number of seconds for people. */
export function seconds(value: number): string {
  return value < 1 ? `${(value * 1000).toFixed(0)} ms` : `${value.toFixed(2)} s`;
}
