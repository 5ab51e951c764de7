import type { Logger } from 'snarkjs';

/** A progress report from a long step (ptau generation takes minutes). */
export interface ProgressEvent {
  /** Which step: `ptau:new`, `ptau:contribute`, `ptau:prepare`, `zkey:new`, `zkey:contribute`, ... */
  stage: string;
  /** snarkjs's own message, e.g. `tauG1: fft 3 mix end: 1/8`. */
  message: string;
  /** Only for a live display (the CLI's progress bars on a terminal); printers of plain lines skip it. */
  transient?: boolean;
}

/** Receives progress reports and warnings. */
export type ProgressListener = (event: ProgressEvent) => void;

/**
 * Every logger method snarkjs 0.7 (and the ffjavascript and r1csfile code it runs) may call. `log` is called only by
 * the powers-of-tau accumulator (`powersoftau_new.js`), once every 100,000 points, so only powers >= 16 reach it; a
 * logger without it crashes there with "logger.log is not a function".
 */
export const SNARKJS_LOGGER_METHODS = ['log', 'debug', 'info', 'warn', 'error'] as const;

/** A logger with every method snarkjs may call (see {@link SNARKJS_LOGGER_METHODS}). */
export type SnarkjsLogger = Logger & Record<(typeof SNARKJS_LOGGER_METHODS)[number], (message: string) => void>;

/**
 * A snarkjs logger that forwards snarkjs's messages as progress events of one stage. It implements every method
 * snarkjs may call ({@link SNARKJS_LOGGER_METHODS}). snarkjs reports some failures only through `logger.error`, so
 * errors are also collected into `errors` when it is given.
 */
export function snarkjsLogger(stage: string, listener: ProgressListener | undefined, errors?: string[]): SnarkjsLogger {
  const forward = (message: string) => listener?.({ stage, message: String(message) });
  return {
    log: forward,
    debug: forward,
    info: forward,
    warn: forward,
    error: (message: string) => {
      errors?.push(String(message));
      forward(message);
    },
  };
}
