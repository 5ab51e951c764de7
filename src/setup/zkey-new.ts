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
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { cacheLayout } from '../cache/layout.ts';
import { SetupError, ZkaiError } from '../errors.ts';
import { nativeProver, proverChoiceFromEnvironment } from '../prover/native/index.ts';
import { readR1csInfo } from '../circuit/r1cs-info.ts';
import { requiredPtauPower } from './power.ts';
import { readPtauHeader } from './ptau-file.ts';
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

/** The addon's error codes after which snarkjs makes the key instead. */
const SNARKJS_TAKES_OVER = new Set(['SETUP_UNSUPPORTED', 'NATIVE_FAILED', 'NATIVE_OUT_OF_MEMORY']);

/** An error of the addon: its code (R1CS_INVALID, PTAU_TOO_SMALL, SETUP_UNSUPPORTED, ...) and message. */
function addonErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The slice of snarkjs's curve used here: its thread manager, which runs WebAssembly tasks on the curve's threads. */
interface SnarkjsCurveTasks {
  tm: {
    concurrency: number;
    queueAction(task: unknown[]): Promise<Uint8Array[]>;
  };
}

/**
 * For a domain of 2^15 or more and a ptau of exactly the circuit's power, the 64 bytes snarkjs hashes for the last
 * point of its H check: its \`hashHPoints\` reads the tau points of its last chunk in one read that runs 64 bytes past
 * the end of the tau section (into the next section's header and points) and subtracts, normalizes and converts them
 * in WebAssembly. Here the same reads feed the very task snarkjs queues for the last thread's part of that chunk, on
 * snarkjs's own curve, so the bytes are snarkjs's on this machine. Undefined for every other shape.
 */
async function snarkjsPastEndHash(r1csPath: string, ptauPath: string): Promise<Uint8Array | undefined> {
  const [info, header] = await Promise.all([readR1csInfo(r1csPath), readPtauHeader(ptauPath)]);
  const power = requiredPtauPower(info);
  const domainSize = 2 ** power;
  const CHUNK = 1 << 14;
  const tau = header.sections.get(2);
  if (power !== header.power || domainSize <= CHUNK || tau === undefined) return undefined;
  const G1_BYTES = 64;
  const first = domainSize - CHUNK; // the last chunk of snarkjs's loop (i = 0, CHUNK, ... below domainSize - 1)
  const handle = await open(ptauPath, 'r');
  const high = Buffer.alloc(CHUNK * G1_BYTES);
  const low = Buffer.alloc(CHUNK * G1_BYTES);
  try {
    await handle.read(high, 0, high.length, tau.position + (first + domainSize) * G1_BYTES);
    await handle.read(low, 0, low.length, tau.position + first * G1_BYTES);
  } finally {
    await handle.close();
  }
  const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as SnarkjsCurveTasks;
  const perThread = Math.floor(CHUNK / curve.tm.concurrency);
  const start = (curve.tm.concurrency - 1) * perThread;
  const count = CHUNK - start;
  const G1_JACOBIAN_BYTES = 96;
  const task: unknown[] = [
    { cmd: 'ALLOCSET', var: 0, buff: high.subarray(start * G1_BYTES) },
    { cmd: 'ALLOCSET', var: 1, buff: low.subarray(start * G1_BYTES) },
    { cmd: 'ALLOC', var: 2, len: count * G1_JACOBIAN_BYTES },
  ];
  for (let i = 0; i < count; i += 1)
    task.push({
      cmd: 'CALL',
      fnName: 'g1m_subAffine',
      params: [
        { var: 0, offset: i * G1_BYTES },
        { var: 1, offset: i * G1_BYTES },
        { var: 2, offset: i * G1_JACOBIAN_BYTES },
      ],
    });
  task.push(
    { cmd: 'CALL', fnName: 'g1m_batchToAffine', params: [{ var: 2 }, { val: count }, { var: 2 }] },
    { cmd: 'CALL', fnName: 'g1m_batchLEMtoU', params: [{ var: 2 }, { val: count }, { var: 2 }] },
    { cmd: 'GET', out: 0, var: 2, len: count * G1_BYTES },
  );
  const [result] = await curve.tm.queueAction(task);
  if (!result || result.length !== count * G1_BYTES) throw new Error('snarkjs returned no H points');
  return result.slice((count - 1) * G1_BYTES);
}

/**
 * Writes the initial zkey of `r1csPath` and `ptauPath` to `zkeyPath` (which must not exist; the caller publishes it
 * atomically). Natively when it can, else with snarkjs; the two write the same bytes.
 *
 * @throws SetupError when the r1cs or the ptau is refused (too small, not prepared, another curve, damaged);
 *   ZkaiError NATIVE_UNAVAILABLE when the native prover was chosen (ZKAI_PROVER=native) and is not available, and
 *   BAD_OPTION for an unknown ZKAI_PROVER
 */
export async function newZkey(
  r1csPath: string,
  ptauPath: string,
  zkeyPath: string,
  options: ZkeyNewOptions,
): Promise<ZkeyNewResult> {
  const choice = proverChoiceFromEnvironment();
  if (choice !== 'snarkjs') {
    const { status, addon } = await nativeProver(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir });
    // An addon file named by ZKAI_NATIVE_ADDON may come from a zkai without `newZkey`.
    const usable = typeof addon?.newZkey === 'function';
    if (!usable && choice === 'native')
      throw new ZkaiError(
        'NATIVE_UNAVAILABLE',
        `the native prover is not available: ${status.available ? `${status.path} has no zkey new` : status.reason}`,
        { hint: 'install a C++ compiler (g++) and run again, or choose the snarkjs prover (--prover snarkjs)' },
      );
    if (usable) {
      try {
        const pastEndHash = await snarkjsPastEndHash(r1csPath, ptauPath);
        const circuitHash = await addon.newZkey(r1csPath, ptauPath, zkeyPath, pastEndHash ? { pastEndHash } : {});
        return { circuitHash: new Uint8Array(circuitHash), engine: 'native' };
      } catch (error) {
        // The shape left to snarkjs, and a failure of the addon itself (out of memory, say), go to snarkjs; a refused
        // file is refused.
        if (!SNARKJS_TAKES_OVER.has(addonErrorCode(error) ?? ''))
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
  // In the cache folder, not the system's temporary one (often a small tmpfs): an initial key is as big as the key.
  const keysDir = cacheLayout(options.cacheDir).keysDir;
  await mkdir(keysDir, { recursive: true });
  const dir = await mkdtemp(join(keysDir, '.verify-'));
  try {
    const initial = join(dir, 'initial.zkey');
    await newZkey(r1csPath, ptauPath, initial, options);
    return (await snarkjs.zKey.verifyFromInit(initial, ptauPath, zkeyPath, logger)) === true;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
