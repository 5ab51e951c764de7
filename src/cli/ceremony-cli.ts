/**
 * The `zkai ceremony` command tree: its options and help only. The actions load `ceremony-commands.ts` (snarkjs and
 * friends) when one runs, so `zkai --help` stays fast.
 */
import { Option, type Command } from 'commander';
import type { GlobalFlags } from './output.ts';

/** Help of the `--zkey` option of every prove command. */
export const ZKEY_OPTION_HELP =
  'prove with this proving key from a multi-party ceremony (zkai ceremony) instead of zkai\'s automatic single-party setup; ' +
  'give --ptau the ceremony started from: the key is checked against this command\'s circuit and that ptau (remembered in the cache)';

let loaded: Promise<typeof import('./ceremony-commands.ts')> | undefined;
const ceremonyCommands = () => (loaded ??= import('./ceremony-commands.ts'));

/**
 * Register `zkai ceremony` and its subcommands on the program. `compileOptions` adds the compile flags (`--O`, `-l`);
 * `merged` merges a command's options with the global flags (as every other command does).
 */
export function addCeremonyCommands(program: Command, helpers: { compileOptions: (command: Command) => Command; merged: (command: Command) => GlobalFlags }): void {
  const merged = <T>(command: Command) => helpers.merged(command) as T & GlobalFlags;
  const ceremony = program
    .command('ceremony')
    .description('a multi-party phase-2 trusted setup across machines, with only files passed between them: init, contribute (each participant), beacon, verify, finalize')
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

  helpers
    .compileOptions(
      ceremony
        .command('init')
        .argument('<circuit>', 'the circuit: a .circom file (compiled, cached) or an .r1cs file')
        .description('start a ceremony: the initial zkey (no contribution yet) from the circuit and a ptau')
        .requiredOption('--ptau <file>', 'the powers of tau to start from (a pinned published file for production: powersOfTau28_hez_final_XX.ptau)')
        .requiredOption('--out <file>', 'where to write the initial zkey (e.g. 0000.zkey)')
        .option('--force', 'overwrite --out if it exists'),
    )
    .action(async (circuit: string, _options: unknown, command: Command) => (await ceremonyCommands()).ceremonyInitCommand(circuit, merged(command)));

  ceremony
    .command('contribute')
    .argument('<in.zkey>', 'the zkey the previous participant handed over')
    .argument('<out.zkey>', 'where to write the zkey with your contribution, for the next participant')
    .description('add your contribution with fresh random entropy (never a prompt); prints the contribution hash to keep')
    .requiredOption('--name <name>', 'your name, recorded in the zkey and the transcript (1 to 64 characters)')
    .option('--entropy <text>', 'extra text mixed into the fresh random bytes (optional: the randomness never depends on it alone)')
    .option('--force', 'overwrite out.zkey if it exists')
    .action(async (input: string, output: string, _options: unknown, command: Command) => (await ceremonyCommands()).ceremonyContributeCommand(input, output, merged(command)));

  ceremony
    .command('beacon')
    .argument('<in.zkey>', 'the zkey of the last contribution')
    .argument('<out.zkey>', 'where to write the final zkey')
    .description('close the chain with a public random beacon nobody could predict before the last contribution')
    .requiredOption('--hash <hex>', 'the beacon value (hex, 1 to 64 bytes), e.g. the hash of a block mined after the last contribution')
    .addOption(new Option('--iterations <exp>', 'hash iterations as a power of two (10 to 63)').default('10'))
    .option('--name <name>', 'the name recorded for the beacon', 'final beacon')
    .option('--force', 'overwrite out.zkey if it exists')
    .action(async (input: string, output: string, _options: unknown, command: Command) => (await ceremonyCommands()).ceremonyBeaconCommand(input, output, merged(command)));

  helpers
    .compileOptions(
      ceremony
        .command('verify')
        .argument('<zkey>', 'the zkey to check (the final one, or any step\'s)')
        .description('check a zkey\'s whole chain against the circuit\'s r1cs and the ptau (snarkjs zkey verify), and a transcript, a verification key and your contributions when given (exit code 1 if invalid)')
        .requiredOption('--circuit <file>', 'the circuit: a .circom file (compiled, cached) or an .r1cs file')
        .requiredOption('--ptau <file>', 'the ptau the ceremony started from')
        .option('--transcript <file>', 'a transcript (zkai ceremony finalize): the zkey must hold exactly its steps, in order')
        .option('--vkey <file>', 'a verification key that must be this zkey\'s')
        .option('--contribution <hash...>', 'contribution hashes that must be in the chain (yours, as contribute printed it)'),
    )
    .action(async (zkey: string, _options: unknown, command: Command) => (await ceremonyCommands()).ceremonyVerifyCommand(zkey, merged(command)));

  helpers
    .compileOptions(
      ceremony
        .command('finalize')
        .argument('<zkey>', 'the final zkey (after the beacon)')
        .description('verify the whole chain, then write the verification key and the transcript (by default next to the zkey: NAME.vkey.json, NAME.transcript.json)')
        .requiredOption('--circuit <file>', 'the circuit: a .circom file (compiled, cached) or an .r1cs file')
        .requiredOption('--ptau <file>', 'the ptau the ceremony started from')
        .option('--vkey-out <file>', 'where to write the verification key (default: NAME.vkey.json next to the zkey, where prove commands find it)')
        .option('--transcript-out <file>', 'where to write the transcript (default: NAME.transcript.json next to the zkey)'),
    )
    .action(async (zkey: string, _options: unknown, command: Command) => (await ceremonyCommands()).ceremonyFinalizeCommand(zkey, merged(command)));
}
