import { randomBytes, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, open } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import * as snarkjs from 'snarkjs';
import type { CompiledCircuit } from '../circuit/compile.ts';
import { SetupError } from '../errors.ts';
import { publishDirectory, writeFileAtomic } from '../util/atomic-fs.ts';
import { resolveCacheDir } from '../cache/cache-dir.ts';
import { DEV_PTAU_WARNING, ensureDevPtau } from './dev-ptau.ts';
import { hermezCandidate } from './hermez-ptau.ts';
import { requiredPtauPower } from './power.ts';
import { blake2b512File, readPtauHeader } from './ptau-file.ts';
import { snarkjsLogger, type ProgressListener } from './progress.ts';
import { sha256Parts } from '../util/hash.ts';

/** Options of {@link setupCircuit}. */
export interface SetupOptions {
  cacheDir?: string;
  /** A Perpetual Powers of Tau file. Without it a development ptau is generated (and labelled as such). */
  ptauPath?: string;
  /** Apply a final random beacon to the zkey: a public random value (hex) and 2^iterationsExp hash iterations. */
  beacon?: { hashHex: string; iterationsExp: number };
  /** Check the final zkey against the r1cs and the ptau (snarkjs `zkey verify`). Slow for big circuits. */
  verify?: boolean;
  /** Ignore a cached key pair and set up again. */
  force?: boolean;
  onProgress?: ProgressListener;
}

/** The proving and verification keys of a circuit. */
export interface CircuitKeys {
  /** Cache folder with the keys. */
  dir: string;
  zkeyPath: string;
  vkeyPath: string;
  vkey: Record<string, unknown>;
  /** The ptau used, and whether it is a development one. */
  ptau: { path: string; power: number; developmentOnly: boolean; hermezVerified: boolean };
  /** The power the circuit needs, by snarkjs's rule. */
  requiredPower: number;
  /** True when the keys came from the cache. */
  cached: boolean;
  /** Seconds spent, per step (0 for cached steps). */
  timings: { ptauSeconds: number; setupSeconds: number; contributeSeconds: number; verifySeconds: number };
  /** True when the zkey was checked against r1cs + ptau in this call. */
  verified: boolean;
}

interface KeysMeta {
  circuitId: string;
  ptau: CircuitKeys['ptau'];
  requiredPower: number;
  beacon?: SetupOptions['beacon'];
  createdAt: string;
}

/** A cheap identity of a ptau file for cache keys: its size and the hash of its first and last MiB. */
async function ptauFingerprint(path: string): Promise<string> {
  const size = (await stat(path)).size;
  const handle = await open(path, 'r');
  try {
    const span = Math.min(size, 1 << 20);
    const head = Buffer.alloc(span);
    const tail = Buffer.alloc(span);
    await handle.read(head, 0, span, 0);
    await handle.read(tail, 0, span, size - span);
    return createHash('sha256').update(String(size)).update(head).update(tail).digest('hex').slice(0, 16);
  } finally {
    await handle.close();
  }
}

/** Check a user-supplied ptau: big enough, prepared for phase 2, and, for a published Hermez file, its hash. */
async function checkUserPtau(path: string, requiredPower: number, onProgress?: ProgressListener): Promise<CircuitKeys['ptau']> {
  const header = await readPtauHeader(path);
  if (header.power < requiredPower) {
    throw new SetupError(
      `${path}: the ptau has power ${header.power} but this circuit needs ${requiredPower} (floor(log2(constraints + public inputs + outputs)) + 1)`,
      { hint: `use a ptau of power ${requiredPower} or more, e.g. powersOfTau28_hez_final_${String(requiredPower).padStart(2, '0')}.ptau` },
    );
  }
  if (!header.preparedForPhase2) {
    throw new SetupError(`${path}: the ptau is not prepared for phase 2 (no Lagrange sections)`, {
      hint: 'run `snarkjs powersoftau prepare phase2 in.ptau out.ptau`, or use a *_final ptau',
    });
  }
  const hermez = hermezCandidate(basename(path), header.size, header.power);
  let hermezVerified = false;
  if (hermez) {
    onProgress?.({ stage: 'ptau', message: `checking blake2b-512 of ${basename(path)} against the published Hermez table` });
    const actual = await blake2b512File(path);
    if (actual !== hermez.blake2b512) {
      throw new SetupError(
        `${path}: blake2b-512 does not match the published hash of ${hermez.fileName}\n  expected ${hermez.blake2b512}\n  actual   ${actual}`,
        { hint: 'the file is corrupt or not the published one; download it again' },
      );
    }
    hermezVerified = true;
  }
  return { path: resolve(path), power: header.power, developmentOnly: false, hermezVerified };
}

/**
 * Groth16 trusted setup of a compiled circuit: pick or generate the ptau, run `zkey new`, add one contribution with
 * fresh system entropy (never a prompt), optionally a beacon, export the verification key, optionally verify the zkey
 * against r1cs + ptau. Keys are cached per (circuit, ptau, beacon) and published atomically.
 */
export async function setupCircuit(circuit: CompiledCircuit, options: SetupOptions = {}): Promise<CircuitKeys> {
  const cacheDir = resolveCacheDir(options.cacheDir);
  const onProgress = options.onProgress;
  const requiredPower = requiredPtauPower(circuit.info);
  const timings = { ptauSeconds: 0, setupSeconds: 0, contributeSeconds: 0, verifySeconds: 0 };

  let ptau: CircuitKeys['ptau'];
  if (options.ptauPath) {
    ptau = await checkUserPtau(options.ptauPath, requiredPower, onProgress);
  } else {
    const dev = await ensureDevPtau(cacheDir, requiredPower, onProgress);
    timings.ptauSeconds = dev.seconds;
    ptau = { path: dev.path, power: dev.power, developmentOnly: true, hermezVerified: false };
    onProgress?.({ stage: 'ptau', message: `${dev.generated ? 'generated' : 'using cached'} ${basename(dev.path)}. ${DEV_PTAU_WARNING}` });
  }

  const keyId = sha256Parts([
    'zkai-keys-v1',
    circuit.id,
    await ptauFingerprint(ptau.path),
    JSON.stringify(options.beacon ?? null),
  ]).slice(0, 24);
  const dir = join(cacheDir, 'keys', `${circuit.name}-${keyId}`);
  const zkeyPath = join(dir, `${circuit.name}.zkey`);
  const vkeyPath = join(dir, 'verification_key.json');
  const metaPath = join(dir, 'meta.json');

  if (!options.force && existsSync(metaPath) && existsSync(zkeyPath) && existsSync(vkeyPath)) {
    const vkey = JSON.parse(await readFile(vkeyPath, 'utf8')) as Record<string, unknown>;
    let verified = false;
    if (options.verify) {
      const started = Date.now();
      verified = await verifyZkey(circuit, ptau.path, zkeyPath, onProgress);
      timings.verifySeconds = (Date.now() - started) / 1000;
    }
    return { dir, zkeyPath, vkeyPath, vkey, ptau, requiredPower, cached: true, timings, verified };
  }

  await mkdir(join(cacheDir, 'keys'), { recursive: true });
  const buildDir = await mkdtemp(join(cacheDir, 'keys', `.build-${circuit.name}-`));
  try {
    const zkey0 = join(buildDir, 'circuit_0000.zkey');
    const zkey1 = join(buildDir, 'circuit_0001.zkey');
    const builtZkey = join(buildDir, `${circuit.name}.zkey`);
    let started = Date.now();
    // snarkjs's newZKey reports some failures (ptau too small or unprepared, curve mismatch) only by logging an
    // error and returning -1, so both the return value and the logged errors are checked.
    const newZkeyErrors: string[] = [];
    const created = await snarkjs.zKey
      .newZKey(circuit.r1csPath, ptau.path, zkey0, snarkjsLogger('zkey:new', onProgress, newZkeyErrors))
      .catch((error: unknown) => {
        throw new SetupError(`groth16 setup of ${circuit.name} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      });
    if (created === -1 || !existsSync(zkey0)) {
      throw new SetupError(`groth16 setup of ${circuit.name} failed: ${newZkeyErrors.join('; ') || 'snarkjs zkey new wrote no zkey'}`);
    }
    timings.setupSeconds = (Date.now() - started) / 1000;
    started = Date.now();
    await snarkjs.zKey.contribute(zkey0, options.beacon ? zkey1 : builtZkey, 'zkai phase-2 contribution', randomBytes(64).toString('hex'), snarkjsLogger('zkey:contribute', onProgress));
    if (options.beacon) {
      const { hashHex, iterationsExp } = options.beacon;
      if (!/^[0-9a-fA-F]+$/.test(hashHex) || hashHex.length % 2 !== 0 || hashHex.length > 128) {
        throw new SetupError(`beacon hash must be an even-length hex string of at most 64 bytes, got "${hashHex}"`);
      }
      if (!Number.isInteger(iterationsExp) || iterationsExp < 10 || iterationsExp > 63) {
        throw new SetupError(`beacon iterations exponent must be an integer from 10 to 63, got ${iterationsExp}`);
      }
      const beaconErrors: string[] = [];
      const applied = await snarkjs.zKey.beacon(zkey1, builtZkey, 'zkai final beacon', hashHex, iterationsExp, snarkjsLogger('zkey:beacon', onProgress, beaconErrors));
      if (applied === false || !existsSync(builtZkey)) throw new SetupError(`applying the beacon failed: ${beaconErrors.join('; ') || 'no zkey written'}`);
    }
    timings.contributeSeconds = (Date.now() - started) / 1000;
    await rm(zkey0, { force: true });
    await rm(zkey1, { force: true });
    const vkey = await snarkjs.zKey.exportVerificationKey(builtZkey);
    await writeFileAtomic(join(buildDir, 'verification_key.json'), JSON.stringify(vkey, null, 2));
    let verified = false;
    if (options.verify) {
      started = Date.now();
      verified = await verifyZkey(circuit, ptau.path, builtZkey, onProgress);
      timings.verifySeconds = (Date.now() - started) / 1000;
    }
    const meta: KeysMeta = { circuitId: circuit.id, ptau, requiredPower, ...(options.beacon ? { beacon: options.beacon } : {}), createdAt: new Date().toISOString() };
    await writeFileAtomic(join(buildDir, 'meta.json'), JSON.stringify(meta, null, 2));
    if (options.force) await rm(dir, { recursive: true, force: true });
    await publishDirectory(buildDir, dir);
    const finalVkey = JSON.parse(await readFile(vkeyPath, 'utf8')) as Record<string, unknown>;
    return { dir, zkeyPath, vkeyPath, vkey: finalVkey, ptau, requiredPower, cached: false, timings, verified };
  } finally {
    await rm(buildDir, { recursive: true, force: true });
  }
}

/** snarkjs `zkey verify`: the zkey belongs to this r1cs and ptau and all its contributions check. Throws if not. */
async function verifyZkey(circuit: CompiledCircuit, ptauPath: string, zkeyPath: string, onProgress?: ProgressListener): Promise<boolean> {
  const ok = await snarkjs.zKey.verifyFromR1cs(circuit.r1csPath, ptauPath, zkeyPath, snarkjsLogger('zkey:verify', onProgress));
  if (!ok) throw new SetupError(`${zkeyPath}: the zkey does not verify against ${circuit.r1csPath} and ${ptauPath}`);
  return true;
}
