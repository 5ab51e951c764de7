/**
 * On-chain verification against a REAL anvil node (no mocks): start/stop of the embedded node, solc diagnostics, and
 * a snarkjs Groth16 verifier deployed and exercised with valid, tampered and malformed proofs.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as snarkjs from 'snarkjs';
import { ChainError, CompileError, MalformedProofError } from '../src/errors.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { BN254_BASE_FIELD, BN254_SCALAR_FIELD, type Groth16Proof } from '../src/verifier/types.ts';
import {
  compileSolidity,
  connectChain,
  deployVerifier,
  rpcRequest,
  startAnvil,
  toVerifierCallArgs,
  verifyOnChain,
  toZkaiVerifierArgs,
  type ChainConnection,
  type DeployedVerifier,
} from '../src/chain/index.ts';
import { getDemoFixture } from './helpers/fixture.ts';
import { isAlive } from './helpers/process.ts';

describe('embedded anvil', () => {
  it('starts on a free port, answers JSON-RPC, and is gone after stop()', async () => {
    const started = performance.now();
    const anvil = await startAnvil();
    const startupMs = performance.now() - started;
    try {
      expect(anvil.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(anvil.chainId).toBe(31337);
      expect(await rpcRequest(anvil.rpcUrl, 'eth_chainId')).toBe('0x7a69');
      expect(isAlive(anvil.pid)).toBe(true);
      console.info(`anvil ready in ${startupMs.toFixed(0)} ms at ${anvil.rpcUrl}`);
    } finally {
      await anvil.stop();
    }
    expect(isAlive(anvil.pid)).toBe(false);
    await expect(rpcRequest(anvil.rpcUrl, 'eth_chainId', [], 2_000)).rejects.toThrow(ChainError);
    await anvil.stop(); // idempotent
  }, 30_000);

  it("reports anvil's stderr when it exits before it is ready (port already in use)", async () => {
    const first = await startAnvil();
    try {
      const second = startAnvil({ port: first.port, timeoutMs: 10_000 });
      await expect(second).rejects.toThrow(ChainError);
      await expect(second).rejects.toThrow(/exited early[\s\S]*Address already in use/);
    } finally {
      await first.stop();
    }
  }, 30_000);
});

describe('compileSolidity', () => {
  it("surfaces solc's formatted error messages", async () => {
    const source =
      'pragma solidity ^0.8.0;\ncontract Broken {\n  function f() public pure returns (uint) { return x; }\n}\n';
    const error = await compileSolidity(source, 'Broken').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    const message = (error as Error).message;
    expect(message).toContain('DeclarationError');
    expect(message).toContain('Undeclared identifier');
    expect(message).toContain('Broken.sol:3:'); // solc's formatted message points at the line
  }, 60_000);

  it('compiles a valid contract to an ABI and 0x bytecode', async () => {
    const { abi, bytecode } = await compileSolidity(
      'pragma solidity ^0.8.0;\ncontract Ok { function f() external pure returns (uint) { return 42; } }\n',
      'Ok',
    );
    expect(abi).toEqual([expect.objectContaining({ name: 'f', type: 'function' })]);
    expect(bytecode).toMatch(/^0x[0-9a-f]+$/);
  }, 60_000);

  it('keeps the output in the cache by content: a hit returns it, a damaged entry is compiled again, errors are not kept', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'zkai-solc-cache-'));
    try {
      const source =
        'pragma solidity ^0.8.0;\ncontract Kept { function g() external pure returns (uint) { return 7; } }\n';
      const first = await compileSolidity(source, 'Kept', { cacheDir });
      const entries = await readdir(join(cacheDir, 'solidity'));
      expect(entries).toHaveLength(1);
      const entry = join(cacheDir, 'solidity', entries[0]!);
      expect(JSON.parse(await readFile(entry, 'utf8'))).toEqual(first);

      // A hit is what the entry says (proved by editing it: the edited bytecode comes back).
      const edited = { ...first, bytecode: '0x6000' };
      await writeFile(entry, JSON.stringify(edited));
      expect(await compileSolidity(source, 'Kept', { cacheDir })).toEqual(edited);

      // Another source, other settings: other entries.
      await compileSolidity(source.replace('return 7', 'return 8'), 'Kept', { cacheDir });
      await compileSolidity(source, 'Kept', { cacheDir, optimizerRuns: 1 });
      expect(await readdir(join(cacheDir, 'solidity'))).toHaveLength(3);

      // A damaged entry (truncated, or bytecode that is not hex) is a miss: compiled again and rewritten.
      for (const damage of ['{"abi":[', JSON.stringify({ abi: [], bytecode: 'nothex' })]) {
        await writeFile(entry, damage);
        expect(await compileSolidity(source, 'Kept', { cacheDir })).toEqual(first);
        expect(JSON.parse(await readFile(entry, 'utf8'))).toEqual(first);
      }

      // solc's errors are reported every time and never kept; cacheDir: false keeps nothing.
      const broken =
        'pragma solidity ^0.8.0;\ncontract Broken2 { function f() public pure returns (uint) { return y; } }\n';
      await expect(compileSolidity(broken, 'Broken2', { cacheDir })).rejects.toThrow(CompileError);
      await compileSolidity(source.replace('return 7', 'return 9'), 'Kept', { cacheDir: false });
      expect(await readdir(join(cacheDir, 'solidity'))).toHaveLength(3);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('Groth16 verifier on chain', () => {
  let fixture: Awaited<ReturnType<typeof getDemoFixture>>;
  let chain: ChainConnection | undefined;
  let verifier: DeployedVerifier;

  beforeAll(async () => {
    fixture = await getDemoFixture();
    chain = await connectChain();
    verifier = await deployVerifier(chain.signer, fixture.zkeyPath);
    console.info(`verifier deployed at ${verifier.address}: deployment gas ${verifier.deployGas}`);
  }, 300_000);

  afterAll(async () => {
    await chain?.close();
    await releaseCurves(); // the fixture proves with snarkjs in this thread
  });

  it('encodes calldata exactly like snarkjs exportSolidityCallData', async () => {
    const ours = toVerifierCallArgs(fixture.proof, fixture.publicSignals);
    const theirs = JSON.parse(
      `[${await snarkjs.groth16.exportSolidityCallData(fixture.proof, fixture.publicSignals)}]`,
    ) as unknown;
    const toBig = (v: unknown): unknown => (Array.isArray(v) ? v.map(toBig) : BigInt(v as string));
    expect(ours).toEqual(toBig(theirs));
  });

  it('accepts a valid proof and reports the gas of a real verification transaction', async () => {
    const result = await verifyOnChain(verifier.contract, fixture.proof, fixture.publicSignals);
    expect(result.valid).toBe(true);
    expect(result.gasUsed).toBeDefined();
    // A BN254 Groth16 verification is dominated by the 4-pairing precompile (~181k gas) plus 21k intrinsic gas.
    expect(result.gasUsed!).toBeGreaterThan(180_000n);
    expect(result.gasUsed!).toBeLessThan(400_000n);
    console.info(
      `verifyProof: valid=${result.valid}, gasUsed=${result.gasUsed} (${fixture.publicSignals.length} public signals)`,
    );
  }, 60_000);

  it('only makes an eth_call when measureGas is false', async () => {
    const before = await chain!.provider.getBlockNumber();
    const result = await verifyOnChain(verifier.contract, fixture.proof, fixture.publicSignals, { measureGas: false });
    expect(result).toEqual({ valid: true });
    expect(await chain!.provider.getBlockNumber()).toBe(before);
  }, 60_000);

  it('rejects the proof when a public signal is changed, naming the custom error it reverted with', async () => {
    const signals = [...fixture.publicSignals];
    const first = BigInt(signals[0]!);
    signals[0] = ((first + 1n) % BN254_SCALAR_FIELD).toString();
    const result = await verifyOnChain(verifier.contract, fixture.proof, signals);
    expect(result.valid).toBe(false);
    expect(result.reason).toBe('ProofInvalid()');
    console.info(`verifyProof (tampered signal): valid=${result.valid}, gasUsed=${result.gasUsed}`);
  }, 60_000);

  it('rejects the proof when pi_a is replaced by another valid curve point (its negation)', async () => {
    const [x, y, z] = fixture.proof.pi_a;
    const tampered: Groth16Proof = {
      ...fixture.proof,
      pi_a: [x!, (BN254_BASE_FIELD - BigInt(y!)).toString(), z ?? '1'],
    };
    const result = await verifyOnChain(verifier.contract, tampered, fixture.publicSignals);
    expect(result.valid).toBe(false);
  }, 60_000);

  it('rejects an out-of-field public signal before sending anything', async () => {
    const before = await chain!.provider.getBlockNumber();
    const signals = [...fixture.publicSignals];
    signals[0] = BN254_SCALAR_FIELD.toString();
    const attempt = verifyOnChain(verifier.contract, fixture.proof, signals);
    await expect(attempt).rejects.toThrow(MalformedProofError);
    await expect(attempt).rejects.toThrow(/publicSignals\[0\].*not below the field modulus/);
    expect(await chain!.provider.getBlockNumber()).toBe(before);
  }, 60_000);

  it('works through an rpcUrl with a private-key wallet (two transactions back to back)', async () => {
    // anvil's well-known dev account #1 (public test key, funded on every fresh anvil).
    const privateKey = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
    const remote = await connectChain(chain!.rpcUrl, { privateKey });
    try {
      expect(remote.anvil).toBeUndefined();
      expect(await remote.signer.getAddress()).toBe('0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
      const contract = verifier.contract.connect(remote.signer);
      const first = await verifyOnChain(contract, fixture.proof, fixture.publicSignals);
      const second = await verifyOnChain(contract, fixture.proof, fixture.publicSignals);
      expect([first.valid, second.valid]).toEqual([true, true]);
      expect(second.gasUsed).toBe(first.gasUsed);
    } finally {
      await remote.close();
    }
    expect(await chain!.provider.getBlockNumber()).toBeGreaterThan(0); // closing `remote` left the node running
  }, 60_000);

  it('reports a missing contract clearly', async () => {
    const nowhere = verifier.contract.attach('0x000000000000000000000000000000000000dEaD');
    await expect(verifyOnChain(nowhere, fixture.proof, fixture.publicSignals)).rejects.toThrow(
      /no contract at 0x000000000000000000000000000000000000dEaD/,
    );
  }, 60_000);

  it('rejects malformed proofs and wrong signal counts with MalformedProofError', async () => {
    const tooMany = [...fixture.publicSignals, '1'];
    await expect(verifyOnChain(verifier.contract, fixture.proof, tooMany)).rejects.toThrow(
      new RegExp(`got ${tooMany.length} public signals; the verifier takes exactly ${fixture.publicSignals.length}`),
    );
    const shortB: Groth16Proof = { ...fixture.proof, pi_b: [fixture.proof.pi_b[0]!] };
    await expect(verifyOnChain(verifier.contract, shortB, fixture.publicSignals)).rejects.toThrow(MalformedProofError);
    const notANumber: Groth16Proof = { ...fixture.proof, pi_c: ['12abc', '1', '1'] };
    await expect(verifyOnChain(verifier.contract, notANumber, fixture.publicSignals)).rejects.toThrow(
      /proof\.pi_c\[0\]/,
    );
  }, 60_000);
});

/** Gas of the calldata of a transaction (EIP-2028: 4 per zero byte, 16 per other byte). */
function calldataGas(data: string): number {
  let gas = 0;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === '00' ? 4 : 16;
  return gas;
}

describe("zkai's reverting verifier against snarkjs's template", () => {
  let fixture: Awaited<ReturnType<typeof getDemoFixture>>;
  let chain: ChainConnection | undefined;
  let ours: DeployedVerifier;
  let theirs: DeployedVerifier;

  beforeAll(async () => {
    fixture = await getDemoFixture();
    chain = await connectChain();
    ours = await deployVerifier(chain.signer, fixture.zkeyPath);
    theirs = await deployVerifier(chain.signer, fixture.zkeyPath, { template: 'snarkjs' });
  }, 300_000);

  afterAll(async () => {
    await chain?.close();
    await releaseCurves();
  });

  it('eth_estimateGas is honest on ours: the estimate verifies, a tenth less reverts', async () => {
    expect(ours.template).toBe('zkai');
    const args = toZkaiVerifierArgs(fixture.proof, fixture.publicSignals);
    const estimate = await ours.contract.getFunction('verifyProof').estimateGas(...args);
    expect(estimate).toBeGreaterThan(181_000n);
    const ok = await (await ours.contract.getFunction('verifyProof').send(...args, { gasLimit: estimate })).wait();
    expect(ok?.status).toBe(1);
    const short = ours.contract.getFunction('verifyProof').send(...args, { gasLimit: (estimate * 9n) / 10n });
    await expect(short.then((tx) => tx.wait())).rejects.toThrow();
    // A bad proof cannot be estimated at all: it reverts at any gas.
    const bad = [...fixture.publicSignals];
    bad[1] = (BigInt(bad[1]!) + 1n).toString();
    await expect(
      ours.contract.getFunction('verifyProof').estimateGas(...toZkaiVerifierArgs(fixture.proof, bad)),
    ).rejects.toThrow();
  }, 60_000);

  it("the snarkjs template's estimate is far too low and a transaction with it 'succeeds' without verifying", async () => {
    expect(theirs.template).toBe('snarkjs');
    const args = toVerifierCallArgs(fixture.proof, fixture.publicSignals);
    const verify = theirs.contract.getFunction('verifyProof');
    const estimate = await verify.estimateGas(...args);
    expect(estimate).toBeLessThan(100_000n); // the pairing alone needs 181,000
    const receipt = await (await verify.send(...args, { gasLimit: estimate })).wait();
    expect(receipt?.status).toBe(1); // mined as a success, yet the pairing never ran to completion
    const result = await verifyOnChain(theirs.contract, fixture.proof, fixture.publicSignals);
    expect(result.valid).toBe(true);
  }, 60_000);

  it('costs within 3% of the EIP-1108 floor plus the transaction base and calldata', async () => {
    const result = await verifyOnChain(ours.contract, fixture.proof, fixture.publicSignals);
    expect(result.valid).toBe(true);
    const tx = await chain!.provider.getTransaction(result.txHash!);
    const n = fixture.publicSignals.length;
    const floor = 181_000 + 6_150 * n + 21_000 + calldataGas(tx!.data);
    const used = Number(result.gasUsed);
    console.info(
      `zkai verifier: ${used} gas for ${n} public inputs; floor ${floor} (+${((used / floor - 1) * 100).toFixed(2)}%)`,
    );
    expect(used).toBeGreaterThanOrEqual(floor - 200); // the precompiles alone cost the floor
    expect(used).toBeLessThanOrEqual(floor * 1.03);
    expect(result.estimatedGas).toBeGreaterThanOrEqual(result.gasUsed!);
  }, 60_000);

  it('reverts with PublicInputNotInField(index) and PublicInputCount on a direct call', async () => {
    const [proof, signals] = toZkaiVerifierArgs(fixture.proof, fixture.publicSignals);
    const verify = ours.contract.getFunction('verifyProof');
    const outOfField = [...signals];
    outOfField[2] = BN254_SCALAR_FIELD + outOfField[2]!; // the same value modulo r: a reducing verifier would accept it
    const error = await verify.staticCall(proof, outOfField).catch((e: unknown) => e);
    expect(ours.contract.interface.parseError((error as { data: string }).data)?.signature).toBe(
      'PublicInputNotInField(uint256)',
    );
    expect(ours.contract.interface.parseError((error as { data: string }).data)?.args[0]).toBe(2n);
    const count = await verify.staticCall(proof, signals.slice(1)).catch((e: unknown) => e);
    const parsed = ours.contract.interface.parseError((count as { data: string }).data);
    expect([parsed?.name, ...(parsed?.args ?? [])]).toEqual([
      'PublicInputCount',
      BigInt(signals.length),
      BigInt(signals.length - 1),
    ]);
    // A proof point at or above the base field is refused (A.y is negated in the contract, so it is checked there).
    const bigY = [...proof];
    bigY[1] = bigY[1]! + BN254_BASE_FIELD;
    const point = await verify.staticCall(bigY, signals).catch((e: unknown) => e);
    expect(ours.contract.interface.parseError((point as { data: string }).data)?.name).toBe('ProofInvalid');
  }, 60_000);
});
