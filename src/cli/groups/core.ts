/**
 * The top-level commands `zkai compile | setup | prove | verify | deploy | demo`, declared once (`spec.ts`); the
 * actions (`../commands.ts`) load when one runs.
 */
import type { Command } from 'commander';
import { addCommand, lazy, type CommandSpec, type FlagsOf, type GroupContext } from './spec.ts';
import { COMPILE_OPTIONS, PTAU, TRUST_KEY, ZKEY } from './shared.ts';

/** The setup flags (after the compile flags) of every command that sets a circuit up. */
const SETUP_OPTIONS = [
  ...COMPILE_OPTIONS,
  PTAU,
  { flags: '--beacon <hex>', help: 'apply a final random beacon with this public random value (hex)' },
  { flags: '--beacon-iterations <exp>', help: 'beacon hash iterations as a power of two (10..63)', default: '10' },
  { flags: '--verify', help: 'verify the final zkey against the r1cs and the ptau' },
  { flags: '--force', help: 'set up again even if keys are cached' },
] as const;

const CIRCUIT = [['<circuit>', 'circom source file']] as const;

export const COMPILE = {
  name: 'compile',
  arguments: CIRCUIT,
  description: 'compile a circuit (cached) and report its size',
  options: COMPILE_OPTIONS,
} as const satisfies CommandSpec;
export type CompileCommandFlags = FlagsOf<typeof COMPILE>;

export const SETUP = {
  name: 'setup',
  arguments: CIRCUIT,
  description: 'Groth16 trusted setup: proving and verification keys (cached)',
  options: SETUP_OPTIONS,
} as const satisfies CommandSpec;
export type SetupCommandFlags = FlagsOf<typeof SETUP>;

export const PROVE = {
  name: 'prove',
  arguments: CIRCUIT,
  description:
    'prove an input, or a batch of inputs in the prover pool (compiles and sets up first, from cache when possible); writes snarkjs-compatible files',
  options: [
    {
      flags: '-i, --input <file>',
      help: 'circuit input as JSON; repeat it for a batch (-i a.json -i b.json)',
      parse: (file: string, files: string[] = []) => [...files, file],
    },
    {
      flags: '--inputs <dir>',
      help: 'a batch: every *.json in this folder, sorted (*.proof.json and *.public.json are skipped)',
    },
    {
      flags: '--out-dir <dir>',
      help: 'for a batch: write NAME.proof.json and NAME.public.json here for each input NAME.json',
    },
    { flags: '-p, --proof <file>', help: 'where to write the proof of one input (default: proof.json)' },
    { flags: '--public <file>', help: 'where to write the public signals of one input (default: public.json)' },
    {
      flags: '--workers <n>',
      help: 'prover worker threads (default: 1 for one input, adapted to the core count for a batch)',
    },
    { flags: '--timeout <ms>', help: 'give up on a proof after this many milliseconds (0: no limit)', default: '0' },
    ZKEY,
    ...SETUP_OPTIONS,
  ],
  helpAfter:
    '\nA batch proves every input even when some fail; each failure names its input file, and the exit code is 1 if any failed:\n  zkai prove CIRCUIT.circom --inputs inputs/ --out-dir proofs/\n  zkai prove CIRCUIT.circom -i a.json -i b.json --out-dir proofs/ --json',
} as const satisfies CommandSpec;
export type ProveCommandFlags = FlagsOf<typeof PROVE>;

export const VERIFY = {
  name: 'verify',
  description: 'verify a Groth16 proof off-chain (exit code 1 if invalid); snarkjs files work as they are',
  options: [
    { flags: '--vkey <file>', help: 'verification_key.json', required: true },
    TRUST_KEY,
    { flags: '--proof <file>', help: 'proof.json', required: true },
    { flags: '--public <file>', help: 'public.json', required: true },
    {
      flags: '--expect <index=value...>',
      help: 'also require public signal INDEX to equal VALUE (a commitment, a policy hash)',
    },
  ],
} as const satisfies CommandSpec;
export type VerifyCommandFlags = FlagsOf<typeof VERIFY>;

export const DEPLOY = {
  name: 'deploy',
  description:
    'deploy a Solidity verifier for a circuit (embedded anvil unless --rpc), optionally checking a proof on chain',
  options: [
    { flags: '--circuit <file>', help: 'circom source file (compiled and set up from cache when possible)' },
    { flags: '--zkey <file>', help: 'an existing proving key instead of --circuit' },
    {
      flags: '--rpc <url>',
      help: "JSON-RPC URL of an EVM node (default: start anvil on 127.0.0.1 and stop it afterwards); signer from ZKAI_PRIVATE_KEY or the node's first account",
    },
    { flags: '--proof <file>', help: 'a proof to verify on chain after deploying' },
    { flags: '--public <file>', help: 'its public signals' },
    { flags: '--out <file>', help: 'write the deployment record as JSON' },
    ...SETUP_OPTIONS,
  ],
} as const satisfies CommandSpec;
export type DeployCommandFlags = FlagsOf<typeof DEPLOY>;

export const DEMO = {
  name: 'demo',
  description:
    'the whole pipeline on a built-in circuit: compile, setup, a batch of pooled proofs, off-chain and on-chain verification',
  options: [
    { flags: '--proofs <n>', help: 'proofs in the batch', default: '8' },
    { flags: '--workers <n>', help: 'prover worker threads (default: adapted to the core count)' },
    { flags: '--rpc <url>', help: 'EVM node (default: embedded anvil)' },
    { flags: '--ptau <file>', help: 'a Perpetual Powers of Tau file instead of a development one' },
  ],
} as const satisfies CommandSpec;
export type DemoCommandFlags = FlagsOf<typeof DEMO>;

const actions = lazy(() => import('../commands.ts'));

/** Register `zkai compile | setup | prove | verify | deploy | demo` on the program. */
export function register(program: Command, context: GroupContext): void {
  addCommand(program, COMPILE, context, async (flags, circuit) => (await actions()).compileCommand(circuit, flags));
  addCommand(program, SETUP, context, async (flags, circuit) => (await actions()).setupCommand(circuit, flags));
  addCommand(program, PROVE, context, async (flags, circuit) => (await actions()).proveCommand(circuit, flags));
  addCommand(program, VERIFY, context, async (flags) => (await actions()).verifyCommand(flags));
  addCommand(program, DEPLOY, context, async (flags) => (await actions()).deployCommand(flags));
  addCommand(program, DEMO, context, async (flags) => (await actions()).demoCommand(flags));
}
