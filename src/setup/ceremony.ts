/**
 * A multi-party Groth16 phase-2 ceremony, run with files passed from one machine to the next:
 *
 * 1. `ceremonyInit`: the coordinator makes the initial zkey from the circuit's r1cs and a ptau (snarkjs `zkey new`).
 * 2. `ceremonyContribute`: each participant adds a contribution with fresh entropy (`crypto.randomBytes`, plus any
 *    text they give; never a prompt) and keeps the contribution hash it prints to recognise its contribution later.
 * 3. `ceremonyBeacon`: a public random value nobody could predict closes the chain.
 * 4. `finalizeCeremony`: the whole chain is checked against the r1cs and the ptau (snarkjs `zKey.verifyFromR1cs`),
 *    the verification key exported and a transcript written: the r1cs and ptau hashes, snarkjs's circuit hash, every
 *    contribution's name and hash in order, the beacon, and the hashes of the final zkey and verification key.
 * 5. `verifyCeremony`: anyone re-checks a zkey against the r1cs, the ptau and a transcript (same contributions, in
 *    order), and can require contributions of its own.
 *
 * `keysFromZkey` turns a ceremony's zkey into the keys a prove command uses (`--zkey`), after checking it against the
 * command's compiled circuit. Entropy is never written anywhere.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import * as snarkjs from 'snarkjs';
import type { CompiledCircuit } from '../circuit/compile.ts';
import type { CircuitInfo } from '../circuit/r1cs-info.ts';
import { resolveCacheDir } from '../cache/cache-dir.ts';
import { cacheLayout, keyFiles } from '../cache/layout.ts';
import { InputFileError, SetupError, ZkaiError } from '../errors.ts';
import { publishDirectory, siblingTempPath, writeFileAtomic } from '../util/atomic-fs.ts';
import { sha256Parts } from '../util/hash.ts';
import { readJsonFile } from '../util/json-file.ts';
import { ceremonyPhase2Trust, type Phase2Trust } from './key-trust.ts';
import { checkUserPtau, ptauWithTrust, type CircuitKeys, type KeysPtau } from './phase2.ts';
import { requiredPtauPower } from './power.ts';
import { blake2b512File } from './ptau-file.ts';
import type { PtauTrust } from './ptau-trust.ts';
import { snarkjsLogger, type ProgressListener } from './progress.ts';
import { readZkeyInfo, snarkjsHashHex, type ZkeyContribution, type ZkeyInfo } from './zkey-file.ts';
import { newZkey, verifyZkeyFromR1cs } from './zkey-new.ts';

/** The circuit a ceremony is for: its r1cs (from a compiled circuit, or an r1cs file given as it is). */
export interface CeremonyCircuit {
  name: string;
  r1csPath: string;
  info: Pick<CircuitInfo, 'constraints' | 'publicInputs' | 'outputs' | 'wires'>;
}

/** Options every ceremony step that reads a ptau takes. */
export interface CeremonyOptions {
  /** zkai's cache folder (the ptau hash cache lives there; `keysFromZkey` keeps verified keys there). */
  cacheDir?: string;
  onProgress?: ProgressListener;
}

/** The `format` of a ceremony transcript. */
export const TRANSCRIPT_FORMAT = 'zkai-ceremony-transcript-v1';

/** What a finished ceremony publishes besides the zkey and the verification key: enough for anyone to re-check it. */
export interface CeremonyTranscript {
  format: typeof TRANSCRIPT_FORMAT;
  circuit: {
    name: string;
    /** blake2b-512 of the r1cs file the chain was checked against. */
    r1csBlake2b512: string;
    constraints: number;
    publicSignals: number;
    wires: number;
    /** snarkjs's circuit hash (from the r1cs and the ptau), as `zkey new` printed it. */
    circuitHash: string;
  };
  ptau: { fileName: string; power: number; blake2b512: string; trust: PtauTrust; trustReason: string };
  /** Every step of the chain in order: contributions (name and hash) and the beacon (its value and iterations). */
  contributions: ZkeyContribution[];
  /** The final zkey: its file name when finalized and its blake2b-512. */
  zkey: { fileName: string; blake2b512: string };
  /** The verification key: its file name when finalized and the SHA-256 of its canonical JSON (sorted keys, no spaces). */
  verificationKey: { fileName: string; canonicalJsonSha256: string };
  /** How far the key can be trusted, by zkai's rule (see `key-trust.ts`). */
  phase2: Phase2Trust;
  /** What checked the chain. */
  verifiedWith: string;
  createdAt: string;
}

/** Refuse an output that exists (a ceremony file lost is a step to redo), unless `force`. */
function refuseExisting(path: string, force: boolean | undefined, what: string): void {
  if (!force && existsSync(path)) {
    throw new ZkaiError('OUTPUT_EXISTS', `${path} already exists; it was not overwritten`, {
      hint: `write the ${what} to another path, or pass --force to replace it`,
    });
  }
}

/** Run a snarkjs step that writes `outPath`: into a temporary sibling first, renamed into place only when it succeeded. */
async function writeThroughTemp(outPath: string, step: (temp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(resolve(outPath)), { recursive: true });
  const temp = siblingTempPath(resolve(outPath));
  try {
    await step(temp);
    if (!existsSync(temp)) throw new SetupError(`snarkjs wrote no zkey for ${outPath}`);
    await rename(temp, outPath);
  } finally {
    await rm(temp, { force: true });
  }
}

/** The ptau for a circuit: large enough and prepared, with its trust decided by its hash (said in the progress output). */
async function ceremonyPtau(circuit: CeremonyCircuit, ptauPath: string, options: CeremonyOptions): Promise<KeysPtau> {
  const requiredPower = requiredPtauPower(circuit.info);
  return ptauWithTrust(await checkUserPtau(ptauPath, requiredPower), {
    cacheDir: resolveCacheDir(options.cacheDir),
    requireProduction: false,
    onProgress: options.onProgress,
  });
}

/** JSON with object keys sorted and no spaces: two verification keys are the same key when these strings are equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, entry: unknown) =>
    entry !== null && typeof entry === 'object' && !Array.isArray(entry)
      ? Object.fromEntries(
          Object.entries(entry as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : entry,
  );
}

/** The files finalize writes next to a zkey by default: `final.zkey` -> `final.vkey.json`, `final.transcript.json`. */
export function ceremonyFilesOf(zkeyPath: string): { vkeyPath: string; transcriptPath: string } {
  const base = zkeyPath.toLowerCase().endsWith('.zkey') ? zkeyPath.slice(0, -'.zkey'.length) : zkeyPath;
  return { vkeyPath: `${base}.vkey.json`, transcriptPath: `${base}.transcript.json` };
}

/** A contribution hash as people paste it: snarkjs prints it in groups over four lines; zkai writes one hex string. */
export function normalizeHash(text: string): string {
  return text.replace(/\s+/g, '').toLowerCase();
}

function short(hash: string): string {
  return `${hash.slice(0, 16)}...`;
}

function describeStep(step: ZkeyContribution): string {
  return `#${step.index} ${step.type === 'beacon' ? 'beacon' : 'contribution'}${step.name ? ` "${step.name}"` : ''} ${short(step.hash)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The steps

/** What `ceremonyInit` made. */
export interface CeremonyInitResult {
  zkeyPath: string;
  circuitHash: string;
  r1csBlake2b512: string;
  ptau: KeysPtau;
  requiredPower: number;
}

/**
 * Start a ceremony: the initial zkey (no contribution yet: its toxic waste is public, so it must get contributions)
 * from the circuit's r1cs and a ptau (snarkjs `zkey new`). The ptau is checked for size and preparation and
 * labelled PRODUCTION or DEVELOPMENT by its hash.
 *
 * @param outPath where to write the initial zkey (refused when it exists, unless `force`)
 * @throws SetupError when snarkjs refuses the r1cs or the ptau
 */
export async function ceremonyInit(
  circuit: CeremonyCircuit,
  ptauPath: string,
  outPath: string,
  options: CeremonyOptions & { force?: boolean } = {},
): Promise<CeremonyInitResult> {
  refuseExisting(outPath, options.force, 'initial zkey');
  const ptau = await ceremonyPtau(circuit, ptauPath, options);
  let circuitHash = '';
  await writeThroughTemp(outPath, async (temp) => {
    const created = await newZkey(circuit.r1csPath, ptau.path, temp, {
      cacheDir: resolveCacheDir(options.cacheDir),
      stage: 'ceremony:init',
      describe: `zkey new of ${circuit.r1csPath}`,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    circuitHash = snarkjsHashHex(created.circuitHash);
  });
  return {
    zkeyPath: outPath,
    circuitHash,
    r1csBlake2b512: await blake2b512File(circuit.r1csPath),
    ptau,
    requiredPower: requiredPtauPower(circuit.info),
  };
}

/** What a contribution or a beacon made. */
export interface CeremonyStepResult {
  zkeyPath: string;
  /** The step just added. */
  contribution: ZkeyContribution;
  /** The whole chain of the new zkey, in order. */
  chain: ZkeyContribution[];
  circuitHash: string;
}

/** Check a new zkey's chain: the old one plus exactly the step snarkjs reported (hash computed as snarkjs does). */
async function checkedStep(before: ZkeyInfo, outPath: string, reported: unknown): Promise<CeremonyStepResult> {
  const after = await readZkeyInfo(outPath);
  const added = after.contributions.at(-1);
  const same =
    after.contributions.length === before.contributions.length + 1 &&
    before.contributions.every((step, i) => step.hash === after.contributions[i]?.hash);
  if (!added || !same || added.hash !== snarkjsHashHex(reported) || after.circuitHash !== before.circuitHash) {
    throw new ZkaiError(
      'INTERNAL',
      `${outPath}: the new zkey's chain is not the old chain plus the step snarkjs reported (${snarkjsHashHex(reported)})`,
    );
  }
  return { zkeyPath: outPath, contribution: added, chain: after.contributions, circuitHash: after.circuitHash };
}

function checkDistinct(inPath: string, outPath: string): void {
  if (resolve(inPath) === resolve(outPath))
    throw new ZkaiError(
      'BAD_OPTION',
      `the output ${outPath} is the input zkey: write the new zkey to another file (each step keeps its own)`,
    );
}

/**
 * Add a participant's contribution to a zkey. The entropy is 64 fresh bytes of `crypto.randomBytes` followed by the
 * participant's own text when given (snarkjs mixes in 64 more random bytes), so it never prompts; it is never written.
 *
 * @param inPath the previous participant's zkey
 * @param outPath the new zkey, to hand to the next participant (refused when it exists, unless `force`)
 * @param options.name the participant's name, recorded in the zkey (1 to 64 characters)
 * @param options.entropy extra text to mix into the fresh randomness
 * @returns the contribution (its hash is what the participant keeps to recognise it) and the new chain
 */
export async function ceremonyContribute(
  inPath: string,
  outPath: string,
  options: { name: string; entropy?: string; force?: boolean; onProgress?: ProgressListener },
): Promise<CeremonyStepResult> {
  const name = options.name.trim();
  if (name.length < 1 || name.length > 64)
    throw new ZkaiError(
      'BAD_OPTION',
      `the contributor name must be 1 to 64 characters, got ${JSON.stringify(options.name)}`,
    );
  checkDistinct(inPath, outPath);
  refuseExisting(outPath, options.force, 'new zkey');
  const before = await readZkeyInfo(inPath);
  const entropy = `${randomBytes(64).toString('hex')}${options.entropy ?? ''}`;
  let reported: unknown;
  await writeThroughTemp(outPath, async (temp) => {
    reported = await snarkjs.zKey.contribute(
      inPath,
      temp,
      name,
      entropy,
      snarkjsLogger('ceremony:contribute', options.onProgress),
    );
  });
  return checkedStep(before, outPath, reported);
}

/**
 * Apply the final random beacon: a public value nobody could predict when the last contribution was made (a future
 * block hash, a lottery draw), hashed 2^iterationsExp times. Anyone can recompute it, so it adds no secret: it only
 * keeps the last contributor from choosing the final key.
 *
 * @param options.hashHex the beacon value, hex (1 to 64 bytes, an optional 0x prefix)
 * @param options.iterationsExp 10 to 63
 */
export async function ceremonyBeacon(
  inPath: string,
  outPath: string,
  options: { hashHex: string; iterationsExp: number; name?: string; force?: boolean; onProgress?: ProgressListener },
): Promise<CeremonyStepResult> {
  const hex = options.hashHex.replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length % 2 !== 0 || hex.length > 128) {
    throw new ZkaiError(
      'BAD_OPTION',
      `the beacon must be an even number of hex digits, 1 to 64 bytes, got "${options.hashHex}"`,
      { hint: 'use a public random value nobody knew before the last contribution, e.g. a future block hash' },
    );
  }
  if (!Number.isInteger(options.iterationsExp) || options.iterationsExp < 10 || options.iterationsExp > 63) {
    throw new ZkaiError(
      'BAD_OPTION',
      `the beacon iterations exponent must be an integer from 10 to 63, got ${options.iterationsExp}`,
    );
  }
  checkDistinct(inPath, outPath);
  refuseExisting(outPath, options.force, 'final zkey');
  const before = await readZkeyInfo(inPath);
  const errors: string[] = [];
  let reported: unknown;
  await writeThroughTemp(outPath, async (temp) => {
    reported = await snarkjs.zKey.beacon(
      inPath,
      temp,
      options.name ?? 'final beacon',
      hex.toLowerCase(),
      options.iterationsExp,
      snarkjsLogger('ceremony:beacon', options.onProgress, errors),
    );
    if (reported === false)
      throw new SetupError(`applying the beacon failed: ${errors.join('; ') || 'snarkjs refused it'}`);
  });
  return checkedStep(before, outPath, reported);
}

// ---------------------------------------------------------------------------------------------------------------
// Verification

/**
 * snarkjs `zKey.verifyFromR1cs`: the zkey was made from this r1cs and ptau and every contribution of its chain checks.
 * snarkjs reports some failures with `console.log` (which would corrupt `--json` output) and others with the logger:
 * both are collected as the reasons.
 */
async function verifyChain(
  r1csPath: string,
  ptauPath: string,
  zkeyPath: string,
  { cacheDir, onProgress }: Pick<CeremonyOptions, 'cacheDir' | 'onProgress'>,
): Promise<{ ok: boolean; errors: string[] }> {
  const errors: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => {
    errors.push(args.map(String).join(' '));
  };
  try {
    const ok = await verifyZkeyFromR1cs(
      r1csPath,
      ptauPath,
      zkeyPath,
      snarkjsLogger('ceremony:verify', onProgress, errors),
      {
        ...(cacheDir === undefined ? {} : { cacheDir }),
        stage: 'ceremony:verify',
        describe: `zkey verify of ${zkeyPath}`,
        ...(onProgress ? { onProgress } : {}),
      },
    );
    return { ok: ok === true, errors };
  } catch (error) {
    return { ok: false, errors: [...errors, error instanceof Error ? error.message : String(error)] };
  } finally {
    console.log = original;
  }
}

/** Why a zkey's header cannot be this circuit's (its sizes differ), or undefined when they agree. */
function sizeMismatch(info: ZkeyInfo, circuit: CeremonyCircuit): string | undefined {
  const nPublic = circuit.info.outputs + circuit.info.publicInputs;
  const domainSize = 2 ** requiredPtauPower(circuit.info);
  const differences = [
    ...(info.nVars !== circuit.info.wires ? [`${info.nVars} wires, the circuit has ${circuit.info.wires}`] : []),
    ...(info.nPublic !== nPublic ? [`${info.nPublic} public signals, the circuit has ${nPublic}`] : []),
    ...(info.domainSize !== domainSize
      ? [`domain 2^${Math.log2(info.domainSize)}, the circuit needs 2^${Math.log2(domainSize)}`]
      : []),
  ];
  return differences.length > 0 ? `the zkey is of another circuit: it has ${differences.join('; ')}` : undefined;
}

/** The outcome of {@link verifyCeremony}. */
export interface CeremonyVerification {
  /** True when the chain checks against the r1cs and ptau and every given expectation (transcript, vkey, contributions) holds. */
  valid: boolean;
  /** What failed, one sentence each (empty when valid). */
  problems: string[];
  zkey: { path: string; blake2b512: string };
  circuit: { name: string; r1csPath: string; r1csBlake2b512: string };
  circuitHash: string;
  ptau: KeysPtau;
  contributions: ZkeyContribution[];
  /** How far the key can be trusted (meaningful when valid). */
  phase2: Phase2Trust;
  /** What was checked besides the chain. */
  checked: { transcript: boolean; vkey: boolean; contributions: string[] };
  /** The zkey's verification key (exported from it), when the chain is valid: what a verifier records as trusted. */
  verificationKey?: Record<string, unknown>;
}

/** Compare a transcript with what the files are: the circuit, the ptau, the chain (same steps, in order), the zkey. */
function transcriptProblems(
  transcript: CeremonyTranscript,
  actual: { r1csBlake2b512: string; ptau: KeysPtau; info: ZkeyInfo; zkeyBlake2b512: string },
): string[] {
  const problems: string[] = [];
  if (transcript.circuit.r1csBlake2b512 !== actual.r1csBlake2b512) {
    problems.push(
      `the transcript is of another circuit: it records r1cs blake2b-512 ${short(transcript.circuit.r1csBlake2b512)}, the circuit given has ${short(actual.r1csBlake2b512)}`,
    );
  }
  if (transcript.ptau.blake2b512 !== actual.ptau.blake2b512) {
    problems.push(
      `the transcript names another ptau: blake2b-512 ${short(transcript.ptau.blake2b512)} (${transcript.ptau.fileName}), the ptau given has ${short(actual.ptau.blake2b512)}`,
    );
  }
  if (transcript.circuit.circuitHash !== actual.info.circuitHash) {
    problems.push(
      `the transcript records circuit hash ${short(transcript.circuit.circuitHash)}, the zkey has ${short(actual.info.circuitHash)}`,
    );
  }
  const listed = transcript.contributions;
  const held = actual.info.contributions;
  let prefix = 0;
  for (let i = 0; i < Math.min(listed.length, held.length); i += 1) {
    const want = listed[i]!;
    const got = held[i]!;
    const same =
      want.hash === got.hash &&
      want.type === got.type &&
      (want.name ?? '') === (got.name ?? '') &&
      want.beacon?.hash === got.beacon?.hash &&
      want.beacon?.iterationsExp === got.beacon?.iterationsExp;
    if (!same) {
      problems.push(
        `step #${i + 1}: the transcript lists ${describeStep(want)}${want.beacon ? ` (beacon ${want.beacon.hash}, 2^${want.beacon.iterationsExp})` : ''}, the zkey holds ${describeStep(got)}${got.beacon ? ` (beacon ${got.beacon.hash}, 2^${got.beacon.iterationsExp})` : ''}`,
      );
      break;
    }
    prefix = i + 1;
  }
  if (prefix === Math.min(listed.length, held.length)) {
    if (held.length < listed.length) {
      const last = held.at(-1);
      problems.push(
        `the zkey holds only ${held.length} of the transcript's ${listed.length} steps: it stops ${last ? `after ${describeStep(last)}` : 'before the first contribution'}, so it is the zkey of an earlier step, not the final one (missing: ${listed.slice(held.length).map(describeStep).join(', ')})`,
      );
    } else if (held.length > listed.length) {
      problems.push(
        `the zkey holds ${held.length - listed.length} step(s) the transcript does not list: ${held.slice(listed.length).map(describeStep).join(', ')}`,
      );
    }
  }
  if (problems.length === 0 && transcript.zkey.blake2b512 !== actual.zkeyBlake2b512) {
    problems.push(
      `the transcript records the final zkey's blake2b-512 ${short(transcript.zkey.blake2b512)}, the zkey given has ${short(actual.zkeyBlake2b512)}`,
    );
  }
  return problems;
}

/**
 * Check a ceremony's zkey: its whole chain against the r1cs and the ptau (snarkjs `zKey.verifyFromR1cs`), and when
 * given, a transcript (same circuit, ptau and circuit hash, the same steps in the same order, the same final zkey),
 * a verification key (the zkey's own) and contributions that must be in the chain (a participant's own hash).
 * A bad zkey gives `valid: false` with the reasons; only unreadable inputs throw.
 */
export async function verifyCeremony(
  zkeyPath: string,
  circuit: CeremonyCircuit,
  ptauPath: string,
  options: CeremonyOptions & {
    transcript?: CeremonyTranscript;
    vkey?: unknown;
    requireContributions?: readonly string[];
  } = {},
): Promise<CeremonyVerification> {
  const ptau = await ceremonyPtau(circuit, ptauPath, options);
  const info = await readZkeyInfo(zkeyPath);
  const [zkeyBlake2b512, r1csBlake2b512] = await Promise.all([
    blake2b512File(zkeyPath),
    blake2b512File(circuit.r1csPath),
  ]);
  const problems: string[] = [];
  const mismatch = sizeMismatch(info, circuit);
  if (mismatch) {
    problems.push(`${mismatch} (${circuit.r1csPath})`);
  } else {
    const chain = await verifyChain(circuit.r1csPath, ptau.path, zkeyPath, options);
    if (!chain.ok)
      problems.push(
        `the zkey does not verify against the r1cs and the ptau (snarkjs zkey verify): ${chain.errors.join('; ') || 'no reason given'}`,
      );
  }
  const required = (options.requireContributions ?? []).map(normalizeHash);
  for (const hash of required) {
    if (!/^[0-9a-f]{128}$/.test(hash)) {
      problems.push(`the contribution hash "${hash}" is not 128 hex digits (snarkjs's blake2b-512)`);
    } else if (!info.contributions.some((step) => step.type === 'contribution' && step.hash === hash)) {
      problems.push(
        `the contribution ${short(hash)} is not in the zkey's chain (${info.contributions.map(describeStep).join(', ') || 'no contribution'})`,
      );
    }
  }
  if (options.transcript)
    problems.push(...transcriptProblems(options.transcript, { r1csBlake2b512, ptau, info, zkeyBlake2b512 }));
  let verificationKey: Record<string, unknown> | undefined;
  if (options.vkey !== undefined || problems.length === 0) {
    verificationKey = (await snarkjs.zKey.exportVerificationKey(zkeyPath)) as Record<string, unknown>;
    if (options.vkey !== undefined && canonicalJson(verificationKey) !== canonicalJson(options.vkey))
      problems.push("the verification key given is not this zkey's verification key");
  }
  return {
    valid: problems.length === 0,
    problems,
    zkey: { path: zkeyPath, blake2b512: zkeyBlake2b512 },
    circuit: { name: circuit.name, r1csPath: circuit.r1csPath, r1csBlake2b512 },
    circuitHash: info.circuitHash,
    ptau,
    contributions: info.contributions,
    phase2: ceremonyPhase2Trust(info.contributions, ptau.trust),
    checked: {
      transcript: options.transcript !== undefined,
      vkey: options.vkey !== undefined,
      contributions: required,
    },
    ...(problems.length === 0 && verificationKey ? { verificationKey } : {}),
  };
}

/** What `finalizeCeremony` wrote. */
export interface CeremonyFinalizeResult {
  transcript: CeremonyTranscript;
  transcriptPath: string;
  vkeyPath: string;
  verification: CeremonyVerification;
}

/**
 * Close a ceremony: verify the whole chain against the r1cs and the ptau, then write the verification key and the
 * transcript (atomically; by default next to the zkey as NAME.vkey.json and NAME.transcript.json, where `--zkey`
 * finds the verification key). A chain without any secret contribution is refused: its toxic waste is public.
 *
 * @throws SetupError when the chain does not verify or holds no secret contribution
 */
export async function finalizeCeremony(
  zkeyPath: string,
  circuit: CeremonyCircuit,
  ptauPath: string,
  options: CeremonyOptions & { vkeyOut?: string; transcriptOut?: string } = {},
): Promise<CeremonyFinalizeResult> {
  const defaults = ceremonyFilesOf(zkeyPath);
  const vkeyPath = options.vkeyOut ?? defaults.vkeyPath;
  const transcriptPath = options.transcriptOut ?? defaults.transcriptPath;
  for (const [path, option] of [
    [vkeyPath, 'verification key'],
    [transcriptPath, 'transcript'],
  ] as const) {
    if (
      resolve(path) === resolve(zkeyPath) ||
      resolve(path) === resolve(circuit.r1csPath) ||
      resolve(path) === resolve(ptauPath)
    ) {
      throw new ZkaiError('BAD_OPTION', `the ${option} would overwrite an input: ${path}`);
    }
  }
  const verification = await verifyCeremony(zkeyPath, circuit, ptauPath, options);
  if (!verification.valid) {
    throw new SetupError(
      `${zkeyPath}: the ceremony does not verify, nothing was written: ${verification.problems.join('; ')}`,
      {
        hint: `check each step with zkai ceremony verify ZKEY --circuit ${circuit.r1csPath} --ptau ${ptauPath}, from the first zkey on, to find where the chain breaks`,
      },
    );
  }
  if (verification.phase2.contributions === 0) {
    throw new SetupError(
      `${zkeyPath}: the chain holds no secret contribution, so its toxic waste is public and anyone could forge proofs; nothing was written`,
      {
        hint: 'have at least two participants run zkai ceremony contribute (each on their own machine), then zkai ceremony beacon',
      },
    );
  }
  const vkey = await snarkjs.zKey.exportVerificationKey(zkeyPath);
  const transcript: CeremonyTranscript = {
    format: TRANSCRIPT_FORMAT,
    circuit: {
      name: circuit.name,
      r1csBlake2b512: verification.circuit.r1csBlake2b512,
      constraints: circuit.info.constraints,
      publicSignals: circuit.info.outputs + circuit.info.publicInputs,
      wires: circuit.info.wires,
      circuitHash: verification.circuitHash,
    },
    ptau: {
      fileName: basename(verification.ptau.path),
      power: verification.ptau.power,
      blake2b512: verification.ptau.blake2b512,
      trust: verification.ptau.trust,
      trustReason: verification.ptau.trustReason,
    },
    contributions: verification.contributions,
    zkey: { fileName: basename(zkeyPath), blake2b512: verification.zkey.blake2b512 },
    verificationKey: { fileName: basename(vkeyPath), canonicalJsonSha256: sha256Parts([canonicalJson(vkey)]) },
    phase2: verification.phase2,
    verifiedWith:
      'snarkjs zKey.verifyFromInit against the initial key made again from the r1cs and the ptau (what zKey.verifyFromR1cs does)',
    createdAt: new Date().toISOString(),
  };
  await writeFileAtomic(vkeyPath, `${JSON.stringify(vkey, null, 2)}\n`);
  await writeFileAtomic(transcriptPath, `${JSON.stringify(transcript, null, 2)}\n`);
  return { transcript, transcriptPath, vkeyPath, verification };
}

// ---------------------------------------------------------------------------------------------------------------
// Transcripts

const HEX512 = /^[0-9a-f]{128}$/;

/**
 * Read a ceremony transcript, checking every field {@link verifyCeremony} compares.
 *
 * @throws InputFileError naming the file and the field that is missing or malformed
 */
export async function readCeremonyTranscript(path: string): Promise<CeremonyTranscript> {
  const value = await readJsonFile(path, 'ceremony transcript');
  const bad = (field: string, expected: string) =>
    new InputFileError(path, `the ceremony transcript's ${field} must be ${expected}`, {
      hint: 'use the transcript zkai ceremony finalize wrote, unchanged',
    });
  const object = (input: unknown, field: string): Record<string, unknown> => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw bad(field, 'an object');
    return input as Record<string, unknown>;
  };
  const hex = (input: unknown, field: string): string => {
    if (typeof input !== 'string' || !HEX512.test(input))
      throw bad(field, 'a blake2b-512 hash (128 lowercase hex digits)');
    return input;
  };
  const text = (input: unknown, field: string): string => {
    if (typeof input !== 'string') throw bad(field, 'a string');
    return input;
  };
  const count = (input: unknown, field: string): number => {
    if (typeof input !== 'number' || !Number.isSafeInteger(input) || input < 0) throw bad(field, 'a whole number');
    return input;
  };
  const root = object(value, 'top level');
  if (root.format !== TRANSCRIPT_FORMAT) throw bad('format', `"${TRANSCRIPT_FORMAT}"`);
  const circuit = object(root.circuit, 'circuit');
  const ptau = object(root.ptau, 'ptau');
  const zkey = object(root.zkey, 'zkey');
  const vkey = object(root.verificationKey, 'verificationKey');
  if (!Array.isArray(root.contributions)) throw bad('contributions', 'a list');
  const contributions = root.contributions.map((entry: unknown, i): ZkeyContribution => {
    const step = object(entry, `contributions[${i}]`);
    if (step.index !== i + 1) throw bad(`contributions[${i}].index`, `${i + 1} (steps are listed in order from 1)`);
    if (step.type !== 'contribution' && step.type !== 'beacon')
      throw bad(`contributions[${i}].type`, '"contribution" or "beacon"');
    let beacon: ZkeyContribution['beacon'];
    if (step.type === 'beacon') {
      const b = object(step.beacon, `contributions[${i}].beacon`);
      if (typeof b.hash !== 'string' || !/^([0-9a-f]{2})+$/.test(b.hash))
        throw bad(`contributions[${i}].beacon.hash`, 'lowercase hex');
      beacon = { hash: b.hash, iterationsExp: count(b.iterationsExp, `contributions[${i}].beacon.iterationsExp`) };
    }
    return {
      index: i + 1,
      type: step.type,
      ...(step.name !== undefined ? { name: text(step.name, `contributions[${i}].name`) } : {}),
      hash: hex(step.hash, `contributions[${i}].hash`),
      ...(beacon ? { beacon } : {}),
    };
  });
  const trust = ptau.trust === 'production' || ptau.trust === 'development' ? ptau.trust : undefined;
  if (!trust) throw bad('ptau.trust', '"production" or "development"');
  return {
    format: TRANSCRIPT_FORMAT,
    circuit: {
      name: text(circuit.name, 'circuit.name'),
      r1csBlake2b512: hex(circuit.r1csBlake2b512, 'circuit.r1csBlake2b512'),
      constraints: count(circuit.constraints, 'circuit.constraints'),
      publicSignals: count(circuit.publicSignals, 'circuit.publicSignals'),
      wires: count(circuit.wires, 'circuit.wires'),
      circuitHash: hex(circuit.circuitHash, 'circuit.circuitHash'),
    },
    ptau: {
      fileName: text(ptau.fileName, 'ptau.fileName'),
      power: count(ptau.power, 'ptau.power'),
      blake2b512: hex(ptau.blake2b512, 'ptau.blake2b512'),
      trust,
      trustReason: text(ptau.trustReason, 'ptau.trustReason'),
    },
    contributions,
    zkey: { fileName: text(zkey.fileName, 'zkey.fileName'), blake2b512: hex(zkey.blake2b512, 'zkey.blake2b512') },
    verificationKey: {
      fileName: text(vkey.fileName, 'verificationKey.fileName'),
      canonicalJsonSha256: text(vkey.canonicalJsonSha256, 'verificationKey.canonicalJsonSha256'),
    },
    phase2: root.phase2 as Phase2Trust,
    verifiedWith: typeof root.verifiedWith === 'string' ? root.verifiedWith : '',
    createdAt: typeof root.createdAt === 'string' ? root.createdAt : '',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Proving with a ceremony's key

interface CeremonyKeysMeta {
  circuitId: string;
  ptau: KeysPtau;
  requiredPower: number;
  phase2: Phase2Trust;
  ceremony: { zkeyPath: string; zkeyBlake2b512: string; circuitHash: string; contributions: ZkeyContribution[] };
  verifiedAt: string;
}

/** The error for a zkey that is not the compiled circuit's, with the command that starts a ceremony for it. */
function zkeyMismatchError(zkeyPath: string, circuit: CompiledCircuit, detail: string): ZkaiError {
  return new ZkaiError(
    'ZKEY_MISMATCH',
    `${zkeyPath}: this proving key is not for the circuit this command proves with (${circuit.name}, ${circuit.info.constraints} constraints, ${circuit.r1csPath}): ${detail}`,
    {
      hint: `each circuit needs its own ceremony (chunked and accuracy proofs use their chunk circuit; private chunked proofs also their aggregation node and root circuits, --node-zkey and --root-zkey): zkai ceremony init ${circuit.r1csPath} --ptau PTAU --out 0000.zkey, then contribute, beacon and finalize`,
    },
  );
}

/**
 * The keys of a compiled circuit from a ceremony's zkey (`--zkey`), instead of zkai's automatic single-party setup.
 * The zkey is checked against the circuit's r1cs and the ptau (snarkjs `zKey.verifyFromR1cs`: it belongs to this
 * circuit and its whole chain checks); a passed check is remembered in the cache for this (circuit, zkey, ptau).
 * The verification key is the ceremony's own file next to the zkey (NAME.vkey.json, as finalize writes it) when it
 * is this zkey's, otherwise a copy exported into the cache. The key is labelled by its chain (`ceremonyPhase2Trust`).
 *
 * @param options.ptauPath the ptau the ceremony started from (required: the chain is checked against it)
 * @param options.force check again even when a passed check is remembered
 * @throws ZkaiError `ZKEY_MISMATCH` when the zkey is of another circuit; SetupError when its chain does not verify
 */
export async function keysFromZkey(
  circuit: CompiledCircuit,
  zkeyPath: string,
  options: CeremonyOptions & { ptauPath?: string; force?: boolean } = {},
): Promise<CircuitKeys> {
  if (!options.ptauPath) {
    throw new ZkaiError('BAD_OPTION', `--zkey ${zkeyPath} needs --ptau: the ptau the ceremony started from`, {
      hint: "zkai checks the proving key against this circuit's r1cs and that ptau (snarkjs zkey verify) before proving with it; the check is remembered in the cache",
    });
  }
  if (!existsSync(zkeyPath))
    throw new InputFileError(zkeyPath, 'no such proving key', {
      hint: 'give the final zkey of the ceremony (zkai ceremony beacon wrote it)',
    });
  const cache = cacheLayout(options.cacheDir);
  const requiredPower = requiredPtauPower(circuit.info);
  // A key of another circuit first (its header says so at once): that is the mistake to name, whatever the ptau.
  const info = await readZkeyInfo(zkeyPath);
  const mismatch = sizeMismatch(info, circuit);
  if (mismatch) throw zkeyMismatchError(zkeyPath, circuit, mismatch);
  const ptau = await ceremonyPtau(circuit, options.ptauPath, options);
  const zkeyBlake2b512 = await blake2b512File(zkeyPath);
  const dir = cache.ceremonyKeyDir(
    circuit.name,
    sha256Parts(['zkai-ceremony-keys-v1', circuit.id, zkeyBlake2b512, ptau.blake2b512]).slice(0, 24),
  );
  const { metaPath, vkeyPath: exportedPath } = keyFiles(dir);
  const cached = !options.force && existsSync(metaPath) && existsSync(exportedPath);
  let verifySeconds = 0;
  if (!cached) {
    const started = Date.now();
    options.onProgress?.({
      stage: 'ceremony:verify',
      message: `checking ${basename(zkeyPath)} against ${circuit.name}'s r1cs and ${basename(ptau.path)} (snarkjs zkey verify)`,
    });
    const chain = await verifyChain(circuit.r1csPath, ptau.path, zkeyPath, options);
    if (!chain.ok) {
      if (chain.errors.some((error) => /Circuit does not match|Different circuit parameters/.test(error)))
        throw zkeyMismatchError(zkeyPath, circuit, `snarkjs: ${chain.errors.join('; ')}`);
      throw new SetupError(
        `${zkeyPath}: the proving key does not verify against ${circuit.r1csPath} and ${ptau.path}: ${chain.errors.join('; ') || 'snarkjs zkey verify failed'}`,
        {
          hint: "give the ceremony's final zkey and the ptau it started from; zkai ceremony verify finds where a chain breaks",
        },
      );
    }
    verifySeconds = (Date.now() - started) / 1000;
    const vkey = await snarkjs.zKey.exportVerificationKey(zkeyPath);
    const meta: CeremonyKeysMeta = {
      circuitId: circuit.id,
      ptau,
      requiredPower,
      phase2: ceremonyPhase2Trust(info.contributions, ptau.trust),
      ceremony: {
        zkeyPath: resolve(zkeyPath),
        zkeyBlake2b512,
        circuitHash: info.circuitHash,
        contributions: info.contributions,
      },
      verifiedAt: new Date().toISOString(),
    };
    await mkdir(cache.keysDir, { recursive: true });
    const buildDir = await mkdtemp(cache.ceremonyKeyBuildPrefix(circuit.name));
    try {
      const built = keyFiles(buildDir);
      await writeFileAtomic(built.vkeyPath, JSON.stringify(vkey, null, 2));
      await writeFileAtomic(built.metaPath, JSON.stringify(meta, null, 2));
      if (options.force) await rm(dir, { recursive: true, force: true });
      await publishDirectory(buildDir, dir);
    } finally {
      await rm(buildDir, { recursive: true, force: true });
    }
  }
  const exported = JSON.parse(await readFile(exportedPath, 'utf8')) as Record<string, unknown>;
  // The ceremony's own verification key, when it sits next to the zkey and is this zkey's: hints then name it.
  let vkeyPath = exportedPath;
  let vkeyFromCeremony = false;
  const beside = ceremonyFilesOf(zkeyPath).vkeyPath;
  if (existsSync(beside)) {
    const theirs = await readFile(beside, 'utf8').then(
      (text) => JSON.parse(text) as unknown,
      () => undefined,
    );
    if (theirs !== undefined && canonicalJson(theirs) === canonicalJson(exported)) {
      vkeyPath = beside; // as the zkey was given, so hints read like the command that was run
      vkeyFromCeremony = true;
    } else {
      options.onProgress?.({
        stage: 'ceremony:verify',
        message: `${beside} is not ${basename(zkeyPath)}'s verification key: using the one exported from the zkey (${exportedPath})`,
      });
    }
  }
  const phase2 = ceremonyPhase2Trust(info.contributions, ptau.trust);
  return {
    dir,
    zkeyPath: resolve(zkeyPath),
    vkeyPath,
    vkey: exported,
    ptau,
    requiredPower,
    cached,
    timings: { ptauSeconds: 0, setupSeconds: 0, contributeSeconds: 0, verifySeconds },
    verified: !cached,
    phase2,
    ceremony: {
      zkeyPath: resolve(zkeyPath),
      zkeyBlake2b512,
      circuitHash: info.circuitHash,
      contributions: info.contributions,
      vkeyFromCeremony,
    },
  };
}
