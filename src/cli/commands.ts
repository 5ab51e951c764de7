import { writeFile } from 'node:fs/promises';
import { compileCircuit, type CompiledCircuit } from '../circuit/compile.ts';
import { setupCircuit, type CircuitKeys } from '../setup/phase2.ts';
import { DEV_PTAU_WARNING } from '../setup/dev-ptau.ts';
import { ProverPool } from '../prover/pool.ts';
import { verifyProof } from '../verifier/verify.ts';
import { deployVerifier, verifyOnChain, withChain } from '../chain/index.ts';
import { runDemo } from '../demo/run-demo.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { ZkaiError } from '../errors.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import { emit, progressPrinter, seconds, type GlobalFlags } from './output.ts';
import { parseExpectations, readJsonFile } from './io.ts';

/** Flags shared by the commands that compile a circuit. */
export interface CompileFlags extends GlobalFlags {
  optimization?: string;
  include?: string[];
}

/** Flags shared by the commands that set a circuit up. */
export interface SetupFlags extends CompileFlags {
  ptau?: string;
  beacon?: string;
  beaconIterations?: string;
  verify?: boolean;
  force?: boolean;
}

function optimizationLevel(value: string | undefined): 0 | 1 | 2 {
  if (value === undefined) return 2;
  if (value === '0' || value === '1' || value === '2') return Number(value) as 0 | 1 | 2;
  throw new ZkaiError('BAD_OPTION', `--O must be 0, 1 or 2, got "${value}"`);
}

async function compileFor(circuitPath: string, flags: CompileFlags): Promise<CompiledCircuit> {
  const progress = progressPrinter(flags);
  return compileCircuit(circuitPath, {
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    optimization: optimizationLevel(flags.optimization),
    ...(flags.include ? { includePaths: flags.include } : {}),
    ...(progress ? { log: (message: string) => progress({ stage: 'compile', message }) } : {}),
  });
}

async function setupFor(circuit: CompiledCircuit, flags: SetupFlags): Promise<CircuitKeys> {
  const progress = progressPrinter(flags);
  let beacon: { hashHex: string; iterationsExp: number } | undefined;
  if (flags.beacon) beacon = { hashHex: flags.beacon, iterationsExp: Number(flags.beaconIterations ?? 10) };
  return setupCircuit(circuit, {
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...(flags.ptau ? { ptauPath: flags.ptau } : {}),
    ...(beacon ? { beacon } : {}),
    ...(flags.verify ? { verify: true } : {}),
    ...(flags.force ? { force: true } : {}),
    ...(progress ? { onProgress: progress } : {}),
  });
}

/** `zkai compile`. */
export async function compileCommand(circuitPath: string, flags: CompileFlags): Promise<void> {
  const circuit = await compileFor(circuitPath, flags);
  emit(flags, { id: circuit.id, name: circuit.name, dir: circuit.dir, r1cs: circuit.r1csPath, wasm: circuit.wasmPath, cached: circuit.cached, compiler: circuit.compilerVersion, ...circuit.info }, () =>
    [
      `${circuit.name}  (circom ${circuit.compilerVersion}${circuit.cached ? ', from cache' : ''})`,
      `  constraints     ${circuit.info.constraints}`,
      `  public inputs   ${circuit.info.publicInputs}`,
      `  private inputs  ${circuit.info.privateInputs}`,
      `  outputs         ${circuit.info.outputs}`,
      `  wires           ${circuit.info.wires}`,
      `  artifacts       ${circuit.dir}`,
    ].join('\n'),
  );
}

/** `zkai setup`. */
export async function setupCommand(circuitPath: string, flags: SetupFlags): Promise<void> {
  const circuit = await compileFor(circuitPath, flags);
  const keys = await setupFor(circuit, flags);
  emit(flags, { circuitId: circuit.id, zkey: keys.zkeyPath, vkey: keys.vkeyPath, requiredPower: keys.requiredPower, ptau: keys.ptau, cached: keys.cached, verified: keys.verified, timings: keys.timings }, () =>
    [
      `${circuit.name}: Groth16 keys${keys.cached ? ' (from cache)' : ''}`,
      `  proving key        ${keys.zkeyPath}`,
      `  verification key   ${keys.vkeyPath}`,
      `  ptau               ${keys.ptau.path} (power ${keys.ptau.power}; circuit needs ${keys.requiredPower})${keys.ptau.hermezVerified ? ' - Hermez hash verified' : ''}`,
      ...(keys.verified ? ['  zkey verified against r1cs + ptau'] : []),
      ...(keys.ptau.developmentOnly ? [`  WARNING: ${DEV_PTAU_WARNING}`] : []),
    ].join('\n'),
  );
}

/** `zkai prove`. */
export async function proveCommand(circuitPath: string, flags: SetupFlags & { input: string; proof: string; public: string; workers?: string; timeout?: string }): Promise<void> {
  const input = await readJsonFile(flags.input, 'circuit input');
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ZkaiError('BAD_INPUT', `${flags.input}: the circuit input must be a JSON object of signal name -> value(s)`);
  }
  const circuit = await compileFor(circuitPath, flags);
  const keys = await setupFor(circuit, flags);
  const pool = new ProverPool({ workers: Number(flags.workers ?? 1), timeoutMs: Number(flags.timeout ?? 0) });
  try {
    const result = await pool.prove({ wasmPath: circuit.wasmPath, zkeyPath: keys.zkeyPath }, input as Record<string, unknown>);
    await writeFileAtomic(flags.proof, `${JSON.stringify(result.proof, null, 1)}\n`);
    await writeFileAtomic(flags.public, `${JSON.stringify(result.publicSignals, null, 1)}\n`);
    emit(flags, { proof: flags.proof, public: flags.public, publicSignals: result.publicSignals, witnessMs: result.witnessMs, proveMs: result.proveMs, vkey: keys.vkeyPath }, () =>
      [
        `proof written to ${flags.proof}, public signals to ${flags.public}`,
        `  witness ${seconds(result.witnessMs / 1000)}, proof ${seconds(result.proveMs / 1000)} (first proof in a fresh worker includes loading)`,
        `  verify with: zkai verify --vkey ${keys.vkeyPath} --proof ${flags.proof} --public ${flags.public}`,
      ].join('\n'),
    );
  } finally {
    await pool.close();
  }
}

/** `zkai verify`. Sets the exit code to 1 for an invalid proof. */
export async function verifyCommand(flags: GlobalFlags & { vkey: string; proof: string; public: string; expect?: string[] }): Promise<void> {
  const [vkey, proof, publicSignals] = await Promise.all([
    readJsonFile(flags.vkey, 'verification key'),
    readJsonFile(flags.proof, 'proof'),
    readJsonFile(flags.public, 'public signals'),
  ]);
  const expect = parseExpectations(flags.expect ?? []);
  const result = await verifyProof(vkey, proof, publicSignals, Object.keys(expect).length > 0 ? { expect } : {});
  emit(flags, result, () => (result.valid ? 'OK: the proof is valid' : `INVALID (${result.reason}): ${result.detail}`));
  if (!result.valid) process.exitCode = 1;
}

/** `zkai deploy`. */
export async function deployCommand(
  flags: SetupFlags & { circuit?: string; zkey?: string; rpc?: string; proof?: string; public?: string; out?: string },
): Promise<void> {
  let zkeyPath = flags.zkey;
  if (!zkeyPath) {
    if (!flags.circuit) throw new ZkaiError('BAD_OPTION', 'give --circuit FILE.circom or --zkey FILE.zkey');
    zkeyPath = (await setupFor(await compileFor(flags.circuit, flags), flags)).zkeyPath;
  }
  if (Boolean(flags.proof) !== Boolean(flags.public)) throw new ZkaiError('BAD_OPTION', '--proof and --public go together');
  const proofPair = flags.proof && flags.public
    ? { proof: (await readJsonFile(flags.proof, 'proof')) as Groth16Proof, publicSignals: (await readJsonFile(flags.public, 'public signals')) as string[] }
    : undefined;
  const result = await withChain(flags.rpc, async (chain) => {
    const deployed = await deployVerifier(chain.signer, zkeyPath);
    const check = proofPair ? await verifyOnChain(deployed.contract, proofPair.proof, proofPair.publicSignals) : undefined;
    return {
      rpc: chain.anvil ? 'embedded anvil (stopped after this command)' : chain.rpcUrl,
      chainId: chain.chainId,
      address: deployed.address,
      deployGas: deployed.deployGas.toString(),
      ...(check ? { proofValid: check.valid, verifyGas: check.gasUsed?.toString() } : {}),
    };
  });
  if (flags.out) await writeFile(flags.out, `${JSON.stringify(result, null, 2)}\n`);
  emit(flags, result, () =>
    [
      `verifier deployed at ${result.address} on ${result.rpc} (chain ${result.chainId}), ${result.deployGas} gas`,
      ...('proofValid' in result ? [`  proof on chain: ${result.proofValid ? 'valid' : 'INVALID'}, ${result.verifyGas} gas`] : []),
    ].join('\n'),
  );
  if ('proofValid' in result && !result.proofValid) process.exitCode = 1;
}

/** `zkai demo`. */
export async function demoCommand(flags: GlobalFlags & { proofs?: string; workers?: string; rpc?: string; ptau?: string }): Promise<void> {
  const progress = progressPrinter(flags);
  const proofs = Number(flags.proofs ?? 8);
  if (!Number.isInteger(proofs) || proofs < 1 || proofs > 1000) throw new ZkaiError('BAD_OPTION', `--proofs must be an integer from 1 to 1000, got "${flags.proofs}"`);
  const summary = await runDemo({
    proofs,
    ...(flags.workers ? { workers: Number(flags.workers) } : {}),
    ...(flags.rpc ? { rpcUrl: flags.rpc } : {}),
    ...(flags.ptau ? { ptauPath: flags.ptau } : {}),
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...(progress ? { onProgress: progress } : {}),
  });
  emit(flags, summary, () => {
    const s = summary;
    return [
      '',
      'zkai demo: 16 private ages, each proven to lie in [18, 99], bound to a public salted Poseidon commitment',
      `  circuit      ${s.circuit.constraints} constraints, ${s.circuit.publicSignals} public signals${s.circuit.compiledFromCache ? ' (compiled earlier, from cache)' : ` (compiled in ${seconds(s.circuit.compileSeconds)})`}`,
      `  setup        ${s.setup.fromCache ? 'keys from cache' : `${seconds(s.setup.seconds)}`}; ptau power ${s.setup.ptauPower}${s.setup.developmentPtau ? ' (DEVELOPMENT-ONLY ptau)' : ''}${s.setup.ptauSeconds > 0 ? `, generated in ${seconds(s.setup.ptauSeconds)}` : ''}`,
      `  proving      ${s.proving.proofs} proofs in ${seconds(s.proving.seconds)} = ${s.proving.proofsPerSecond.toFixed(2)} proofs/s (${s.proving.workers} worker${s.proving.workers === 1 ? "" : "s"} x ${s.proving.curveThreads} curve threads; median witness ${s.proving.medianWitnessMs.toFixed(0)} ms, prove ${s.proving.medianProveMs.toFixed(0)} ms)`,
      `  off-chain    ${s.offChain.verified}/${s.proving.proofs} valid with their commitments checked; tampered public signal rejected: ${s.offChain.tamperedRejected ? 'yes' : 'NO'}; median verify ${s.offChain.medianVerifyMs.toFixed(0)} ms`,
      `  on-chain     ${s.onChain.rpc}: verifier at ${s.onChain.verifierAddress}; proof ${s.onChain.valid ? 'valid' : 'INVALID'} (${s.onChain.verifyGas} gas); tampered rejected: ${s.onChain.tamperedRejected ? 'yes' : 'NO'}`,
      '',
      `dataset: ${s.dataset.records} private patient records (examples/patients) proven to satisfy policy "${s.dataset.policy.name}" (${s.dataset.policy.rules} rules, ${s.dataset.policy.aggregates} aggregates)`,
      `  commitment   root ${s.dataset.root} (the records and their salts stay private)`,
      `  pre-flight   ${s.dataset.preflightOk ? 'pass' : 'FAIL'}; on a copy with one patient aged 17 it reports: ${s.dataset.violation ? `row ${s.dataset.violation.row}: ${s.dataset.violation.field} breaks ${s.dataset.violation.rule}` : 'NOTHING (unexpected)'}`,
      `  proving      ${s.dataset.proving.chunks} chunk proofs of ${2 ** s.dataset.proving.chunkDepth} records (${s.dataset.proving.constraintsPerChunk} constraints each) in ${seconds(s.dataset.proving.seconds)}`,
      `  verification ${s.dataset.verification.valid ? 'valid' : 'INVALID'} against the public commitment and policy hash ${s.dataset.policy.hash.slice(0, 16)}...; against another root: ${s.dataset.verification.otherRootRejected ? 'rejected' : 'NOT rejected'}`,
      '  more: README "Datasets" (zkai data commit | check | prove | verify | registry | include)',
    ].join('\n');
  });
  const d = summary.dataset;
  if (!summary.offChain.allValid || !summary.onChain.valid || !summary.offChain.tamperedRejected || !summary.onChain.tamperedRejected) process.exitCode = 1;
  if (!d.preflightOk || !d.violation || !d.verification.valid || !d.verification.otherRootRejected) process.exitCode = 1;
}
