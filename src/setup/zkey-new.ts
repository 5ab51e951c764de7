/**
 * `zkey new`: the initial Groth16 proving key of an r1cs from a prepared ptau, before any phase-2 contribution.
 *
 * zkai's native addon (native/src/setup.cpp) writes the very bytes snarkjs's `zkey new` writes, circuit hash
 * included (test/native-setup.test.ts compares the two files), in a tenth of the time or less: snarkjs makes every
 * point with one WebAssembly scalar multiplication per r1cs term. snarkjs does it instead when the addon is not
 * available, when the prover chosen is snarkjs (`--prover snarkjs`, ZKAI_PROVER), and for the one shape the addon
 * leaves to it (a domain of 2^15 or more with a ptau of exactly that power: snarkjs's circuit hash then reads bytes
 * past the end of a ptau section, which no other program can reproduce).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { SetupError } from '../errors.ts';
import { nativeProver, proverChoiceFromEnvironment } from '../prover/native/index.ts';
import { snarkjsLogger, type ProgressListener, type SnarkjsLogger } from './progress.ts';

/** Which program wrote a key. */
export type ZkeyNewEngine = 'native' | 'snarkjs';

/** Options of {@link newZkey}. */
export interface ZkeyNewOptions {
  /** The cache folder, where the native addon is looked for (and built on first use). */
  cacheDir?: string;
  /** Progress stage of the messages, e.g. `zkey:new`. */
  stage: string;
  /** What failed, for the error message: e.g. `groth16 setup of multiplier`. */
  describe: string;
  onProgress?: ProgressListener;
}

/** What {@link newZkey} wrote. */
export interface ZkeyNewResult {
  /** snarkjs's circuit hash (BLAKE2b-512 of the key's points), as in the key's contribution section. */
  circuitHash: Uint8Array;
  engine: ZkeyNewEngine;
}

/** An error of the addon: its code (R1CS_INVALID, PTAU_TOO_SMALL, SETUP_UNSUPPORTED, ...) and message. */
function addonErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Writes the initial zkey of `r1csPath` and `ptauPath` to `zkeyPath` (which must not exist; the caller publishes it
 * atomically). Natively when it can, else with snarkjs; the two write the same bytes.
 *
 * @throws SetupError when the r1cs or the ptau is refused (too small, not prepared, another curve, damaged)
 */
export async function newZkey(
  r1csPath: string,
  ptauPath: string,
  zkeyPath: string,
  options: ZkeyNewOptions,
): Promise<ZkeyNewResult> {
  if (proverChoiceFromEnvironment() !== 'snarkjs') {
    const { addon } = await nativeProver(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir });
    // An addon file named by ZKAI_NATIVE_ADDON may come from a zkai without `newZkey`.
    if (typeof addon?.newZkey === 'function') {
      try {
        const circuitHash = await addon.newZkey(r1csPath, ptauPath, zkeyPath);
        return { circuitHash: new Uint8Array(circuitHash), engine: 'native' };
      } catch (error) {
        if (addonErrorCode(error) !== 'SETUP_UNSUPPORTED')
          throw new SetupError(`${options.describe} failed: ${(error as Error).message}`, { cause: error });
        options.onProgress?.({ stage: options.stage, message: `${(error as Error).message}: snarkjs writes this key` });
      }
    }
  }
  // snarkjs's newZKey reports some failures (ptau too small or unprepared, curve mismatch) only by logging an error
  // and returning -1, so both the return value and the logged errors are checked.
  const errors: string[] = [];
  const created = await snarkjs.zKey
    .newZKey(r1csPath, ptauPath, zkeyPath, snarkjsLogger(options.stage, options.onProgress, errors))
    .catch((error: unknown) => {
      throw new SetupError(`${options.describe} failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    });
  if (created === -1 || !(created instanceof Uint8Array))
    throw new SetupError(`${options.describe} failed: ${errors.join('; ') || 'snarkjs zkey new wrote no zkey'}`);
  return { circuitHash: created, engine: 'snarkjs' };
}

/**
 * snarkjs's `zkey verify` against an r1cs (`verifyFromR1cs`): the zkey belongs to this r1cs and ptau and every
 * contribution of its chain checks. snarkjs makes the initial key again in memory and checks the chain against it
 * (`verifyFromInit`); here the initial key is made by {@link newZkey} (natively when it can) into a temporary folder,
 * then snarkjs's `verifyFromInit` checks the chain the same way.
 *
 * @throws SetupError when the initial key cannot be made (the r1cs or the ptau is refused)
 */
export async function verifyZkeyFromR1cs(
  r1csPath: string,
  ptauPath: string,
  zkeyPath: string,
  logger: SnarkjsLogger,
  options: ZkeyNewOptions,
): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'zkai-zkey-verify-'));
  try {
    const initial = join(dir, 'initial.zkey');
    await newZkey(r1csPath, ptauPath, initial, options);
    return (await snarkjs.zKey.verifyFromInit(initial, ptauPath, zkeyPath, logger)) === true;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
