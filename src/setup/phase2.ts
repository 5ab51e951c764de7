import { randomBytes, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, open } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import * as snarkjs from 'snarkjs';
import type { CompiledCircuit } from '../circuit/compile.ts';
import { SetupError } from '../errors.ts';
import { withFileLock } from '../util/file-lock.ts';
import { publishDirectory, writeFileAtomic } from '../util/atomic-fs.ts';
import { cacheLayout, keyFiles, ownZkeyPath } from '../cache/layout.ts';
import { DEV_PTAU_WARNING, ensureDevPtau } from './dev-ptau.ts';
import { requiredPtauPower } from './power.ts';
import { readPtauHeader } from './ptau-file.ts';
import { classifyPtau, type PtauTrust } from './ptau-trust.ts';
import { snarkjsLogger, type ProgressListener } from './progress.ts';
import { automaticPhase2Trust, type Phase2Trust } from './key-trust.ts';
import type { ZkeyContribution } from './zkey-file.ts';
import { newZkey, verifyZkeyFromR1cs } from './zkey-new.ts';
import { contributeZkey } from './zkey-contribute.ts';
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
  /**
   * Refuse a DEVELOPMENT ptau (one whose blake2b-512 is not in the pinned table of published ceremony files) instead
   * of labelling it: for keys that must be usable in production.
   */
  requireProductionPtau?: boolean;
  onProgress?: ProgressListener;
}

/** The ptau a key pair was made with, and how far it can be trusted. */
export interface KeysPtau {
  path: string;
  power: number;
  /** True unless {@link KeysPtau.trust} is `production`: true for every ptau not in the pinned table. */
  developmentOnly: boolean;
  /** True when the ptau is one of the published Hermez files (its hash matched the pinned table). */
  hermezVerified: boolean;
  /** `production` only when the ptau's blake2b-512 is in the pinned table of published ceremony files. */
  trust: PtauTrust;
  blake2b512: string;
  /** For a production ptau: the published file it is, and where its hash was published. */
  ceremony?: { family: string; fileName: string; source: string };
  /** Why it is production or development, in one sentence. */
  trustReason: string;
}

/** The proving and verification keys of a circuit. */
export interface CircuitKeys {
  /** Cache folder with the keys. */
  dir: string;
  zkeyPath: string;
  vkeyPath: string;
  vkey: Record<string, unknown>;
  /** The ptau used, and whether it is a production (pinned ceremony) or a development one: checked on every call. */
  ptau: KeysPtau;
  /** The power the circuit needs, by snarkjs's rule. */
  requiredPower: number;
  /** True when the keys came from the cache. */
  cached: boolean;
  /** Seconds spent, per step (0 for cached steps). */
  timings: { ptauSeconds: number; setupSeconds: number; contributeSeconds: number; verifySeconds: number };
  /** True when the zkey was checked against r1cs + ptau in this call. */
  verified: boolean;
  /**
   * Who made the key's phase 2 and how far it can be trusted: zkai's automatic setup is single-party and
   * DEVELOPMENT-ONLY, like the development ptau; a ceremony key (`--zkey`) is production only with at least two
   * contributions, a final beacon and a production ptau.
   */
  phase2: Phase2Trust;
  /** For a ceremony key (`--zkey`): the key as given and its verified contribution chain. */
  ceremony?: CeremonyKeyInfo;
}

/** A ceremony key a command proves with (`--zkey`), checked against the circuit's r1cs and the ptau. */
export interface CeremonyKeyInfo {
  /** The zkey as given (absolute path). */
  zkeyPath: string;
  /** blake2b-512 of the zkey file (hex). */
  zkeyBlake2b512: string;
  /** snarkjs's circuit hash (hex), as in the zkey and the ceremony transcript. */
  circuitHash: string;
  /** The contribution chain, in order (hashes as snarkjs prints them). */
  contributions: ZkeyContribution[];
  /** True when the verification key is the ceremony's file next to the zkey (NAME.vkey.json), not a copy zkai exported. */
  vkeyFromCeremony: boolean;
}

interface KeysMeta {
  circuitId: string;
  ptau: CircuitKeys['ptau'];
  requiredPower: number;
  beacon?: SetupOptions['beacon'];
  /** Single-party and DEVELOPMENT for every key zkai's automatic setup makes (absent in keys of older zkai versions). */
  phase2?: Phase2Trust;
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

/** Check a user-supplied ptau before use: big enough and prepared for phase 2. Its trust is decided by its hash. */
export async function checkUserPtau(path: string, requiredPower: number): Promise<{ path: string; power: number }> {
  const header = await readPtauHeader(path);
  if (header.power < requiredPower) {
    throw new SetupError(
      `${path}: the ptau has power ${header.power} but this circuit needs ${requiredPower} (floor(log2(constraints + public inputs + outputs)) + 1)`,
      {
        hint: `use a ptau of power ${requiredPower} or more, e.g. powersOfTau28_hez_final_${String(requiredPower).padStart(2, '0')}.ptau`,
      },
    );
  }
  if (!header.preparedForPhase2) {
    throw new SetupError(`${path}: the ptau is not prepared for phase 2 (no Lagrange sections)`, {
      hint: 'run `snarkjs powersoftau prepare phase2 in.ptau out.ptau`, or use a *_final ptau',
    });
  }
  return { path: resolve(path), power: header.power };
}

/**
 * The trust of the ptau about to be used, from its blake2b-512 (cached by file identity): PRODUCTION only for a file
 * in the pinned table of published ceremony files, DEVELOPMENT otherwise, said in the progress output either way.
 */
export async function ptauWithTrust(
  ptau: { path: string; power: number },
  options: {
    cacheDir: string;
    requireProduction: boolean;
    onProgress: ProgressListener | undefined;
    generated?: { fresh: boolean };
  },
): Promise<KeysPtau> {
  const info = await classifyPtau(ptau.path, {
    cacheDir: options.cacheDir,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const production = info.trust === 'production';
  const result: KeysPtau = {
    path: ptau.path,
    power: ptau.power,
    developmentOnly: !production,
    hermezVerified: info.ceremony?.family === 'hermez',
    trust: info.trust,
    blake2b512: info.blake2b512,
    ...(info.ceremony
      ? { ceremony: { family: info.ceremony.family, fileName: info.ceremony.fileName, source: info.ceremony.source } }
      : {}),
    trustReason: info.reason,
  };
  const name = basename(ptau.path);
  if (production) {
    options.onProgress?.({ stage: 'ptau', message: `${name}: PRODUCTION ptau: ${info.reason}` });
  } else if (options.requireProduction) {
    throw new SetupError(
      `${ptau.path}: a production ptau is required, and this one is DEVELOPMENT-ONLY: ${info.reason}`,
      {
        hint: 'use a published ceremony file zkai pins by hash: powersOfTau28_hez_final_XX.ptau (powers 8 to 28) from the snarkjs README',
      },
    );
  } else if (options.generated) {
    options.onProgress?.({
      stage: 'ptau',
      message: `${options.generated.fresh ? 'generated' : 'using cached'} ${name}. ${DEV_PTAU_WARNING}`,
    });
  } else {
    options.onProgress?.({
      stage: 'ptau',
      message: `${name}: DEVELOPMENT-ONLY ptau: ${info.reason}. ${DEV_PTAU_WARNING}`,
    });
  }
  return result;
}

/**
 * Whether cached keys (found by the ptau's cheap fingerprint) were made from this very ptau. Their metadata records
 * the ptau's blake2b-512; another hash means another file with the same size and the same first and last MiB. Keys
 * from before the hash was recorded are reused only with a development ptau, which claims nothing, so keys labelled
 * PRODUCTION are always made from the pinned file itself.
 */
async function cachedKeysMatchPtau(metaPath: string, ptau: KeysPtau): Promise<boolean> {
  let recorded: Partial<KeysPtau> | undefined;
  try {
    recorded = (JSON.parse(await readFile(metaPath, 'utf8')) as KeysMeta).ptau as Partial<KeysPtau> | undefined;
  } catch {
    return false;
  }
  if (typeof recorded?.blake2b512 === 'string') return recorded.blake2b512 === ptau.blake2b512;
  return ptau.trust === 'development';
}

/**
 * Keep the keys' metadata in step with what the ptau is now and with the key's single-party label (an older zkai, or
 * a changed file, may have said otherwise).
 */
async function refreshMeta(metaPath: string, ptau: KeysPtau, phase2: Phase2Trust): Promise<void> {
  let meta: KeysMeta;
  try {
    meta = JSON.parse(await readFile(metaPath, 'utf8')) as KeysMeta;
  } catch {
    return;
  }
  const recorded = meta.ptau as Partial<KeysPtau> | undefined;
  const samePtau =
    recorded?.trust === ptau.trust &&
    recorded.blake2b512 === ptau.blake2b512 &&
    recorded.developmentOnly === ptau.developmentOnly;
  if (samePtau && JSON.stringify(meta.phase2) === JSON.stringify(phase2)) return;
  await writeFileAtomic(metaPath, JSON.stringify({ ...meta, ptau, phase2 }, null, 2));
}

/**
 * Groth16 trusted setup of a compiled circuit: pick or generate the ptau, run `zkey new`, add one contribution with
 * fresh system entropy (never a prompt), optionally a beacon, export the verification key, optionally verify the zkey
 * against r1cs + ptau. Keys are cached per (circuit, ptau, beacon) and published atomically. Such a key is made by one
 * party, so it is labelled single-party and DEVELOPMENT-ONLY (`phase2`, in `meta.json` too) whatever the ptau; keys
 * others can trust come from a multi-party ceremony (`ceremony.ts`).
 */
export async function setupCircuit(circuit: CompiledCircuit, options: SetupOptions = {}): Promise<CircuitKeys> {
  const cache = cacheLayout(options.cacheDir);
  const onProgress = options.onProgress;
  const requiredPower = requiredPtauPower(circuit.info);
  const timings = { ptauSeconds: 0, setupSeconds: 0, contributeSeconds: 0, verifySeconds: 0 };

  // The ptau's trust is decided from its hash on every call, cached keys or not.
  let ptau: KeysPtau;
  const trustOptions = { cacheDir: cache.dir, requireProduction: options.requireProductionPtau === true, onProgress };
  if (options.ptauPath) {
    ptau = await ptauWithTrust(await checkUserPtau(options.ptauPath, requiredPower), trustOptions);
  } else {
    if (options.requireProductionPtau) {
      throw new SetupError('a production ptau is required, and none was given', {
        hint: 'pass --ptau with a published ceremony file zkai pins by hash: powersOfTau28_hez_final_XX.ptau (powers 8 to 28) from the snarkjs README',
      });
    }
    const dev = await ensureDevPtau(cache.dir, requiredPower, onProgress);
    timings.ptauSeconds = dev.seconds;
    ptau = await ptauWithTrust(dev, { ...trustOptions, generated: { fresh: dev.generated } });
  }

  const keyId = sha256Parts([
    'zkai-keys-v1',
    circuit.id,
    await ptauFingerprint(ptau.path),
    JSON.stringify(options.beacon ?? null),
  ]).slice(0, 24);
  const dir = cache.keyDir(circuit.name, keyId);
  const zkeyPath = ownZkeyPath(dir, circuit.name);
  const { vkeyPath, metaPath } = keyFiles(dir);

  // One contribution, by whoever runs this: a single-party key, DEVELOPMENT-ONLY whatever the ptau.
  const phase2 = automaticPhase2Trust({ beacon: options.beacon !== undefined, ptauTrust: ptau.trust });
  let stale = false;
  /** The cached keys when they are there and were made from this very ptau (checked by hash); undefined otherwise. */
  const cached = async (): Promise<CircuitKeys | undefined> => {
    if (options.force || !existsSync(metaPath) || !existsSync(zkeyPath) || !existsSync(vkeyPath)) return undefined;
    // Keys cached for another file with the same fingerprint are made again (and replace them) rather than served.
    if (!(await cachedKeysMatchPtau(metaPath, ptau))) {
      if (!stale)
        onProgress?.({
          stage: 'zkey:new',
          message: `the cached keys in ${dir} were not made from ${basename(ptau.path)} (another blake2b-512); making them again`,
        });
      stale = true;
      return undefined;
    }
    const vkey = JSON.parse(await readFile(vkeyPath, 'utf8')) as Record<string, unknown>;
    await refreshMeta(metaPath, ptau, phase2);
    let verified = false;
    if (options.verify) {
      const started = Date.now();
      verified = await verifyZkey(circuit, ptau.path, zkeyPath, cache.dir, onProgress);
      timings.verifySeconds = (Date.now() - started) / 1000;
    }
    return { dir, zkeyPath, vkeyPath, vkey, ptau, requiredPower, cached: true, timings, verified, phase2 };
  };
  // Another process setting up the same keys holds the lock: wait for them rather than making a second set.
  return (
    (await cached()) ??
    withFileLock(cache.keyLockPath(circuit.name, keyId), async () => (await cached()) ?? build(), {
      onWait: (pid) =>
        onProgress?.({ stage: 'zkey:new', message: `waiting for process ${pid}, which sets up the same keys` }),
    })
  );

  async function build(): Promise<CircuitKeys> {
    await mkdir(cache.keysDir, { recursive: true });
    const buildDir = await mkdtemp(cache.keyBuildPrefix(circuit.name));
    const built = keyFiles(buildDir);
    try {
      const zkey0 = join(buildDir, 'circuit_0000.zkey');
      const zkey1 = join(buildDir, 'circuit_0001.zkey');
      const builtZkey = ownZkeyPath(buildDir, circuit.name);
      let started = Date.now();
      await newZkey(circuit.r1csPath, ptau.path, zkey0, {
        cacheDir: cache.dir,
        stage: 'zkey:new',
        describe: `groth16 setup of ${circuit.name}`,
        ...(onProgress ? { onProgress } : {}),
      });
      if (!existsSync(zkey0)) throw new SetupError(`groth16 setup of ${circuit.name} failed: no zkey was written`);
      timings.setupSeconds = (Date.now() - started) / 1000;
      started = Date.now();
      await contributeZkey(
        zkey0,
        options.beacon ? zkey1 : builtZkey,
        'zkai phase-2 contribution',
        randomBytes(64).toString('hex'),
        { cacheDir: cache.dir, stage: 'zkey:contribute', ...(onProgress ? { onProgress } : {}) },
      );
      if (options.beacon) {
        const { hashHex, iterationsExp } = options.beacon;
        if (!/^[0-9a-fA-F]+$/.test(hashHex) || hashHex.length % 2 !== 0 || hashHex.length > 128) {
          throw new SetupError(`beacon hash must be an even-length hex string of at most 64 bytes, got "${hashHex}"`);
        }
        if (!Number.isInteger(iterationsExp) || iterationsExp < 10 || iterationsExp > 63) {
          throw new SetupError(`beacon iterations exponent must be an integer from 10 to 63, got ${iterationsExp}`);
        }
        const beaconErrors: string[] = [];
        const applied = await snarkjs.zKey.beacon(
          zkey1,
          builtZkey,
          'zkai final beacon',
          hashHex,
          iterationsExp,
          snarkjsLogger('zkey:beacon', onProgress, beaconErrors),
        );
        if (applied === false || !existsSync(builtZkey))
          throw new SetupError(`applying the beacon failed: ${beaconErrors.join('; ') || 'no zkey written'}`);
      }
      timings.contributeSeconds = (Date.now() - started) / 1000;
      await rm(zkey0, { force: true });
      await rm(zkey1, { force: true });
      const vkey = await snarkjs.zKey.exportVerificationKey(builtZkey);
      await writeFileAtomic(built.vkeyPath, JSON.stringify(vkey, null, 2));
      let verified = false;
      if (options.verify) {
        started = Date.now();
        verified = await verifyZkey(circuit, ptau.path, builtZkey, cache.dir, onProgress);
        timings.verifySeconds = (Date.now() - started) / 1000;
      }
      const meta: KeysMeta = {
        circuitId: circuit.id,
        ptau,
        requiredPower,
        ...(options.beacon ? { beacon: options.beacon } : {}),
        phase2,
        createdAt: new Date().toISOString(),
      };
      await writeFileAtomic(built.metaPath, JSON.stringify(meta, null, 2));
      if (options.force || stale) await rm(dir, { recursive: true, force: true });
      await publishDirectory(buildDir, dir);
      const finalVkey = JSON.parse(await readFile(vkeyPath, 'utf8')) as Record<string, unknown>;
      return {
        dir,
        zkeyPath,
        vkeyPath,
        vkey: finalVkey,
        ptau,
        requiredPower,
        cached: false,
        timings,
        verified,
        phase2,
      };
    } finally {
      await rm(buildDir, { recursive: true, force: true });
    }
  }
}

/** snarkjs `zkey verify`: the zkey belongs to this r1cs and ptau and all its contributions check. Throws if not. */
async function verifyZkey(
  circuit: CompiledCircuit,
  ptauPath: string,
  zkeyPath: string,
  cacheDir: string,
  onProgress?: ProgressListener,
): Promise<boolean> {
  const ok = await verifyZkeyFromR1cs(circuit.r1csPath, ptauPath, zkeyPath, snarkjsLogger('zkey:verify', onProgress), {
    cacheDir,
    stage: 'zkey:verify',
    describe: `zkey verify of ${zkeyPath}`,
    ...(onProgress ? { onProgress } : {}),
  });
  if (!ok) throw new SetupError(`${zkeyPath}: the zkey does not verify against ${circuit.r1csPath} and ${ptauPath}`);
  return true;
}
