/**
 * Printed "verify with:" hints, as a person would use them: read the command and the placeholder lines under it, fill
 * each placeholder, and run the command through a real POSIX shell (so the hint's quoting is tested too), with `zkai`
 * being this repository's CLI.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureBuild } from './build.ts';
import { runProcess, type CliRun } from './run-cli.ts';

/** The `zkai` binary: the built CLI when dist/ is current (ensureBuild makes it so), else the sources through tsx. */
const zkaiBin = fileURLToPath(new URL('../../bin/zkai.mjs', import.meta.url));

/** A hint as printed for people: the command line and, for each placeholder, what the line under it says goes there. */
export interface PrintedHint {
  command: string;
  placeholders: Record<string, string>;
}

/**
 * The hint printed after `label` (e.g. "verify with") in a command's human output: the line `label...: COMMAND`, then
 * the lines `(NAME: what goes there)` right under it. Throws when there is no such line, or more than one.
 */
export function parsePrintedHint(stdout: string, label = 'verify with'): PrintedHint {
  const lines = stdout.split('\n');
  const at = lines.flatMap((line, index) => (line.trimStart().startsWith(label) ? [index] : []));
  if (at.length !== 1) throw new Error(`expected one "${label}" line, found ${at.length} in:\n${stdout}`);
  const first = lines[at[0]!]!;
  const command = first.slice(first.indexOf(': ') + 2);
  const placeholders: Record<string, string> = {};
  for (const line of lines.slice(at[0]! + 1)) {
    const match = /^\s+\(([A-Z][A-Z0-9_]*(?:\.json)?): (.*)\)$/.exec(line);
    if (!match) break;
    placeholders[match[1]!] = match[2]!;
  }
  return { command, placeholders };
}

/** A value single-quoted for a POSIX shell (a quote inside becomes '"'"'). */
function quote(value: string): string {
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where a placeholder stands in a command: a whole word, or the part of a word after `=`. */
const placeholderPattern = (name: string) => new RegExp(`(?<=^|[\\s=])${escapeRegExp(name)}(?=$|\\s)`, 'g');

/**
 * The command with every placeholder replaced by its value (quoted for the shell). Throws when the hint has a
 * placeholder without a value, when a value is given for a placeholder the hint does not explain, or when an explained
 * placeholder does not occur in the command.
 */
export function fillHint(hint: PrintedHint, values: Record<string, string>): string {
  const names = Object.keys(hint.placeholders).sort();
  const given = Object.keys(values).sort();
  if (names.join() !== given.join())
    throw new Error(
      `the hint's placeholders are [${names.join(', ')}], values were given for [${given.join(', ')}]: ${hint.command}`,
    );
  let command = hint.command;
  for (const name of names) {
    const pattern = placeholderPattern(name);
    if (!pattern.test(command))
      throw new Error(`placeholder ${name} is explained but not in the command: ${hint.command}`);
    command = command.replace(placeholderPattern(name), () => quote(values[name]!));
  }
  return command;
}

/** The argv of a structured (--json) hint with its placeholders replaced by values, `zkai` dropped. */
export function fillArgv(argv: readonly string[], values: Record<string, string>): string[] {
  if (argv[0] !== 'zkai') throw new Error(`a hint starts with zkai: ${argv.join(' ')}`);
  return argv.slice(1).map((word) => {
    for (const [name, value] of Object.entries(values)) {
      if (word === name) return value;
      if (word.endsWith(`=${name}`)) return `${word.slice(0, -name.length)}${value}`;
    }
    return word;
  });
}

const running = new Set<ChildProcess>();

/**
 * Run a filled hint through /bin/sh, where `zkai` is a function that execs this repository's `zkai` binary (so the
 * shell's process becomes the CLI's and a timeout kill ends it): the built CLI, made current first (about 1.5 s of CPU
 * less per hint than loading the TypeScript sources through tsx). The hint must start with `zkai `.
 */
export function runHint(command: string, options: { timeoutMs?: number; cwd?: string } = {}): Promise<CliRun> {
  if (!command.startsWith('zkai ')) return Promise.reject(new Error(`a hint starts with "zkai ": ${command}`));
  ensureBuild();
  const script = `zkai() { exec "$ZKAI_HINT_NODE" "$ZKAI_HINT_BIN" "$@"; }\n${command}`;
  return runProcess('/bin/sh', ['-c', script], {
    env: { ZKAI_HINT_NODE: process.execPath, ZKAI_HINT_BIN: zkaiBin },
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    track: running,
  });
}

/** Kill every hint still running (for an afterAll: a test that timed out leaves none behind). */
export function killRunningHints(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
