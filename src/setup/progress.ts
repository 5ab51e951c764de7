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
 * A snarkjs logger that forwards snarkjs's messages as progress events of one stage. snarkjs reports some failures
 * only through `logger.error`, so errors are also collected into `errors` when it is given.
 */
export function snarkjsLogger(stage: string, listener: ProgressListener | undefined, errors?: string[]): Logger {
  const forward = (message: string) => listener?.({ stage, message });
  return {
    debug: forward,
    info: forward,
    warn: forward,
    error: (message: string) => {
      errors?.push(message);
      forward(message);
    },
  };
}
