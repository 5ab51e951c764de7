/**
 * `zkai ceremony init | contribute | beacon | verify | finalize`: a multi-party Groth16 phase-2 ceremony run across
 * machines, with only files passed between them (see `src/setup/ceremony.ts`).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { resolveCacheDir } from '../cache/cache-dir.ts';
import { verificationKeyId, type Groth16VerificationKey } from '../chain/groth16-template.ts';
import { compileCircuit } from '../circuit/compile.ts';
import { readR1csInfo } from '../circuit/r1cs-info.ts';
import { DATA_TEMPLATES_DIR } from '../data/circuit-gen.ts';
import { ZkaiError } from '../errors.ts';
import {
  ceremonyBeacon,
  ceremonyContribute,
  ceremonyFilesOf,
  ceremonyInit,
  finalizeCeremony,
  readCeremonyTranscript,
  verifyCeremony,
  type CeremonyCircuit,
  type CeremonyStepResult,
} from '../setup/ceremony.ts';
import { DEV_PTAU_WARNING } from '../setup/dev-ptau.ts';
import type { Phase2Trust } from '../setup/key-trust.ts';
import type { KeysPtau } from '../setup/phase2.ts';
import type { ZkeyContribution } from '../setup/zkey-file.ts';
import {
  isOwnContribution,
  recordOwnContribution,
  recordVerifiedCeremonyKey,
  trustStorePath,
  TrustStoreError,
} from '../setup/trust-store.ts';
import { readJsonFile } from './io.ts';
import { commandHint, hintLines, type CommandHint } from './data-commands.ts';
import { emit, progressPrinter, type GlobalFlags } from './output.ts';
import type {
  CeremonyBeaconFlags,
  CeremonyContributeFlags,
  CeremonyFinalizeFlags,
  CeremonyInitFlags,
  CeremonyVerifyFlags,
} from './groups/ceremony.ts';

/** Flags of the ceremony commands that read a circuit (a .circom file is compiled, an .r1cs file taken as it is). */
type CeremonyCircuitFlags = Pick<
  CeremonyInitFlags & CeremonyVerifyFlags & CeremonyFinalizeFlags,
  keyof GlobalFlags | 'optimization' | 'include'
>;

/**
 * The circuit of a ceremony: an `.r1cs` file as it is (for example a generated circuit's r1cs from zkai's cache, which a
 * prove command names when a zkey does not fit), or a `.circom` file compiled like zkai compiles it (cached; zkai's
 * circuit templates are on the include path, as for generated circuits).
 */
async function ceremonyCircuitOf(path: string, flags: CeremonyCircuitFlags): Promise<CeremonyCircuit> {
  if (path.toLowerCase().endsWith('.r1cs')) {
    return { name: basename(path).slice(0, -'.r1cs'.length), r1csPath: resolve(path), info: await readR1csInfo(path) };
  }
  const level = flags.optimization ?? '2';
  if (level !== '0' && level !== '1' && level !== '2')
    throw new ZkaiError('BAD_OPTION', `--O must be 0, 1 or 2, got "${level}"`);
  const progress = progressPrinter(flags);
  const circuit = await compileCircuit(path, {
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    optimization: Number(level) as 0 | 1 | 2,
    includePaths: [...(flags.include ?? []), DATA_TEMPLATES_DIR],
    ...(progress ? { log: (message: string) => progress({ stage: 'compile', message }) } : {}),
  });
  return { name: circuit.name, r1csPath: circuit.r1csPath, info: circuit.info };
}

/** The file name a next step could write: `0001.zkey` after `0000.zkey`, `alice_0001.zkey` after `alice.zkey`. */
export function nextZkeyName(path: string): string {
  const folder = dirname(path);
  const name = basename(path);
  const numbered = /^(.*?)(\d+)\.zkey$/i.exec(name);
  const next = numbered
    ? `${numbered[1]}${String(Number(numbered[2]) + 1).padStart((numbered[2] as string).length, '0')}.zkey`
    : `${name.replace(/\.zkey$/i, '')}_0001.zkey`;
  return folder === '.' ? next : join(folder, next);
}

function ptauJson(ptau: KeysPtau) {
  return {
    path: ptau.path,
    power: ptau.power,
    trust: ptau.trust,
    blake2b512: ptau.blake2b512,
    trustReason: ptau.trustReason,
  };
}

function ptauLine(ptau: KeysPtau): string {
  return `  ptau           ${ptau.path} (power ${ptau.power}): ${ptau.trust === 'production' ? 'PRODUCTION' : 'DEVELOPMENT-ONLY'}: ${ptau.trustReason}`;
}

function stepLine(step: ZkeyContribution): string {
  const what =
    step.type === 'beacon'
      ? `beacon${step.name ? ` "${step.name}"` : ''}`
      : `contribution${step.name ? ` "${step.name}"` : ''}`;
  return `    #${step.index} ${what}: ${step.hash}${step.beacon ? ` (beacon value ${step.beacon.hash}, 2^${step.beacon.iterationsExp} iterations)` : ''}`;
}

function trustLines(phase2: Phase2Trust, ptau: KeysPtau): string[] {
  const head =
    phase2.trust === 'production'
      ? `  key trust      PRODUCTION: ${phase2.contributions} secret contributions, a final beacon, a pinned ptau (trust it for a contribution of your own, or one from a party you trust)`
      : `  key trust      DEVELOPMENT-ONLY: ${phase2.problems.join('; ')}`;
  return [head, ...(ptau.developmentOnly ? [`  WARNING: ${DEV_PTAU_WARNING}`] : [])];
}

/** `zkai ceremony init CIRCUIT --ptau P --out 0000.zkey`. */
export async function ceremonyInitCommand(circuitPath: string, flags: CeremonyInitFlags): Promise<void> {
  const progress = progressPrinter(flags);
  const circuit = await ceremonyCircuitOf(circuitPath, flags);
  const result = await ceremonyInit(circuit, flags.ptau, flags.out, {
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...(progress ? { onProgress: progress } : {}),
    ...(flags.force ? { force: true } : {}),
  });
  const next = commandHint(['zkai', 'ceremony', 'contribute', flags.out, nextZkeyName(flags.out), '--name', 'NAME'], {
    NAME: "the first participant's name (recorded in the zkey and the transcript)",
  });
  emit(
    flags,
    {
      zkey: flags.out,
      circuit: {
        name: circuit.name,
        r1cs: circuit.r1csPath,
        r1csBlake2b512: result.r1csBlake2b512,
        constraints: circuit.info.constraints,
      },
      circuitHash: result.circuitHash,
      requiredPower: result.requiredPower,
      ptau: ptauJson(result.ptau),
      contributions: 0,
      next,
    },
    () =>
      [
        `initial zkey written to ${flags.out} for circuit ${circuit.name} (${circuit.info.constraints} constraints)`,
        `  r1cs           ${circuit.r1csPath} (blake2b-512 ${result.r1csBlake2b512.slice(0, 32)}...)`,
        `  circuit hash   ${result.circuitHash} (snarkjs's; every zkey of this ceremony carries it)`,
        ptauLine(result.ptau),
        '  it holds no contribution yet, so anyone could forge proofs with it: send it to the first participant, who runs',
        ...hintLines('next', next),
        ...(result.ptau.developmentOnly ? [`  WARNING: ${DEV_PTAU_WARNING}`] : []),
      ].join('\n'),
  );
}

function stepOutput(
  flags: GlobalFlags,
  result: CeremonyStepResult,
  what: string,
  recorded?: { path: string; problem?: string },
): void {
  const next = commandHint(
    ['zkai', 'ceremony', 'contribute', result.zkeyPath, nextZkeyName(result.zkeyPath), '--name', 'NAME'],
    { NAME: "the next participant's name" },
  );
  const close = commandHint(
    ['zkai', 'ceremony', 'beacon', result.zkeyPath, 'final.zkey', '--hash', 'BEACON_HEX', '--iterations', '10'],
    {
      BEACON_HEX: 'a public random value nobody knew before this step, e.g. the hash of a block mined after it (hex)',
    },
  );
  const beacon = result.contribution.type === 'beacon';
  const finalize: CommandHint = commandHint(
    ['zkai', 'ceremony', 'finalize', result.zkeyPath, '--circuit', 'CIRCUIT', '--ptau', 'PTAU'],
    {
      CIRCUIT: 'the circuit (.circom or .r1cs) the ceremony was started with',
      PTAU: 'the ptau it was started with',
    },
  );
  emit(
    flags,
    {
      zkey: result.zkeyPath,
      contribution: result.contribution,
      chain: result.chain,
      circuitHash: result.circuitHash,
      ...(recorded
        ? {
            trustStore: {
              path: recorded.path,
              recorded: recorded.problem === undefined,
              ...(recorded.problem ? { reason: recorded.problem } : {}),
            },
          }
        : {}),
      ...(beacon ? { finalize } : { next, close }),
    },
    () =>
      [
        `${what} #${result.contribution.index}${result.contribution.name ? ` "${result.contribution.name}"` : ''} added: ${result.zkeyPath}`,
        `  ${beacon ? 'beacon hash    ' : 'contribution hash'} ${result.contribution.hash}`,
        ...(beacon
          ? []
          : [
              '  keep this hash: it is how you recognise your contribution in the final zkey and transcript (zkai ceremony verify --contribution HASH); your entropy was not written anywhere',
              ...(recorded && !recorded.problem
                ? [
                    `  recorded as your own contribution in ${recorded.path}: zkai ceremony verify on this machine names it in the chain`,
                  ]
                : []),
              ...(recorded?.problem ? [`  WARNING: not recorded as your own contribution: ${recorded.problem}`] : []),
            ]),
        '  chain so far:',
        ...result.chain.map(stepLine),
        ...(beacon
          ? [
              '  the chain is closed; check it and write the verification key and the transcript with',
              ...hintLines('finalize', finalize),
            ]
          : [
              '  hand the new zkey to the next participant, or close the ceremony with a public random beacon:',
              ...hintLines('next', next),
              ...hintLines('close', close),
            ]),
      ].join('\n'),
  );
}

/** `zkai ceremony contribute IN.zkey OUT.zkey --name NAME [--entropy TEXT]`. */
export async function ceremonyContributeCommand(
  input: string,
  output: string,
  flags: CeremonyContributeFlags,
): Promise<void> {
  const progress = progressPrinter(flags);
  const result = await ceremonyContribute(input, output, {
    name: flags.name,
    ...(flags.entropy !== undefined ? { entropy: flags.entropy } : {}),
    ...(flags.force ? { force: true } : {}),
    ...(progress ? { onProgress: progress } : {}),
  });
  // This machine made this contribution: remembered, so that verifying the ceremony later (and registering its circuit)
  // can say the chain holds a contribution of ours.
  // The zkey is written either way: a trust store that cannot be written is reported with the hash (exit code 1).
  let problem: string | undefined;
  try {
    await recordOwnContribution(flags.cacheDir, {
      contributionHash: result.contribution.hash,
      circuit: result.circuitHash,
      name: result.contribution.name ?? flags.name,
    });
  } catch (error) {
    if (!(error instanceof TrustStoreError)) throw error;
    problem = `${error.message} (${error.hint ?? ''})`;
    process.exitCode = 1;
  }
  stepOutput(flags, result, 'contribution', { path: trustStorePath(flags.cacheDir), ...(problem ? { problem } : {}) });
}

/** `zkai ceremony beacon IN.zkey OUT.zkey --hash HEX --iterations N`. */
export async function ceremonyBeaconCommand(input: string, output: string, flags: CeremonyBeaconFlags): Promise<void> {
  const iterationsExp = Number(flags.iterations);
  if (!/^[0-9]+$/.test(flags.iterations))
    throw new ZkaiError(
      'BAD_OPTION',
      `--iterations must be an integer from 10 to 63 (a power of two), got "${flags.iterations}"`,
    );
  const progress = progressPrinter(flags);
  const result = await ceremonyBeacon(input, output, {
    hashHex: flags.hash,
    iterationsExp,
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.force ? { force: true } : {}),
    ...(progress ? { onProgress: progress } : {}),
  });
  stepOutput(flags, result, 'beacon');
}

/** What a ceremony command recorded in this machine's trust store about the ceremony's verification key. */
interface TrustRecord {
  recorded: boolean;
  /** The trust store file. */
  path: string;
  /** The key's id (`verificationKeyId`), when recorded. */
  keyId?: string;
  /** Contributions of the chain this machine made (`zkai ceremony contribute` here). */
  ownContributions: string[];
  /** Contributions the verifier required (`--contribution`). */
  contributionsChecked: string[];
  /** Why it was not recorded. */
  reason?: string;
}

/**
 * Record a verified ceremony's verification key as trusted by this machine (off-chain verify commands then accept it),
 * with the contributions of the chain this machine made itself. A chain without a secret contribution is never
 * recorded: its toxic waste is public.
 */
async function recordCeremonyKey(
  flags: GlobalFlags,
  ceremony: {
    vkey: Record<string, unknown>;
    circuit: string;
    r1csBlake2b512: string;
    contributions: readonly ZkeyContribution[];
    secretContributions: number;
    zkeyBlake2b512: string;
    transcriptPath?: string;
    contributionsChecked: readonly string[];
    via: 'verify' | 'finalize';
  },
): Promise<TrustRecord> {
  const cacheDir = resolveCacheDir(flags.cacheDir);
  const path = trustStorePath(cacheDir);
  const contributionsChecked = [...ceremony.contributionsChecked];
  if (ceremony.secretContributions === 0) {
    return {
      recorded: false,
      path,
      ownContributions: [],
      contributionsChecked,
      reason: 'the chain holds no secret contribution: its toxic waste is public, so its key is not trusted',
    };
  }
  const ownContributions: string[] = [];
  const keyId = verificationKeyId(ceremony.vkey as unknown as Groth16VerificationKey);
  try {
    for (const step of ceremony.contributions) {
      if (step.type === 'contribution' && (await isOwnContribution(cacheDir, step.hash)))
        ownContributions.push(step.hash);
    }
    await recordVerifiedCeremonyKey(cacheDir, {
      vkeyId: keyId,
      circuit: ceremony.circuit,
      r1csBlake2b512: ceremony.r1csBlake2b512,
      zkeyBlake2b512: ceremony.zkeyBlake2b512,
      ...(ceremony.transcriptPath
        ? {
            transcriptSha256: createHash('sha256')
              .update(await readFile(ceremony.transcriptPath))
              .digest('hex'),
          }
        : {}),
      via: ceremony.via,
      contributionsChecked,
      ownContributions,
    });
  } catch (error) {
    // The verdict (and finalize's files) stand; the key is not trusted here, which the output says (exit code 1).
    if (!(error instanceof TrustStoreError)) throw error;
    process.exitCode = 1;
    return {
      recorded: false,
      path,
      keyId,
      ownContributions: [],
      contributionsChecked,
      reason: `${error.message} (${error.hint ?? ''})`,
    };
  }
  return { recorded: true, path, keyId, ownContributions, contributionsChecked };
}

/** The lines saying what was recorded in the trust store. */
function trustRecordLines(record: TrustRecord): string[] {
  if (!record.recorded) return [`  trust store    not recorded: ${record.reason}`];
  const checked = record.contributionsChecked.filter((hash) => !record.ownContributions.includes(hash));
  const held = [
    ...(record.ownContributions.length > 0
      ? [
          `${record.ownContributions.length} contribution${record.ownContributions.length > 1 ? 's' : ''} made on this machine`,
        ]
      : []),
    ...(checked.length > 0 ? [`the ${checked.length} contribution${checked.length > 1 ? 's' : ''} you required`] : []),
  ];
  return [
    `  trust store    recorded in ${record.path}: verify commands on this machine accept its verification key (id ${record.keyId}) as a ceremony you verified`,
    held.length > 0
      ? `                 its chain holds ${held.join(' and ')}`
      : "                 no contribution in its chain is yours (none made on this machine, none required with --contribution HASH): names in a chain are self-declared, so all of them may be one party's",
  ];
}

/** `zkai ceremony verify ZKEY --circuit C --ptau P [--transcript T] [--vkey V] [--contribution HASH...]`. Exit code 1 if invalid. */
export async function ceremonyVerifyCommand(zkeyPath: string, flags: CeremonyVerifyFlags): Promise<void> {
  const progress = progressPrinter(flags);
  const circuit = await ceremonyCircuitOf(flags.circuit, flags);
  const transcript = flags.transcript ? await readCeremonyTranscript(flags.transcript) : undefined;
  const vkey = flags.vkey ? await readJsonFile(flags.vkey, 'verification key') : undefined;
  const result = await verifyCeremony(zkeyPath, circuit, flags.ptau, {
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...(progress ? { onProgress: progress } : {}),
    ...(transcript ? { transcript } : {}),
    ...(vkey !== undefined ? { vkey } : {}),
    ...(flags.contribution ? { requireContributions: flags.contribution } : {}),
  });
  // A valid chain: its verification key becomes one this machine trusts (zkai verify and the other verify commands).
  const trust =
    result.valid && result.verificationKey
      ? await recordCeremonyKey(flags, {
          vkey: result.verificationKey,
          circuit: circuit.name,
          r1csBlake2b512: result.circuit.r1csBlake2b512,
          contributions: result.contributions,
          secretContributions: result.phase2.contributions,
          zkeyBlake2b512: result.zkey.blake2b512,
          ...(flags.transcript ? { transcriptPath: flags.transcript } : {}),
          contributionsChecked: result.checked.contributions,
          via: 'verify',
        })
      : undefined;
  const against = [
    ...(flags.transcript ? [`the transcript ${flags.transcript}`] : []),
    ...(flags.vkey ? [`the verification key ${flags.vkey}`] : []),
    ...(result.checked.contributions.length > 0
      ? [`your contribution${result.checked.contributions.length > 1 ? 's' : ''}`]
      : []),
  ];
  emit(
    flags,
    {
      valid: result.valid,
      problems: result.problems,
      zkey: result.zkey,
      circuit: result.circuit,
      circuitHash: result.circuitHash,
      ptau: ptauJson(result.ptau),
      contributions: result.contributions,
      phase2: result.phase2,
      singleParty: result.phase2.singleParty,
      checked: result.checked,
      ...(trust ? { trustStore: trust } : {}),
    },
    () =>
      result.valid
        ? [
            `OK: ${zkeyPath} is a valid phase-2 chain of ${result.contributions.length} step${result.contributions.length === 1 ? '' : 's'} for ${circuit.name} (${circuit.r1csPath}) on ${basename(result.ptau.path)}${against.length > 0 ? `, and matches ${against.join(' and ')}` : ''}`,
            `  circuit hash   ${result.circuitHash}`,
            ptauLine(result.ptau),
            '  chain:',
            ...result.contributions.map(stepLine),
            ...trustLines(result.phase2, result.ptau),
            ...(trust ? trustRecordLines(trust) : []),
          ].join('\n')
        : [`INVALID: ${zkeyPath}:`, ...result.problems.map((problem) => `  - ${problem}`)].join('\n'),
  );
  if (!result.valid) process.exitCode = 1;
}

/** `zkai ceremony finalize ZKEY --circuit C --ptau P [--vkey-out V] [--transcript-out T]`. */
export async function ceremonyFinalizeCommand(zkeyPath: string, flags: CeremonyFinalizeFlags): Promise<void> {
  const progress = progressPrinter(flags);
  const circuit = await ceremonyCircuitOf(flags.circuit, flags);
  const result = await finalizeCeremony(zkeyPath, circuit, flags.ptau, {
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...(progress ? { onProgress: progress } : {}),
    ...(flags.vkeyOut ? { vkeyOut: flags.vkeyOut } : {}),
    ...(flags.transcriptOut ? { transcriptOut: flags.transcriptOut } : {}),
  });
  // The coordinator checked the whole chain: its verification key becomes one this machine trusts.
  const trust = await recordCeremonyKey(flags, {
    vkey: JSON.parse(await readFile(result.vkeyPath, 'utf8')) as Record<string, unknown>,
    circuit: circuit.name,
    r1csBlake2b512: result.transcript.circuit.r1csBlake2b512,
    contributions: result.transcript.contributions,
    secretContributions: result.transcript.phase2.contributions,
    zkeyBlake2b512: result.verification.zkey.blake2b512,
    transcriptPath: result.transcriptPath,
    contributionsChecked: [],
    via: 'finalize',
  });
  const reverify = commandHint([
    'zkai',
    'ceremony',
    'verify',
    zkeyPath,
    '--circuit',
    flags.circuit,
    '--ptau',
    flags.ptau,
    '--transcript',
    result.transcriptPath,
    '--vkey',
    result.vkeyPath,
  ]);
  const besideZkey = resolve(ceremonyFilesOf(zkeyPath).vkeyPath) === resolve(result.vkeyPath);
  emit(
    flags,
    {
      zkey: zkeyPath,
      vkey: result.vkeyPath,
      transcript: result.transcriptPath,
      circuitHash: result.transcript.circuit.circuitHash,
      contributions: result.transcript.contributions,
      phase2: result.transcript.phase2,
      singleParty: result.transcript.phase2.singleParty,
      trustStore: trust,
      reverify,
    },
    () =>
      [
        `ceremony finalized: ${zkeyPath} verified against ${circuit.r1csPath} and ${basename(result.verification.ptau.path)} (${result.transcript.contributions.length} steps)`,
        `  verification key  ${result.vkeyPath}`,
        `  transcript        ${result.transcriptPath}`,
        '  chain:',
        ...result.transcript.contributions.map(stepLine),
        ...trustLines(result.transcript.phase2, result.verification.ptau),
        ...trustRecordLines(trust),
        `  publish the zkey (for provers: --zkey ${zkeyPath} --ptau ${flags.ptau}), the verification key and the transcript (for verifiers)${besideZkey ? '' : `; keep the verification key next to the zkey as ${ceremonyFilesOf(zkeyPath).vkeyPath} for prove commands to name it in their hints`}`,
        ...hintLines('anyone re-checks it with', reverify),
      ].join('\n'),
  );
}
