/**
 * The zkai CLI as a function: the global flags, the command groups (each declares its commands and options in
 * `groups/`, typed from the same declaration, and loads its action module only when one of its commands runs, so
 * `zkai --help` stays fast) and error reporting. `main.ts` runs it on `process.argv`; the tests run it in their own
 * process too (test/helpers/run-cli.ts), which saves a Node start and the loading of snarkjs, ethers and circom per
 * command.
 */
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { CACHE_DIR_ENV } from '../cache/cache-dir.ts';
import { releaseCurves } from '../util/curves.ts';
import { reportError, type GlobalFlags } from './output.ts';
import { stopProgressBars } from './progress-bar.ts';
import type { GroupContext } from './groups/spec.ts';
import { register as registerCore } from './groups/core.ts';
import { register as registerCeremony } from './groups/ceremony.ts';
import { register as registerData } from './groups/data.ts';
import { register as registerModel } from './groups/model.ts';
import { register as registerChain } from './groups/chain.ts';
import { register as registerDoctor } from './groups/doctor.ts';
import { register as registerServe } from './groups/serve.ts';

/**
 * Run one zkai command line (`argv` as in `process.argv`: the node binary, the script, then the words) to its end:
 * the command's output on stdout and stderr, every curve, pool and chain it started released. Commander's own
 * refusals (an unknown option, a missing argument) and `--help` end the run instead of the process. Returns the exit
 * code (also left in `process.exitCode` by the commands that report a failed check).
 */
export async function runZkai(argv: readonly string[]): Promise<number> {
  const program = new Command('zkai')
    .description(
      'Zero-knowledge proofs about private AI data and models: compile, set up, prove, verify off-chain and on chain.',
    )
    .option('--json', 'print results as JSON on stdout (progress stays on stderr)')
    .option('--quiet', 'no progress output')
    .option('--debug', 'print the stack trace of an error and of its causes')
    .option(
      '--cache-dir <dir>',
      'cache folder for circuits, ptau and keys (default: $ZKAI_CACHE_DIR, else ~/.cache/zkai)',
    )
    .addOption(
      new Option(
        '--prover <prover>',
        "Groth16 prover: native (zkai's C++ prover), snarkjs, or auto: native when it is built or can be built here (default: $ZKAI_PROVER, else auto)",
      ).choices(['auto', 'native', 'snarkjs']),
    )
    .showHelpAfterError()
    // Before the groups: subcommands inherit it when they are created.
    .exitOverride();

  /** The flags of the command that runs (its own and the global ones), for the error report too. */
  let flags: GlobalFlags = {};
  const context: GroupContext = {
    flags(command) {
      const local = command.opts();
      const optimization = local.O as string | undefined;
      flags = { ...(program.opts() as GlobalFlags), ...local, ...(optimization ? { optimization } : {}) };
      // Everything that falls back to the default cache (compiled Solidity, the pool's workers) uses --cache-dir too:
      // one folder holds every artifact a command trusts.
      if (flags.cacheDir) process.env[CACHE_DIR_ENV] = resolve(flags.cacheDir);
      // Every prover pool of the command reads the choice from there (see src/prover/native/index.ts).
      if (flags.prover) process.env.ZKAI_PROVER = flags.prover;
      return flags;
    },
  };

  // In help order.
  registerCore(program, context);
  registerCeremony(program, context);
  registerData(program, context);
  registerModel(program, context);
  registerChain(program, context);
  registerDoctor(program, context);
  registerServe(program, context);

  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    // Commander has printed its refusal (or the help) already.
    if (error instanceof CommanderError) process.exitCode = error.exitCode;
    else process.exitCode = reportError({ ...(program.opts() as GlobalFlags), ...flags }, error);
  } finally {
    stopProgressBars();
    await releaseCurves();
  }
  return typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0);
}
