/**
 * Progress bars on stderr (cli-progress) for the CLI's long steps: compiling, the trusted setup (a development ptau
 * takes minutes), batch proving and chunked proofs. Every command reports progress through the same
 * {@link ProgressListener} events (see `progressPrinter` in output.ts); this module turns the events it understands
 * into bars and hands the others back to be printed as lines. Bars are drawn only on a terminal: never when stderr is
 * not a TTY, with `--json` or with `--quiet` (output.ts then prints the plain lines as before).
 */
import { MultiBar, type SingleBar } from 'cli-progress';
import type { ProgressEvent } from '../setup/progress.ts';

/** The stream bars are drawn on: stderr, or anything writable that says whether it is a terminal. */
export interface BarStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

/** Whether bars should be drawn: a terminal, not `--json`, not `--quiet`, not TERM=dumb. */
export function barsWanted(flags: { json?: boolean; quiet?: boolean }, stream: BarStream = process.stderr): boolean {
  return stream.isTTY === true && !flags.json && !flags.quiet && process.env.TERM !== 'dumb';
}

/** What one bar shows. */
interface Payload {
  label: string;
  detail: string;
}

/** compile and setup-step bars show the elapsed time and the current step; setup bars a measured fraction. */
type BarKind = 'compile' | 'setup' | 'setup-step' | 'prove';

interface OpenBar {
  kind: BarKind;
  key: string;
  label: string;
  bar: SingleBar;
  total: number;
  startedAt: number;
}

/**
 * Fraction done (0..1) of writing a development ptau, from its progress messages (`lagrangeTauG2: 37%`, see
 * `src/setup/dev-ptau.ts`), or undefined for a message that says nothing about it.
 */
export function ptauWriteFraction(message: string): number | undefined {
  const match = /^\w+: (\d{1,3})%$/.exec(message);
  return match ? Math.min(1, Number(match[1]) / 100) : undefined;
}

/** Resolution of the bars that show a fraction rather than a count. */
const FRACTION_TOTAL = 1000;

/**
 * The bars of one command run. `handle` takes a progress event and returns true when a bar shows it (the caller
 * prints the event as a line otherwise, through `log`, which keeps lines above the bars).
 */
export class ProgressBars {
  private multibar: MultiBar | undefined;
  private readonly open: OpenBar[] = [];
  private ptauPower: number | undefined;
  private stopped = false;

  constructor(private readonly stream: BarStream) {}

  /** Whether {@link stop} was called (a stopped set draws nothing more). */
  get done(): boolean {
    return this.stopped;
  }

  /** Show an event in a bar if it is one this module understands; returns whether it did. */
  handle(event: ProgressEvent): boolean {
    if (this.stopped) return false;
    const { stage, message } = event;

    const power = /development ptau of power (\d+)/.exec(message);
    if (stage === 'ptau' && power) this.ptauPower = Number(power[1]);

    // Batch and chunk proving: "proved 3/8" (demo), "chunk 3/32" (datasets), "accuracy chunk 2/3" (models).
    const count = /^(accuracy chunk|chunk|proved) (\d+)\/(\d+)$/.exec(message);
    if (count && (stage === 'prove' || stage === 'demo')) {
      const [, what, doneText, totalText] = count as unknown as [string, string, string, string];
      const label = what === 'proved' ? 'proving' : what === 'chunk' ? 'chunk proofs' : 'accuracy chunks';
      const total = Number(totalText);
      const done = Number(doneText);
      const current = this.latest('prove');
      const bar =
        current && current.key === label && current.total === total && current.bar.getProgress() * total <= done
          ? current
          : this.start('prove', label, total, { label, detail: `${total} ${total === 1 ? 'proof' : 'proofs'}` });
      bar.bar.update(done);
      if (done >= total) this.finish(bar);
      return true;
    }

    // Compiling: one opaque circom run, so the bar shows the elapsed time until the next step begins.
    const compiling = /^compile: (\S+) with circom (\S+)/.exec(message);
    if (stage === 'compile' && compiling) {
      this.start('compile', `compile ${compiling[1]}`, 1, {
        label: `compile ${compiling[1]}`,
        detail: `circom ${compiling[2]}`,
      });
      return true;
    }

    // The trusted setup: writing a development ptau (ptau:write) gets a real fraction; snarkjs's own stages
    // (zkey:new, zkey:contribute, ...) show their step.
    if (/^(ptau|zkey):/.test(stage)) {
      const measured = stage === 'ptau:write';
      let bar = this.latest('setup') ?? this.latest('setup-step');
      if (!bar || bar.key !== stage) {
        const label = stage === 'ptau:write' ? 'development ptau' : stage.replace(':', ' ');
        const sized =
          this.ptauPower !== undefined && stage.startsWith('ptau') ? `${label} (2^${this.ptauPower})` : label;
        bar = this.start(measured ? 'setup' : 'setup-step', stage, FRACTION_TOTAL, { label: sized, detail: '' });
      }
      const firstLine = message.split('\n')[0]!.trim().replace(/:\s*$/, '');
      const fraction = measured ? ptauWriteFraction(firstLine) : undefined;
      const value = Math.max(
        bar.bar.getProgress() * FRACTION_TOTAL,
        fraction === undefined ? 0 : Math.round(fraction * FRACTION_TOTAL),
      );
      bar.bar.update(value, { detail: firstLine.slice(0, 48) });
      return true;
    }
    // Any other event means a compile or setup step that was running is over (a proving bar keeps running).
    for (const bar of this.open.filter((open) => open.kind !== 'prove')) this.finish(bar);
    return false;
  }

  /** Print a line above the bars (or straight to the stream when no bar is drawn yet). */
  log(line: string): void {
    const text = line.endsWith('\n') ? line : `${line}\n`;
    if (this.multibar && !this.stopped) this.multibar.log(text);
    else this.stream.write(text);
  }

  /** Draw the final state and release the terminal (the bars' timer keeps the process alive until then). */
  stop(options: { completed?: boolean } = {}): void {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.multibar) return;
    for (const bar of [...this.open]) this.finish(bar, options.completed === false ? 'stopped' : 'done');
    this.multibar.update(); // flush lines logged since the last redraw
    this.multibar.stop();
    active.delete(this);
  }

  private latest(kind: BarKind): OpenBar | undefined {
    return [...this.open].reverse().find((bar) => bar.kind === kind);
  }

  /** Start a bar; every step before it is complete (steps run one after another). */
  private start(kind: BarKind, key: string, total: number, payload: Payload): OpenBar {
    for (const bar of this.open.splice(0)) this.finish(bar);
    this.multibar ??= this.createMultibar();
    const format =
      kind === 'prove'
        ? '{label} |{bar}| {value}/{total} | {duration_formatted} elapsed, ETA {eta_formatted}'
        : kind === 'setup'
          ? '{label} |{bar}| {percentage}% | {duration_formatted} | {detail}'
          : '{label} |{bar}| {duration_formatted} | {detail}';
    const bar = this.multibar.create(total, 0, payload, { format });
    const open = { kind, key, label: payload.label, bar, total, startedAt: Date.now() };
    this.open.push(open);
    active.add(this);
    return open;
  }

  /** A finished step leaves the bars and becomes one line above them, so only the running step has a bar. */
  private finish(open: OpenBar, how: 'done' | 'stopped' = 'done'): void {
    const index = this.open.indexOf(open);
    if (index >= 0) this.open.splice(index, 1);
    const elapsed = (Date.now() - open.startedAt) / 1000;
    const time = elapsed < 1 ? `${Math.round(elapsed * 1000)} ms` : `${elapsed.toFixed(1)} s`;
    // A proving bar starts at the first finished proof, so its time would understate the batch: it says the count only.
    const line =
      open.kind === 'prove'
        ? `${open.label} ${Math.round(open.bar.getProgress() * open.total)}/${open.total} ${how}`
        : `${open.label} ${how === 'done' ? `done in ${time}` : `stopped after ${time}`}`;
    open.bar.stop();
    this.multibar?.remove(open.bar);
    this.multibar?.log(`${line}\n`);
  }

  private createMultibar(): MultiBar {
    return new MultiBar({
      stream: this.stream as unknown as NodeJS.WritableStream,
      barsize: 30,
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
      hideCursor: false, // nothing to restore if the process is killed
      clearOnComplete: true, // finished bars are already lines above (see finish)
      stopOnComplete: false,
      gracefulExit: false, // it would catch SIGINT and keep the process running
      linewrap: true, // bars are cut to the terminal width instead of switching wrapping off (which a killed process would leave off)
      fps: 5,
      etaBuffer: 20,
      autopadding: true,
    });
  }
}

const active = new Set<ProgressBars>();
const shared = new WeakMap<object, ProgressBars>();

/**
 * The bars of this run on `stream` (one set per stream, shared by every listener of the command), or undefined when
 * bars are not wanted (not a TTY, `--json`, `--quiet`).
 */
export function progressBars(
  flags: { json?: boolean; quiet?: boolean },
  stream: BarStream = process.stderr,
): ProgressBars | undefined {
  if (!barsWanted(flags, stream)) return undefined;
  let bars = shared.get(stream);
  if (!bars || bars.done) {
    bars = new ProgressBars(stream);
    shared.set(stream, bars);
  }
  return bars;
}

/** Stop every bar still drawn (before printing a result or an error, and when the command ends). */
export function stopProgressBars(options: { completed?: boolean } = {}): void {
  for (const bars of [...active]) bars.stop(options);
}
