/**
 * `zkai ceremony`: its commands and options, declared once (`spec.ts`). The actions (`../ceremony-commands.ts`,
 * snarkjs and friends) load when one runs, so `zkai --help` stays fast.
 */
import type { Command } from 'commander';
import { addCommand, lazy, type CommandSpec, type FlagsOf, type GroupContext } from './spec.ts';
import { COMPILE_OPTIONS } from './shared.ts';

const CIRCUIT = {
  flags: '--circuit <file>',
  help: 'the circuit: a .circom file (compiled, cached) or an .r1cs file',
  required: true,
} as const;
const STARTED_FROM = { flags: '--ptau <file>', help: 'the ptau the ceremony started from', required: true } as const;

export const CEREMONY_INIT = {
  name: 'init',
  arguments: [['<circuit>', 'the circuit: a .circom file (compiled, cached) or an .r1cs file']],
  description: 'start a ceremony: the initial zkey (no contribution yet) from the circuit and a ptau',
  options: [
    {
      flags: '--ptau <file>',
      help: 'the powers of tau to start from (a pinned published file for production: powersOfTau28_hez_final_XX.ptau)',
      required: true,
    },
    { flags: '--out <file>', help: 'where to write the initial zkey (e.g. 0000.zkey)', required: true },
    { flags: '--force', help: 'overwrite --out if it exists' },
    ...COMPILE_OPTIONS,
  ],
} as const satisfies CommandSpec;
export type CeremonyInitFlags = FlagsOf<typeof CEREMONY_INIT>;

export const CEREMONY_CONTRIBUTE = {
  name: 'contribute',
  arguments: [
    ['<in.zkey>', 'the zkey the previous participant handed over'],
    ['<out.zkey>', 'where to write the zkey with your contribution, for the next participant'],
  ],
  description: 'add your contribution with fresh random entropy (never a prompt); prints the contribution hash to keep',
  options: [
    {
      flags: '--name <name>',
      help: 'your name, recorded in the zkey and the transcript (1 to 64 characters)',
      required: true,
    },
    {
      flags: '--entropy <text>',
      help: 'extra text mixed into the fresh random bytes (optional: the randomness never depends on it alone)',
    },
    { flags: '--force', help: 'overwrite out.zkey if it exists' },
  ],
} as const satisfies CommandSpec;
export type CeremonyContributeFlags = FlagsOf<typeof CEREMONY_CONTRIBUTE>;

export const CEREMONY_BEACON = {
  name: 'beacon',
  arguments: [
    ['<in.zkey>', 'the zkey of the last contribution'],
    ['<out.zkey>', 'where to write the final zkey'],
  ],
  description: 'close the chain with a public random beacon nobody could predict before the last contribution',
  options: [
    {
      flags: '--hash <hex>',
      help: 'the beacon value (hex, 1 to 64 bytes), e.g. the hash of a block mined after the last contribution',
      required: true,
    },
    { flags: '--iterations <exp>', help: 'hash iterations as a power of two (10 to 63)', default: '10' },
    { flags: '--name <name>', help: 'the name recorded for the beacon', default: 'final beacon' },
    { flags: '--force', help: 'overwrite out.zkey if it exists' },
  ],
} as const satisfies CommandSpec;
export type CeremonyBeaconFlags = FlagsOf<typeof CEREMONY_BEACON>;

export const CEREMONY_VERIFY = {
  name: 'verify',
  arguments: [['<zkey>', "the zkey to check (the final one, or any step's)"]],
  description:
    "check a zkey's whole chain against the circuit's r1cs and the ptau (snarkjs zkey verify), and a transcript, a verification key and your contributions when given (exit code 1 if invalid)",
  options: [
    CIRCUIT,
    STARTED_FROM,
    {
      flags: '--transcript <file>',
      help: 'a transcript (zkai ceremony finalize): the zkey must hold exactly its steps, in order',
    },
    { flags: '--vkey <file>', help: "a verification key that must be this zkey's" },
    {
      flags: '--contribution <hash...>',
      help: 'contribution hashes that must be in the chain (yours, as contribute printed it)',
    },
    ...COMPILE_OPTIONS,
  ],
} as const satisfies CommandSpec;
export type CeremonyVerifyFlags = FlagsOf<typeof CEREMONY_VERIFY>;

export const CEREMONY_FINALIZE = {
  name: 'finalize',
  arguments: [['<zkey>', 'the final zkey (after the beacon)']],
  description:
    'verify the whole chain, then write the verification key and the transcript (by default next to the zkey: NAME.vkey.json, NAME.transcript.json)',
  options: [
    CIRCUIT,
    STARTED_FROM,
    {
      flags: '--vkey-out <file>',
      help: 'where to write the verification key (default: NAME.vkey.json next to the zkey, where prove commands find it)',
    },
    {
      flags: '--transcript-out <file>',
      help: 'where to write the transcript (default: NAME.transcript.json next to the zkey)',
    },
    ...COMPILE_OPTIONS,
  ],
} as const satisfies CommandSpec;
export type CeremonyFinalizeFlags = FlagsOf<typeof CEREMONY_FINALIZE>;

const actions = lazy(() => import('../ceremony-commands.ts'));

/** Register `zkai ceremony` and its subcommands on the program. */
export function register(program: Command, context: GroupContext): void {
  const ceremony = program
    .command('ceremony')
    .description(
      'a multi-party phase-2 trusted setup across machines, with only files passed between them: init, contribute (each participant), beacon, verify, finalize',
    )
    .addHelpText(
      'after',
      [
        '',
        'A ceremony, each step on its own machine:',
        '  coordinator:  zkai ceremony init CIRCUIT.circom --ptau PTAU --out 0000.zkey',
        '  participant:  zkai ceremony contribute 0000.zkey 0001.zkey --name alice     (keep the contribution hash it prints)',
        '  participant:  zkai ceremony contribute 0001.zkey 0002.zkey --name bob',
        '  coordinator:  zkai ceremony beacon 0002.zkey final.zkey --hash BEACON_HEX --iterations 10',
        '  coordinator:  zkai ceremony finalize final.zkey --circuit CIRCUIT.circom --ptau PTAU   (writes final.vkey.json, final.transcript.json)',
        '  anyone:       zkai ceremony verify final.zkey --circuit CIRCUIT.circom --ptau PTAU --transcript final.transcript.json [--contribution HASH]',
        '  prover:       zkai prove CIRCUIT.circom -i input.json --zkey final.zkey --ptau PTAU   (also data prove, data include, model prove, model accuracy)',
        'CIRCUIT may be an .r1cs file: a prove command given a zkey of another circuit names the r1cs of the circuit it needs.',
      ].join('\n'),
    );
  addCommand(ceremony, CEREMONY_INIT, context, async (flags, circuit) =>
    (await actions()).ceremonyInitCommand(circuit, flags),
  );
  addCommand(ceremony, CEREMONY_CONTRIBUTE, context, async (flags, input, output) =>
    (await actions()).ceremonyContributeCommand(input, output, flags),
  );
  addCommand(ceremony, CEREMONY_BEACON, context, async (flags, input, output) =>
    (await actions()).ceremonyBeaconCommand(input, output, flags),
  );
  addCommand(ceremony, CEREMONY_VERIFY, context, async (flags, zkey) =>
    (await actions()).ceremonyVerifyCommand(zkey, flags),
  );
  addCommand(ceremony, CEREMONY_FINALIZE, context, async (flags, zkey) =>
    (await actions()).ceremonyFinalizeCommand(zkey, flags),
  );
}
