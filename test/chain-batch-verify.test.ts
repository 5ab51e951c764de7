/**
 * Batch verification (`verifyProofs`) of zkai's generated Groth16 verifier against a REAL anvil node, with real
 * proofs of the demo circuit: valid batches, batches with one tampered proof, field and length checks, attacks of a
 * dishonest prover (errors that cancel, points at infinity, unreduced values), and gas from receipts against k
 * separate `verifyProof` transactions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as snarkjs from 'snarkjs';
import { Contract } from 'ethers';
import { ChainError, MalformedProofError } from '../src/errors.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { BN254_BASE_FIELD as Q, BN254_SCALAR_FIELD as R, type Groth16Proof } from '../src/verifier/types.ts';
import {
  ZKAI_MAX_BATCH,
  ZKAI_VERIFY_BATCH_SIGNATURE,
  connectChain,
  deployVerifier,
  toZkaiBatchArgs,
  toZkaiVerifierArgs,
  verifyBatchOnChain,
  verifyOnChain,
  type BatchProof,
  type ChainConnection,
  type DeployedVerifier,
} from '../src/chain/index.ts';
import { decodeRevert } from '../src/chain/revert-decoder.ts';
import { rangeCommitmentInput, sampleAges } from '../src/demo/range-commitment.ts';
import { getDemoFixture } from './helpers/fixture.ts';

type Point = readonly [bigint, bigint];
type Words = bigint[];

/** The generator of G1: a valid point whose addition to A or C makes an invalid proof. */
const G: Point = [1n, 2n];
const INFINITY: Point = [0n, 0n];

// Fq2 = Fq[u] / (u^2 + 1), enough to find a point on the G2 twist y^2 = x^3 + 3 / (9 + u) outside the subgroup.
type Fq2 = readonly [bigint, bigint];
const mod = (a: bigint) => ((a % Q) + Q) % Q;
const f2add = (a: Fq2, b: Fq2): Fq2 => [mod(a[0] + b[0]), mod(a[1] + b[1])];
const f2mul = (a: Fq2, b: Fq2): Fq2 => [mod(a[0] * b[0] - a[1] * b[1]), mod(a[0] * b[1] + a[1] * b[0])];
function f2pow(a: Fq2, e: bigint): Fq2 {
  let result: Fq2 = [1n, 0n];
  for (let base = a; e > 0n; e >>= 1n, base = f2mul(base, base)) if (e & 1n) result = f2mul(result, base);
  return result;
}
const MINUS_ONE: Fq2 = [Q - 1n, 0n];
const isMinusOne = (a: Fq2) => a[0] === MINUS_ONE[0] && a[1] === 0n;
/** A square root in Fq2 (q = 3 mod 4: Adj and Rodriguez-Henriquez, algorithm 9), or undefined when there is none. */
function f2sqrt(a: Fq2): Fq2 | undefined {
  const a1 = f2pow(a, (Q - 3n) / 4n);
  const alpha = f2mul(f2mul(a1, a1), a);
  if (isMinusOne(f2mul([alpha[0], mod(-alpha[1])], alpha))) return undefined; // alpha^q * alpha
  const x0 = f2mul(a1, a);
  return isMinusOne(alpha) ? f2mul([0n, 1n], x0) : f2mul(f2pow(f2add([1n, 0n], alpha), (Q - 1n) / 2n), x0);
}
const INVERSE_82 = f2pow([82n, 0n], Q - 2n)[0];
const TWIST_B: Fq2 = [mod(27n * INVERSE_82), mod(-3n * INVERSE_82)]; // 3 / (9 + u) = 3 (9 - u) / 82
const twistRhs = (x: Fq2): Fq2 => f2add(f2mul(f2mul(x, x), x), TWIST_B);

describe('verifyProofs: batch verification of Groth16 proofs of one key', () => {
  let fixture: Awaited<ReturnType<typeof getDemoFixture>>;
  let chain: ChainConnection | undefined;
  let verifier: DeployedVerifier;
  /** Eight valid proofs of the demo circuit, each with other inputs (and so other public signals). */
  let items: BatchProof[];
  /** Their calldata: one uint256[8] per proof, and each proof's signals. */
  let proofWords: Words[];
  let signalWords: Words[];
  let n: number;

  beforeAll(async () => {
    fixture = await getDemoFixture();
    chain = await connectChain();
    verifier = await deployVerifier(chain.signer, fixture.zkeyPath);
    items = [{ proof: fixture.proof, publicSignals: fixture.publicSignals }];
    for (let seed = 2; items.length < 8; seed++) {
      const input = rangeCommitmentInput(sampleAges(seed), 18, 99 + seed, BigInt(seed) * 1_000_003n);
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(
        input,
        fixture.circuit.wasmPath,
        fixture.zkeyPath,
      );
      items.push({ proof: proof as Groth16Proof, publicSignals });
    }
    n = fixture.publicSignals.length;
    proofWords = items.map((item) => toZkaiVerifierArgs(item.proof, item.publicSignals)[0]);
    signalWords = items.map((item) => toZkaiVerifierArgs(item.proof, item.publicSignals)[1]);
  }, 600_000);

  afterAll(async () => {
    await chain?.close();
    await releaseCurves(); // the proofs were made with snarkjs in this thread
  });

  /** The custom error a `verifyProofs` call reverts with, as `Name(args)`, or `ok` when it does not revert. */
  async function outcome(proofs: readonly Words[], signals: readonly bigint[]): Promise<string> {
    try {
      await verifier.contract.getFunction('verifyProofs').staticCall(proofs, signals);
      return 'ok';
    } catch (error) {
      const decoded = decodeRevert(verifier.contract.interface, error);
      if (!decoded) throw error;
      return `${decoded.name}(${decoded.args.map(String).join(', ')})`;
    }
  }

  /** `verifyProof` (the single check) on one proof. */
  async function singleOutcome(proof: Words, signals: readonly bigint[]): Promise<string> {
    try {
      await verifier.contract.getFunction('verifyProof').staticCall(proof, signals);
      return 'ok';
    } catch (error) {
      const decoded = decodeRevert(verifier.contract.interface, error);
      if (!decoded) throw error;
      return `${decoded.name}(${decoded.args.map(String).join(', ')})`;
    }
  }

  /** The first `k` proofs (cycling through the eight) as a batch: copies, free to tamper with. */
  function batch(k: number): { proofs: Words[]; signals: Words[] } {
    return {
      proofs: Array.from({ length: k }, (_, i) => [...proofWords[i % proofWords.length]!]),
      signals: Array.from({ length: k }, (_, i) => [...signalWords[i % signalWords.length]!]),
    };
  }

  // The EVM's own curve arithmetic (the ecAdd, ecMul and pairing precompiles through eth_call), for the attacks.
  async function precompile(address: number, words: readonly bigint[]): Promise<bigint[]> {
    const data = `0x${words.map((w) => w.toString(16).padStart(64, '0')).join('')}`;
    const out = await chain!.provider.call({ to: `0x${address.toString(16).padStart(40, '0')}`, data });
    return Array.from({ length: (out.length - 2) / 64 }, (_, i) => BigInt(`0x${out.slice(2 + i * 64, 66 + i * 64)}`));
  }
  const ecAdd = async (p: Point, q: Point): Promise<Point> => {
    const [x, y] = await precompile(6, [...p, ...q]);
    return [x!, y!];
  };
  const ecMul = async (p: Point, s: bigint): Promise<Point> => {
    const [x, y] = await precompile(7, [...p, s]);
    return [x!, y!];
  };
  const neg = ([x, y]: Point): Point => [x, (Q - y) % Q];
  const g1 = (point: readonly string[] | undefined): Point => [BigInt(point![0]!), BigInt(point![1]!)];
  /** A G2 point of the key in the precompile's order (x.c1, x.c0, y.c1, y.c0). */
  const g2 = (point: readonly (readonly string[])[]): bigint[] =>
    [point[0]![1], point[0]![0], point[1]![1], point[1]![0]].map((v) => BigInt(v!));

  /**
   * The batch check WITHOUT random scalars (every r_i = 1), made with the pairing precompile directly:
   * prod e(-A_i, B_i) e(k alpha, beta) e(sum L_i, gamma) e(sum C_i, delta) == 1. What a naive batch would accept.
   */
  async function unweightedCheckPasses(proofs: readonly Words[], signals: readonly Words[]): Promise<boolean> {
    const vkey = fixture.vkey;
    const ic = vkey.IC.map((point) => g1(point));
    let sumL: Point = INFINITY;
    let sumC: Point = INFINITY;
    const pairs: bigint[] = [];
    for (const [i, proof] of proofs.entries()) {
      let l: Point = ic[0]!;
      for (const [j, x] of signals[i]!.entries()) l = await ecAdd(l, await ecMul(ic[j + 1]!, x));
      sumL = await ecAdd(sumL, l);
      sumC = await ecAdd(sumC, [proof[6]!, proof[7]!]);
      pairs.push(...neg([proof[0]!, proof[1]!]), ...proof.slice(2, 6));
    }
    pairs.push(...(await ecMul(g1(vkey.vk_alpha_1), BigInt(proofs.length))), ...g2(vkey.vk_beta_2));
    pairs.push(...sumL, ...g2(vkey.vk_gamma_2));
    pairs.push(...sumC, ...g2(vkey.vk_delta_2));
    const [result] = await precompile(8, pairs);
    return result === 1n;
  }

  describe('valid batches', () => {
    it('accepts batches of 1, 2 and 8 valid proofs, and reports the gas of a real transaction', async () => {
      for (const k of [1, 2, 8]) {
        const result = await verifyBatchOnChain(verifier.contract, items.slice(0, k));
        expect(result).toMatchObject({ valid: true, count: k });
        expect(result.gasUsed).toBeGreaterThan(0n);
        expect(result.estimatedGas).toBeGreaterThanOrEqual(result.gasUsed!);
        const receipt = await chain!.provider.getTransactionReceipt(result.txHash!);
        expect(receipt?.status).toBe(1);
      }
    }, 120_000);

    it('accepts the same proofs in another order, and a valid proof twice', async () => {
      const { proofs, signals } = batch(8);
      expect(await outcome([...proofs].reverse(), [...signals].reverse().flat())).toBe('ok');
      expect(await outcome([proofs[3]!, proofs[3]!], [...signals[3]!, ...signals[3]!])).toBe('ok');
    });

    it('only makes an eth_call when measureGas is false', async () => {
      const before = await chain!.provider.getBlockNumber();
      expect(await verifyBatchOnChain(verifier.contract, items.slice(0, 3), { measureGas: false })).toEqual({
        valid: true,
        count: 3,
      });
      expect(await chain!.provider.getBlockNumber()).toBe(before);
    });
  });

  describe('a batch with one bad proof', () => {
    it('reverts with ProofInvalid when exactly one proof is tampered, at any position', async () => {
      const tampers: Record<string, (proofs: Words[], signals: Words[], at: number) => void> = {
        'A negated (another valid point)': (proofs, _, at) => {
          proofs[at]![1] = Q - proofs[at]![1]!;
        },
        'B of another proof': (proofs, _, at) => {
          proofs[at]!.splice(2, 4, ...proofWords[(at + 1) % 8]!.slice(2, 6));
        },
        'C of another proof': (proofs, _, at) => {
          proofs[at]!.splice(6, 2, ...proofWords[(at + 1) % 8]!.slice(6, 8));
        },
        'a public signal plus one': (_, signals, at) => {
          signals[at]![1] = signals[at]![1]! + 1n;
        },
        'the last public signal minus one': (_, signals, at) => {
          signals[at]![n - 1] = (signals[at]![n - 1]! + R - 1n) % R;
        },
      };
      for (const [what, tamper] of Object.entries(tampers)) {
        for (const at of [0, 3, 7]) {
          const { proofs, signals } = batch(8);
          tamper(proofs, signals, at);
          expect([what, at, await singleOutcome(proofs[at]!, signals[at]!)]).toEqual([what, at, 'ProofInvalid()']);
          expect([what, at, await outcome(proofs, signals.flat())]).toEqual([what, at, 'ProofInvalid()']);
        }
      }
      // The same through the library: valid false, with the reason.
      const tampered = [...items];
      const [first, ...rest] = items[5]!.publicSignals;
      tampered[5] = { ...items[5]!, publicSignals: [String(BigInt(first!) + 1n), ...rest] };
      expect(await verifyBatchOnChain(verifier.contract, tampered)).toEqual({
        valid: false,
        count: 8,
        reason: 'ProofInvalid()',
      });
    }, 120_000);

    it("reverts when two proofs' signals are swapped, or a proof is repeated with another's signals", async () => {
      const swapped = batch(8);
      [swapped.signals[2], swapped.signals[6]] = [swapped.signals[6]!, swapped.signals[2]!];
      expect(await outcome(swapped.proofs, swapped.signals.flat())).toBe('ProofInvalid()');

      const repeated = batch(4);
      repeated.proofs[2] = [...repeated.proofs[1]!]; // proof 1 again, with proof 2's signals
      expect(await outcome(repeated.proofs, repeated.signals.flat())).toBe('ProofInvalid()');
    });
  });

  describe('field and length checks', () => {
    it('reverts with PublicInputNotInField(flat index) for a signal at or above R, even x + R', async () => {
      for (const [at, j] of [
        [0, 0],
        [1, 2],
        [3, 1],
      ] as const) {
        const { proofs, signals } = batch(4);
        signals[at]![j] = signals[at]![j]! + R; // the same value modulo R: a reducing verifier would accept it
        expect(await outcome(proofs, signals.flat())).toBe(`PublicInputNotInField(${at * n + j})`);
      }
      const { proofs, signals } = batch(2);
      signals[1]![0] = R;
      expect(await outcome(proofs, signals.flat())).toBe(`PublicInputNotInField(${n})`);
      signals[1]![0] = 2n ** 256n - 1n;
      expect(await outcome(proofs, signals.flat())).toBe(`PublicInputNotInField(${n})`);

      // The library refuses it before sending anything.
      const before = await chain!.provider.getBlockNumber();
      const bad = items.slice(0, 2).map((item) => ({ ...item, publicSignals: [...item.publicSignals] }));
      bad[1]!.publicSignals[2] = (BigInt(bad[1]!.publicSignals[2]!) + R).toString();
      const attempt = verifyBatchOnChain(verifier.contract, bad);
      await expect(attempt).rejects.toThrow(MalformedProofError);
      await expect(attempt).rejects.toThrow(/proofs\[1\]: publicSignals\[2\]/);
      expect(await chain!.provider.getBlockNumber()).toBe(before);
    });

    it('reverts with PublicInputCount on a wrong signal count and BatchSize on 0 or too many proofs', async () => {
      const { proofs, signals } = batch(8);
      const flat = signals.flat();
      expect(await outcome(proofs, flat.slice(1))).toBe(`PublicInputCount(${8 * n}, ${8 * n - 1})`);
      expect(await outcome(proofs, [...flat, 1n])).toBe(`PublicInputCount(${8 * n}, ${8 * n + 1})`);
      expect(await outcome(proofs.slice(0, 7), flat)).toBe(`PublicInputCount(${7 * n}, ${8 * n})`);
      expect(await outcome([], [])).toBe(`BatchSize(${ZKAI_MAX_BATCH}, 0)`);
      const tooMany = batch(ZKAI_MAX_BATCH + 1);
      expect(await outcome(tooMany.proofs, tooMany.signals.flat())).toBe(
        `BatchSize(${ZKAI_MAX_BATCH}, ${ZKAI_MAX_BATCH + 1})`,
      );
      expect(await verifier.contract.getFunction('MAX_BATCH').staticCall()).toBe(BigInt(ZKAI_MAX_BATCH));

      // The library says so before sending anything.
      expect(() => toZkaiBatchArgs([])).toThrow(/the batch has no proofs/);
      await expect(verifyBatchOnChain(verifier.contract, [])).rejects.toThrow(MalformedProofError);
      const many = Array.from({ length: ZKAI_MAX_BATCH + 1 }, (_, i) => items[i % 8]!);
      await expect(verifyBatchOnChain(verifier.contract, many)).rejects.toThrow(/takes at most 128/);
      const short = [items[0]!, { ...items[1]!, publicSignals: items[1]!.publicSignals.slice(1) }];
      await expect(verifyBatchOnChain(verifier.contract, short)).rejects.toThrow(
        new RegExp(`proofs\\[1\\]: got ${n - 1} public signals; the verifier takes exactly ${n}`),
      );
    });

    it('takes no scalars from the caller: the ABI has the proofs and the signals only', () => {
      const fragment = verifier.contract.interface.getFunction('verifyProofs')!;
      expect(fragment.format('sighash')).toBe(ZKAI_VERIFY_BATCH_SIGNATURE);
      expect(fragment.inputs.map((input) => input.type)).toEqual(['uint256[8][]', 'uint256[]']);
      expect(fragment.stateMutability).toBe('view');
    });

    it('reports a verifier without verifyProofs clearly', async () => {
      const old = new Contract(verifier.address, ['function verifyProof(uint256[8], uint256[]) view'], chain!.signer);
      await expect(verifyBatchOnChain(old, items.slice(0, 1))).rejects.toThrow(ChainError);
      await expect(verifyBatchOnChain(old, items.slice(0, 1))).rejects.toThrow(/no verifyProofs function/);
    });
  });

  describe('a dishonest prover', () => {
    it('cannot cancel errors in A: A + G and A - G with the same B (one proof twice)', async () => {
      const proof = proofWords[0]!;
      const a: Point = [proof[0]!, proof[1]!];
      const plus = [...proof];
      plus.splice(0, 2, ...(await ecAdd(a, G)));
      const minus = [...proof];
      minus.splice(0, 2, ...(await ecAdd(a, neg(G))));
      const signals = [signalWords[0]!, signalWords[0]!];
      // Each is invalid alone, and a batch with r_1 = r_2 would accept the pair (the errors cancel)...
      expect(await singleOutcome(plus, signals[0]!)).toBe('ProofInvalid()');
      expect(await singleOutcome(minus, signals[0]!)).toBe('ProofInvalid()');
      expect(await unweightedCheckPasses([plus, minus], signals)).toBe(true);
      // ...the contract's r_i differ, so it does not: alone, among valid proofs, in either order.
      expect(await outcome([plus, minus], signals.flat())).toBe('ProofInvalid()');
      expect(await outcome([minus, plus], signals.flat())).toBe('ProofInvalid()');
      const { proofs, signals: others } = batch(6);
      expect(await outcome([plus, ...proofs, minus], [signals[0]!, ...others, signals[1]!].flat())).toBe(
        'ProofInvalid()',
      );
    });

    it('cannot cancel errors in C across two proofs: C_1 + G and C_2 - G', async () => {
      const { proofs, signals } = batch(4);
      proofs[1]!.splice(6, 2, ...(await ecAdd([proofs[1]![6]!, proofs[1]![7]!], G)));
      proofs[2]!.splice(6, 2, ...(await ecAdd([proofs[2]![6]!, proofs[2]![7]!], neg(G))));
      expect(await singleOutcome(proofs[1]!, signals[1]!)).toBe('ProofInvalid()');
      expect(await singleOutcome(proofs[2]!, signals[2]!)).toBe('ProofInvalid()');
      expect(await unweightedCheckPasses(proofs, signals)).toBe(true);
      expect(await outcome(proofs, signals.flat())).toBe('ProofInvalid()');
    });

    it("cannot cancel a changed signal with another proof's opposite change", async () => {
      // x_1j + 1 and x_2j - 1: sum L_i is unchanged, so the unweighted check passes; the weighted one does not.
      const { proofs, signals } = batch(3);
      signals[0]![1] = signals[0]![1]! + 1n;
      signals[2]![1] = signals[2]![1]! - 1n;
      expect(await unweightedCheckPasses(proofs, signals)).toBe(true);
      expect(await outcome(proofs, signals.flat())).toBe('ProofInvalid()');
    });

    it('cannot use points at infinity', async () => {
      const zeroB = [0n, 0n, 0n, 0n];
      const variants: Record<string, (proof: Words) => void> = {
        'A at infinity': (proof) => proof.splice(0, 2, ...INFINITY),
        'B at infinity': (proof) => proof.splice(2, 4, ...zeroB),
        'C at infinity': (proof) => proof.splice(6, 2, ...INFINITY),
        'A and B at infinity': (proof) => proof.splice(0, 6, ...INFINITY, ...zeroB),
        'every point at infinity': (proof) => proof.fill(0n),
      };
      for (const [what, change] of Object.entries(variants)) {
        const { proofs, signals } = batch(3);
        change(proofs[1]!);
        expect([what, await outcome(proofs, signals.flat())]).toEqual([what, 'ProofInvalid()']);
      }
      // A whole batch of zero proofs with zero signals.
      expect(await outcome([Array<bigint>(8).fill(0n)], Array<bigint>(n).fill(0n))).toBe('ProofInvalid()');
      expect(await outcome([Array<bigint>(8).fill(0n), Array<bigint>(8).fill(0n)], Array<bigint>(2 * n).fill(0n))).toBe(
        'ProofInvalid()',
      );
    });

    it('cannot use a B on the twist curve but outside the G2 subgroup', async () => {
      // The twist equation is right: every proof's B satisfies it (words: x.c1, x.c0, y.c1, y.c0).
      for (const proof of proofWords) {
        const [y, rhs] = [[proof[5]!, proof[4]!] as Fq2, twistRhs([proof[3]!, proof[2]!])];
        expect(f2mul(y, y)).toEqual(rhs);
      }
      // A point on the twist with x = t + u: almost surely not in the subgroup of order R (the cofactor is ~2^254).
      let point: bigint[] | undefined;
      for (let t = 1n; point === undefined; t++) {
        const x: Fq2 = [t, 1n];
        const y = f2sqrt(twistRhs(x));
        if (y) {
          expect(f2mul(y, y)).toEqual(twistRhs(x));
          point = [x[1], x[0], y[1], y[0]];
        }
      }
      const { proofs, signals } = batch(3);
      proofs[1]!.splice(2, 4, ...point);
      expect(await singleOutcome(proofs[1]!, signals[1]!)).toBe('ProofInvalid()');
      expect(await outcome(proofs, signals.flat())).toBe('ProofInvalid()');
    });

    it('cannot pass coordinates at or above Q (the same points, unreduced) or points off the curve', async () => {
      for (const [what, index, delta] of [
        ['A.x + Q', 0, Q],
        ['A.y + Q', 1, Q],
        ['B.x.c1 + Q', 2, Q],
        ['B.y.c0 + Q', 5, Q],
        ['C.x + Q', 6, Q],
        ['C.y + Q', 7, Q],
        ['A off the curve', 0, 1n],
        ['B off the curve', 3, 1n],
        ['C off the curve', 7, 1n],
      ] as const) {
        for (const at of [0, 2]) {
          const { proofs, signals } = batch(3);
          proofs[at]![index] = proofs[at]![index]! + delta;
          expect([what, at, await outcome(proofs, signals.flat())]).toEqual([what, at, 'ProofInvalid()']);
        }
      }
    });
  });

  describe('gas', () => {
    it('costs less than k separate verifyProof transactions (k = 1, 2, 4, 8, 16), measured from receipts', async () => {
      // One real verifyProof transaction per distinct proof; a proof used twice costs the same twice.
      const single: bigint[] = [];
      for (const item of items) {
        const result = await verifyOnChain(verifier.contract, item.proof, item.publicSignals);
        expect(result.valid).toBe(true);
        single.push(result.gasUsed!);
      }
      const rows: { k: number; batch: bigint; singles: bigint }[] = [];
      for (const k of [1, 2, 4, 8, 16]) {
        const { proofs, signals } = batch(k);
        const method = verifier.contract.getFunction('verifyProofs');
        const receipt = await (await method.send(proofs, signals.flat())).wait();
        expect(receipt?.status).toBe(1);
        const used = receipt!.gasUsed;
        const singles = Array.from({ length: k }, (_, i) => single[i % single.length]!).reduce((a, b) => a + b, 0n);
        rows.push({ k, batch: used, singles });
        // The precompiles alone: k + 3 pairs, 2k + n + 2 ecMul, k + n ecAdd (EIP-1108), and the 21,000 base.
        const floor = 45_000 + 34_000 * (k + 3) + 6_000 * (2 * k + n + 2) + 150 * (k + n) + 21_000;
        expect(Number(used)).toBeGreaterThan(floor);
        if (k >= 2) expect(used).toBeLessThan(singles);
      }
      console.info(
        [
          `verifyProofs gas (${n} public inputs; one transaction each, from receipts):`,
          '     k   verifyProofs   k x verifyProof   ratio   per proof',
          ...rows.map(
            ({ k, batch: used, singles }) =>
              `${String(k).padStart(6)} ${String(used).padStart(14)} ${String(singles).padStart(17)} ${(Number(used) / Number(singles)).toFixed(3).padStart(7)} ${String(used / BigInt(k)).padStart(11)}`,
          ),
        ].join('\n'),
      );
      // Each proof past the first adds less than a verification of its own.
      const perProof = (rows[4]!.batch - rows[3]!.batch) / 8n;
      expect(perProof).toBeLessThan(single[0]!);
      expect(rows[3]!.batch).toBeLessThan(rows[3]!.singles / 2n);
    }, 120_000);

    it(`a batch of MAX_BATCH (${ZKAI_MAX_BATCH}) proofs fits well under a block's 30 M gas and EIP-7825's 2^24`, async () => {
      const { proofs, signals } = batch(ZKAI_MAX_BATCH);
      const method = verifier.contract.getFunction('verifyProofs');
      const receipt = await (await method.send(proofs, signals.flat())).wait();
      expect(receipt?.status).toBe(1);
      console.info(
        `verifyProofs of ${ZKAI_MAX_BATCH} proofs: ${receipt!.gasUsed} gas (${receipt!.gasUsed / BigInt(ZKAI_MAX_BATCH)} per proof)`,
      );
      expect(receipt!.gasUsed).toBeLessThan(2n ** 24n);
    }, 120_000);
  });
});
