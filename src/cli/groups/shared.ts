/**
 * Option specs several command groups share (`spec.ts` declares how a spec becomes an option and a type). Light: no
 * import but types.
 */

/** Help of the `--zkey` option of every prove command. */
export const ZKEY_OPTION_HELP =
  "prove with this proving key from a multi-party ceremony (zkai ceremony) instead of zkai's automatic single-party setup; " +
  "give --ptau the ceremony started from: the key is checked against this command's circuit and that ptau (remembered in the cache)";

/** `--zkey` of a prove command. */
export const ZKEY = { flags: '--zkey <file>', help: ZKEY_OPTION_HELP } as const;

/** `--ptau` of a command that sets a circuit up. */
export const PTAU = {
  flags: '--ptau <file>',
  help: 'a Perpetual Powers of Tau file (default: a cached or freshly generated DEVELOPMENT-ONLY ptau)',
} as const;

/** `--vkey-out` of a prove command. */
export const VKEY_OUT = { flags: '--vkey-out <file>', help: 'also write a copy of the verification key here' } as const;

/** `--context` of a prove command whose proof can be attested on chain. */
export const CONTEXT = {
  flags: '--context <decimal>',
  help: 'bind the proof to this context for zkai chain attest (zkai chain context prints it; default 0: off chain)',
} as const;

/** `--trust-key` of every verify verb. */
export const TRUST_KEY = {
  flags: '--trust-key',
  help: 'trust this verification key although it was not made by your own setup nor by a ceremony you verified (the output says so)',
} as const;

/** The compile flags (`zkai compile`, and every command that compiles a circom file). */
export const COMPILE_OPTIONS = [
  { flags: '--O <level>', help: 'circom simplification level', choices: ['0', '1', '2'], default: '2' },
  { flags: '-l, --include <dir...>', help: 'extra include folders (circomlib is always included)' },
] as const;
