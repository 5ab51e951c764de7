import { mkdir, readdir, writeFile } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { basename, join } from 'node:path';
import { compileCircuit, type CompiledCircuit } from '../circuit/compile.ts';
import { setupCircuit, type CircuitKeys } from '../setup/phase2.ts';
import { keysFromZkey } from '../setup/ceremony.ts';
import { keyWarnings } from '../setup/key-trust.ts';
import { ProverPool, type BatchProgress } from '../prover/pool.ts';
import { verifyProof } from '../verifier/verify.ts';
import { deployVerifier, verifyOnChain, withChain } from '../chain/index.ts';
import { runDemo } from '../demo/run-demo.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { InputFileError, ZkaiError } from '../errors.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import { emit, progressPrinter, seconds, type GlobalFlags } from './output.ts';
import { progressBars } from './progress-bar.ts';
import { parseExpectations, readJsonFile } from './io.ts';
import { ceremonyKeyLines, commandHint, hintLines, keyJson, type CommandHint } from './data-commands.ts';
import { keySourceLine, verifierKeyNote, verifierKeySource } from './verify-key.ts';
import type {
  CompileCommandFlags,
  DemoCommandFlags,
  DeployCommandFlags,
  ProveCommandFlags,
  SetupCommandFlags,
  VerifyCommandFlags,
} from './groups/core.ts';

/** Flags shared by the commands that compile a circuit (`--O` reaches the action as `optimization` too). */
type CompileFlags = Pick<CompileCommandFlags, keyof GlobalFlags | 'optimization' | 'include'>;

/** Flags shared by the commands that set a circuit up; `zkey`: a ceremony's proving key (prove and deploy). */
type SetupFlags = CompileFlags &
  Pick<SetupCommandFlags, 'ptau' | 'beacon' | 'beaconIterations' | 'verify' | 'force'> &
  Partial<Pick<ProveCommandFlags, 'zkey'>>;

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
  if (flags.zkey) {
    // A ceremony's key replaces the automatic setup: checked against this circuit's r1cs and the ptau it started from.
    if (flags.beacon)
      throw new ZkaiError(
        'BAD_OPTION',
        "--beacon applies to zkai's automatic setup; a ceremony's --zkey has its beacon already (zkai ceremony beacon)",
      );
    return keysFromZkey(circuit, flags.zkey, {
      ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
      ...(flags.ptau ? { ptauPath: flags.ptau } : {}),
      ...(flags.force ? { force: true } : {}),
      ...(progress ? { onProgress: progress } : {}),
    });
  }
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
export async function compileCommand(circuitPath: string, flags: CompileCommandFlags): Promise<void> {
  const circuit = await compileFor(circuitPath, flags);
  emit(
    flags,
    {
      id: circuit.id,
      name: circuit.name,
      dir: circuit.dir,
      r1cs: circuit.r1csPath,
      wasm: circuit.wasmPath,
      cached: circuit.cached,
      compiler: circuit.compilerVersion,
      ...circuit.info,
    },
    () =>
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
export async function setupCommand(circuitPath: string, flags: SetupCommandFlags): Promise<void> {
  const circuit = await compileFor(circuitPath, flags);
  const keys = await setupFor(circuit, flags);
  emit(
    flags,
    {
      circuitId: circuit.id,
      zkey: keys.zkeyPath,
      vkey: keys.vkeyPath,
      requiredPower: keys.requiredPower,
      ptau: keys.ptau,
      singleParty: keys.phase2.singleParty,
      phase2: keys.phase2,
      cached: keys.cached,
      verified: keys.verified,
      timings: keys.timings,
    },
    () =>
      [
        `${circuit.name}: Groth16 keys${keys.cached ? ' (from cache)' : ''}`,
        `  proving key        ${keys.zkeyPath}`,
        `  verification key   ${keys.vkeyPath}`,
        `  ptau               ${keys.ptau.path} (power ${keys.ptau.power}; circuit needs ${keys.requiredPower})${keys.ptau.hermezVerified ? ' - Hermez hash verified' : ''}`,
        ...(keys.verified ? ['  zkey verified against r1cs + ptau'] : []),
        `  phase 2            single party: one contribution by this machine${keys.phase2.beacon ? ', then the beacon' : ''} (DEVELOPMENT-ONLY)`,
        ...keyWarnings(keys).map((warning) => `  WARNING: ${warning}`),
      ].join('\n'),
  );
}

/** `zkai prove`: one input as before (`-p`, `--public`), or a batch into `--out-dir` (several `-i`, or `--inputs DIR`). */
export async function proveCommand(circuitPath: string, flags: ProveCommandFlags): Promise<void> {
  const inputPaths = await batchInputPaths(flags);
  if (inputPaths.length === 1 && flags.inputs === undefined && flags.outDir === undefined) {
    return proveOne(circuitPath, inputPaths[0] as string, flags);
  }
  return proveBatch(circuitPath, inputPaths, flags);
}

function positiveIntegerOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new ZkaiError('BAD_OPTION', `${name} must be a positive integer, got "${value}"`);
  return number;
}

function timeoutOption(value: string | undefined): number {
  const number = Number(value ?? 0);
  if (!Number.isInteger(number) || number < 0)
    throw new ZkaiError('BAD_OPTION', `--timeout must be a whole number of milliseconds (0: none), got "${value}"`);
  return number;
}

/** The input files of `zkai prove`: every `-i`, then the *.json files of `--inputs DIR` (sorted; earlier outputs skipped). */
async function batchInputPaths(flags: ProveCommandFlags): Promise<string[]> {
  const paths = flags.input === undefined ? [] : Array.isArray(flags.input) ? [...flags.input] : [flags.input];
  if (flags.inputs !== undefined) {
    let entries: Dirent[];
    try {
      entries = await readdir(flags.inputs, { withFileTypes: true });
    } catch (error) {
      throw new InputFileError(
        flags.inputs,
        `cannot read the input folder: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
    const names = entries
      .filter(
        (entry) =>
          entry.isFile() &&
          entry.name.endsWith('.json') &&
          !entry.name.endsWith('.proof.json') &&
          !entry.name.endsWith('.public.json'),
      )
      .map((entry) => entry.name)
      .sort();
    if (names.length === 0)
      throw new InputFileError(
        flags.inputs,
        'no *.json input in this folder (*.proof.json and *.public.json are outputs, not inputs)',
      );
    paths.push(...names.map((name) => join(flags.inputs as string, name)));
  }
  if (paths.length === 0)
    throw new ZkaiError('BAD_OPTION', 'give the circuit input: -i FILE (repeatable) or --inputs DIR');
  return paths;
}

/** Read one circuit input file: a JSON object of signal name -> value(s). */
async function readCircuitInput(path: string): Promise<Record<string, unknown>> {
  const input = await readJsonFile(path, 'circuit input');
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ZkaiError('BAD_INPUT', `${path}: the circuit input must be a JSON object of signal name -> value(s)`);
  }
  return input as Record<string, unknown>;
}

/** `zkai verify` of one proof: every value is the proof's own, so no placeholder (what the signals must be is the verifier's to say). */
function plainVerifyHint(vkeyPath: string, proofPath: string, publicPath: string): CommandHint {
  return commandHint(['zkai', 'verify', '--vkey', vkeyPath, '--proof', proofPath, '--public', publicPath]);
}

/** The line under a plain verify hint: it checks the signals as written, which the verifier compares with its own values. */
function publicSignalsNote(publicPath: string): string {
  return `    (it checks the proof for the public signals in ${publicPath} as written: compare them with the values you expect, or add --expect INDEX=VALUE)`;
}

/** One input, as zkai has always proved it: `-p/--proof` and `--public` files. */
async function proveOne(circuitPath: string, inputPath: string, flags: ProveCommandFlags): Promise<void> {
  const proofPath = flags.proof ?? 'proof.json';
  const publicPath = flags.public ?? 'public.json';
  const input = await readCircuitInput(inputPath);
  const workers = positiveIntegerOption('--workers', flags.workers) ?? 1;
  const timeoutMs = timeoutOption(flags.timeout);
  const circuit = await compileFor(circuitPath, flags);
  const keys = await setupFor(circuit, flags);
  const pool = new ProverPool({ workers, timeoutMs });
  try {
    const result = await pool.prove({ wasmPath: circuit.wasmPath, zkeyPath: keys.zkeyPath }, input);
    await writeFileAtomic(proofPath, `${JSON.stringify(result.proof, null, 1)}\n`);
    await writeFileAtomic(publicPath, `${JSON.stringify(result.publicSignals, null, 1)}\n`);
    const verifyWith = plainVerifyHint(keys.vkeyPath, proofPath, publicPath);
    emit(
      flags,
      {
        proof: proofPath,
        public: publicPath,
        publicSignals: result.publicSignals,
        witnessMs: result.witnessMs,
        proveMs: result.proveMs,
        prover: result.prover,
        vkey: keys.vkeyPath,
        ...keyJson(keys),
        verifyWith,
      },
      () =>
        [
          `proof written to ${proofPath}, public signals to ${publicPath}`,
          `  witness ${seconds(result.witnessMs / 1000)}, proof ${seconds(result.proveMs / 1000)} by the ${result.prover} prover (first proof in a fresh worker includes loading)`,
          ...ceremonyKeyLines(keys),
          ...hintLines('verify with', verifyWith),
          publicSignalsNote(publicPath),
          verifierKeyNote(keys),
          ...keyWarnings(keys).map((warning) => `  WARNING: ${warning}`),
        ].join('\n'),
    );
  } finally {
    await pool.close();
  }
}

/** The name a batch gives an input's outputs: its file name without `.json`. */
function outputName(inputPath: string): string {
  const name = basename(inputPath);
  return name.toLowerCase().endsWith('.json') ? name.slice(0, -'.json'.length) : name;
}

/** One input of a batch that was not proved. */
interface BatchFailure {
  input: string;
  code: string;
  message: string;
  hint?: string;
}

/** A failure of one input, named by its file (without repeating the path a message may already start with). */
function batchFailure(input: string, error: unknown): BatchFailure {
  const known = error instanceof ZkaiError ? error : undefined;
  let message = error instanceof Error ? error.message || error.name : String(error);
  if (message.startsWith(`${input}: `)) message = message.slice(input.length + 2);
  const code = known?.code ?? (error as NodeJS.ErrnoException | undefined)?.code ?? 'INTERNAL';
  return { input, code, message, ...(known?.hint ? { hint: known.hint } : {}) };
}

/**
 * Several inputs: one pool, `pool.proveMany`, each proof written atomically to `<out-dir>/<name>.proof.json` and
 * `<name>.public.json` as it comes. A bad input is reported (stderr, summary) and does not stop the others; the exit
 * code is 1 when any input failed.
 */
async function proveBatch(circuitPath: string, inputPaths: string[], flags: ProveCommandFlags): Promise<void> {
  if (flags.proof !== undefined || flags.public !== undefined) {
    throw new ZkaiError(
      'BAD_OPTION',
      `-p/--proof and --public name the files of one proof, but this is a batch of ${inputPaths.length} input${inputPaths.length === 1 ? '' : 's'}`,
      {
        hint: 'give --out-dir DIR instead: each input NAME.json gets DIR/NAME.proof.json and DIR/NAME.public.json',
      },
    );
  }
  const outDir = flags.outDir;
  if (outDir === undefined) {
    throw new ZkaiError('BAD_OPTION', `${inputPaths.length} inputs need an output folder: --out-dir DIR`, {
      hint: 'each input NAME.json gets DIR/NAME.proof.json and DIR/NAME.public.json',
    });
  }
  const byName = new Map<string, string>();
  for (const path of inputPaths) {
    const earlier = byName.get(outputName(path));
    if (earlier !== undefined) {
      throw new ZkaiError('BAD_OPTION', `${earlier} and ${path} would both write ${outputName(path)}.proof.json`, {
        hint: 'give each input of a batch its own file name',
      });
    }
    byName.set(outputName(path), path);
  }
  const workers = positiveIntegerOption('--workers', flags.workers);
  const timeoutMs = timeoutOption(flags.timeout);

  // Failures go to stderr as they happen, whatever --quiet or --json say (above the bars on a terminal).
  const failures: BatchFailure[] = [];
  const fail = (input: string, error: unknown, omit?: string) => {
    const failure = batchFailure(input, error);
    if (omit) failure.message = failure.message.replace(omit, '');
    failures.push(failure);
    const text = `error: ${failure.input}: ${failure.message}${failure.hint ? `\n  hint: ${failure.hint}` : ''}`;
    const bars = progressBars(flags);
    if (bars) bars.log(text);
    else process.stderr.write(`${text}\n`);
  };

  const readable: Array<{ path: string; input: Record<string, unknown> }> = [];
  for (const path of inputPaths) {
    try {
      readable.push({ path, input: await readCircuitInput(path) });
    } catch (error) {
      fail(path, error);
    }
  }
  await mkdir(outDir, { recursive: true });

  const circuit = readable.length > 0 ? await compileFor(circuitPath, flags) : undefined;
  const keys = circuit ? await setupFor(circuit, flags) : undefined;
  const written: Array<{
    index: number;
    input: string;
    proof: string;
    public: string;
    publicSignals: string[];
    witnessMs: number;
    proveMs: number;
    verifyWith: CommandHint;
  }> = [];
  let elapsedSeconds = 0;
  let poolShape: { workers: number; curveThreads: number } | undefined;
  if (circuit && keys) {
    const progress = progressPrinter(flags);
    const pool = new ProverPool({ ...(workers ? { workers } : {}), timeoutMs });
    poolShape = { workers: pool.workers, curveThreads: pool.curveThreads };
    let reported = 0;
    pool.on('progress', (p: BatchProgress) => {
      if (p.done === reported) return; // a failure: reported on its own line
      reported = p.done;
      progress?.({ stage: 'prove', message: `proved ${p.done}/${p.total}` });
    });
    const started = performance.now();
    try {
      const artifacts = { wasmPath: circuit.wasmPath, zkeyPath: keys.zkeyPath };
      for await (const result of pool.proveMany(
        artifacts,
        readable.map((entry) => entry.input),
      )) {
        const path = readable[result.index]!.path;
        if (!result.ok) {
          // The circuit is the same for every input: its wasm path would only lengthen each message.
          fail(path, result.error, ` (${circuit.wasmPath})`);
          continue;
        }
        const proofPath = join(outDir, `${outputName(path)}.proof.json`);
        const publicPath = join(outDir, `${outputName(path)}.public.json`);
        try {
          await writeFileAtomic(proofPath, `${JSON.stringify(result.proof, null, 1)}\n`);
          await writeFileAtomic(publicPath, `${JSON.stringify(result.publicSignals, null, 1)}\n`);
        } catch (error) {
          fail(path, error);
          continue;
        }
        written.push({
          index: inputPaths.indexOf(path),
          input: path,
          proof: proofPath,
          public: publicPath,
          publicSignals: result.publicSignals,
          witnessMs: result.witnessMs,
          proveMs: result.proveMs,
          verifyWith: plainVerifyHint(keys.vkeyPath, proofPath, publicPath),
        });
      }
      elapsedSeconds = (performance.now() - started) / 1000;
    } finally {
      await pool.close();
    }
  }

  written.sort((a, b) => a.index - b.index);
  failures.sort((a, b) => inputPaths.indexOf(a.input) - inputPaths.indexOf(b.input));
  const proofsPerSecond = elapsedSeconds > 0 ? written.length / elapsedSeconds : 0;
  const summary = {
    inputs: inputPaths.length,
    proofs: written.length,
    failed: failures.length,
    seconds: elapsedSeconds,
    proofsPerSecond,
    ...(poolShape ? { workers: poolShape.workers, curveThreads: poolShape.curveThreads } : {}),
    outDir,
    ...(keys ? { vkey: keys.vkeyPath, ...keyJson(keys) } : {}),
    written: written.map(({ index: _index, ...entry }) => entry),
    failures,
  };
  emit(flags, summary, () => {
    const first = written[0];
    return [
      `${written.length} of ${inputPaths.length} inputs proved${elapsedSeconds > 0 ? ` in ${seconds(elapsedSeconds)} = ${proofsPerSecond.toFixed(2)} proofs/s` : ''}${poolShape ? ` (${poolShape.workers} worker${poolShape.workers === 1 ? '' : 's'} x ${poolShape.curveThreads} curve thread${poolShape.curveThreads === 1 ? '' : 's'}; the first proof includes loading)` : ''}`,
      ...(written.length > 0
        ? [`  written to ${outDir} as NAME.proof.json and NAME.public.json for each input NAME.json`]
        : []),
      ...(failures.length > 0
        ? [`  ${failures.length} failed (see the errors above): ${failures.map((failure) => failure.input).join(', ')}`]
        : []),
      ...(keys ? ceremonyKeyLines(keys) : []),
      ...(first && keys
        ? [
            ...hintLines(
              `verify with${written.length > 1 ? ' (the first proof; the others alike)' : ''}`,
              first.verifyWith,
            ),
            publicSignalsNote(first.public),
            verifierKeyNote(keys),
          ]
        : []),
      ...(keys ? keyWarnings(keys).map((warning) => `  WARNING: ${warning}`) : []),
    ].join('\n');
  });
  if (failures.length > 0) process.exitCode = 1;
}

/**
 * `zkai verify`. Sets the exit code to 1 for an invalid proof. The key must be one the verifier trusts (its own setup,
 * a ceremony it verified, or `--trust-key`): any other is refused before the proof is checked.
 */
export async function verifyCommand(flags: VerifyCommandFlags): Promise<void> {
  const [vkey, proof, publicSignals] = await Promise.all([
    readJsonFile(flags.vkey, 'verification key'),
    readJsonFile(flags.proof, 'proof'),
    readJsonFile(flags.public, 'public signals'),
  ]);
  const expect = parseExpectations(flags.expect ?? []);
  const keySource = await verifierKeySource(vkey, flags);
  const result = await verifyProof(vkey, proof, publicSignals, Object.keys(expect).length > 0 ? { expect } : {});
  emit(flags, { ...result, keySource }, () =>
    [
      result.valid ? 'OK: the proof is valid' : `INVALID (${result.reason}): ${result.detail}`,
      keySourceLine(keySource),
    ].join('\n'),
  );
  if (!result.valid) process.exitCode = 1;
}

/** `zkai deploy`. */
export async function deployCommand(flags: DeployCommandFlags): Promise<void> {
  let zkeyPath = flags.zkey;
  if (!zkeyPath) {
    if (!flags.circuit) throw new ZkaiError('BAD_OPTION', 'give --circuit FILE.circom or --zkey FILE.zkey');
    zkeyPath = (await setupFor(await compileFor(flags.circuit, flags), flags)).zkeyPath;
  }
  if (Boolean(flags.proof) !== Boolean(flags.public))
    throw new ZkaiError('BAD_OPTION', '--proof and --public go together');
  const proofPair =
    flags.proof && flags.public
      ? {
          proof: (await readJsonFile(flags.proof, 'proof')) as Groth16Proof,
          publicSignals: (await readJsonFile(flags.public, 'public signals')) as string[],
        }
      : undefined;
  const result = await withChain(flags.rpc, async (chain) => {
    const deployed = await deployVerifier(chain.signer, zkeyPath);
    const check = proofPair
      ? await verifyOnChain(deployed.contract, proofPair.proof, proofPair.publicSignals)
      : undefined;
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
      ...('proofValid' in result
        ? [`  proof on chain: ${result.proofValid ? 'valid' : 'INVALID'}, ${result.verifyGas} gas`]
        : []),
    ].join('\n'),
  );
  if ('proofValid' in result && !result.proofValid) process.exitCode = 1;
}

/** `zkai demo`. */
export async function demoCommand(flags: DemoCommandFlags): Promise<void> {
  const progress = progressPrinter(flags);
  const proofs = Number(flags.proofs ?? 8);
  if (!Number.isInteger(proofs) || proofs < 1 || proofs > 1000)
    throw new ZkaiError('BAD_OPTION', `--proofs must be an integer from 1 to 1000, got "${flags.proofs}"`);
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
      `  proving      ${s.proving.proofs} proofs in ${seconds(s.proving.seconds)} = ${s.proving.proofsPerSecond.toFixed(2)} proofs/s (${s.proving.workers} worker${s.proving.workers === 1 ? '' : 's'} x ${s.proving.curveThreads} curve threads; median witness ${s.proving.medianWitnessMs.toFixed(0)} ms, prove ${s.proving.medianProveMs.toFixed(0)} ms)`,
      `  off-chain    ${s.offChain.verified}/${s.proving.proofs} valid with their commitments checked; tampered public signal rejected: ${s.offChain.tamperedRejected ? 'yes' : 'NO'}; median verify ${s.offChain.medianVerifyMs.toFixed(0)} ms`,
      `  on-chain     ${s.onChain.rpc}: verifier at ${s.onChain.verifierAddress}; proof ${s.onChain.valid ? 'valid' : 'INVALID'} (${s.onChain.verifyGas} gas); tampered rejected: ${s.onChain.tamperedRejected ? 'yes' : 'NO'}`,
      '',
      `dataset: ${s.dataset.records} private patient records (examples/patients) proven to satisfy policy "${s.dataset.policy.name}" (${s.dataset.policy.rules} rules, ${s.dataset.policy.aggregates} aggregates)`,
      `  commitment   root ${s.dataset.root} (the records and their salts stay private)`,
      `  pre-flight   ${s.dataset.preflightOk ? 'pass' : 'FAIL'}; on a copy with one patient aged 17 it reports: ${s.dataset.violation ? `row ${s.dataset.violation.row}: ${s.dataset.violation.field} breaks ${s.dataset.violation.rule}` : 'NOTHING (unexpected)'}`,
      `  proving      ${s.dataset.proving.chunks} chunk proofs of ${2 ** s.dataset.proving.chunkDepth} records (${s.dataset.proving.constraintsPerChunk} constraints each) and ${s.dataset.proving.aggregationProofs} aggregation proof${s.dataset.proving.aggregationProofs === 1 ? '' : 's'} (${s.dataset.proving.constraintsPerNode === undefined ? '' : `nodes of ${s.dataset.proving.constraintsPerNode} constraints, `}the root of ${s.dataset.proving.constraintsOfRoot} constraints) in ${seconds(s.dataset.proving.seconds)}`,
      `  published    the commitment and the verdict: each chunk proof shows its subtree roots and a salted commitment to its partials, never the partials`,
      `  verification ${s.dataset.verification.valid ? 'valid' : 'INVALID'} against the public commitment and policy hash ${s.dataset.policy.hash.slice(0, 16)}...; against another root: ${s.dataset.verification.otherRootRejected ? 'rejected' : 'NOT rejected'}`,
      '  more: README "Datasets" (zkai data commit | check | prove | verify | registry | include)',
    ].join('\n');
  });
  const d = summary.dataset;
  if (
    !summary.offChain.allValid ||
    !summary.onChain.valid ||
    !summary.offChain.tamperedRejected ||
    !summary.onChain.tamperedRejected
  )
    process.exitCode = 1;
  if (!d.preflightOk || !d.violation || !d.verification.valid || !d.verification.otherRootRejected)
    process.exitCode = 1;
}
