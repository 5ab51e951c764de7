/**
 * zkai's own Groth16 Solidity verifier template (MIT): one contract per verification key, which REVERTS with a custom
 * error on an invalid proof, a public input not below the scalar field, or a wrong number of public inputs, and
 * returns nothing on success. Reverting (where the snarkjs template returns `false`) makes `eth_estimateGas` honest:
 * the lowest gas limit that does not revert is one at which the verification succeeded.
 *
 * The contract is written for gas: the verification key is inlined as constants, the public inputs are folded into
 * `vk_x` with one ecMul and one ecAdd precompile call each, and the four-pair check is one pairing precompile call.
 *
 * `verifyProofs` checks up to {@link ZKAI_MAX_BATCH} proofs of the key in one call with a random linear combination:
 * k + 3 pairs in one pairing call instead of 4k, with scalars the contract derives itself (Fiat-Shamir).
 */
import { createHash } from 'node:crypto';
import { id as keccakId } from 'ethers';
import { InputFileError } from '../errors.ts';
import { BN254_BASE_FIELD, BN254_SCALAR_FIELD } from '../verifier/types.ts';

/** Name of the contract {@link generateGroth16Verifier} emits unless told otherwise. */
export const ZKAI_VERIFIER_CONTRACT = 'ZkaiGroth16Verifier';

/** The ABI signature of the generated verifier's entry point. */
export const ZKAI_VERIFY_SIGNATURE = 'verifyProof(uint256[8],uint256[])';

/** The ABI signature of the generated verifier's batch entry point. */
export const ZKAI_VERIFY_BATCH_SIGNATURE = 'verifyProofs(uint256[8][],uint256[])';

/**
 * Most proofs one `verifyProofs` call takes (the contract's `MAX_BATCH`). A batch of k proofs with n public inputs
 * costs about 184,000 + 6,150 n gas plus 51,000 + 650 n per proof, transaction and calldata included (measured with
 * n = 3: 6.96 M gas for 128 proofs, 54,400 a proof), so the largest batch stays well under a 30 M block, and under the
 * 2^24 (16.7 M) gas cap of one transaction (EIP-7825) up to about 100 public inputs.
 */
export const ZKAI_MAX_BATCH = 128;

/** The custom errors of the generated verifier, as ABI fragments (shared with the registry's error decoding). */
export const ZKAI_VERIFIER_ERRORS = [
  'error ProofInvalid()',
  'error PublicInputNotInField(uint256 index)',
  'error PublicInputCount(uint256 expected, uint256 got)',
  'error BatchSize(uint256 max, uint256 got)',
] as const;

/** A snarkjs Groth16 verification key (`verification_key.json`), the fields the template reads. */
export interface Groth16VerificationKey {
  readonly protocol?: string;
  readonly curve?: string;
  readonly nPublic: number;
  readonly vk_alpha_1: readonly string[];
  readonly vk_beta_2: readonly (readonly string[])[];
  readonly vk_gamma_2: readonly (readonly string[])[];
  readonly vk_delta_2: readonly (readonly string[])[];
  readonly IC: readonly (readonly string[])[];
}

/** Options of {@link generateGroth16Verifier}. */
export interface Groth16TemplateOptions {
  /** Contract name. Default {@link ZKAI_VERIFIER_CONTRACT}. */
  readonly contractName?: string;
  /** Where the key came from, for error messages. */
  readonly source?: string;
}

function field(value: unknown, modulus: bigint, what: string, source: string): bigint {
  if (typeof value !== 'string' || !/^[0-9]+$/.test(value)) {
    throw new InputFileError(source, `verification key ${what} is not a decimal string`);
  }
  const number = BigInt(value);
  if (number >= modulus) throw new InputFileError(source, `verification key ${what} is not below the BN254 base field`);
  return number;
}

function g1(point: readonly string[] | undefined, what: string, source: string): [bigint, bigint] {
  if (!Array.isArray(point) || point.length < 2)
    throw new InputFileError(source, `verification key ${what} is not a G1 point`);
  if (point.length > 2 && point[2] !== '1') throw new InputFileError(source, `verification key ${what} is not affine`);
  return [
    field(point[0], BN254_BASE_FIELD, `${what}.x`, source),
    field(point[1], BN254_BASE_FIELD, `${what}.y`, source),
  ];
}

/** A G2 point in the precompile's order: x.c1, x.c0, y.c1, y.c0. */
function g2(
  point: readonly (readonly string[])[] | undefined,
  what: string,
  source: string,
): [bigint, bigint, bigint, bigint] {
  const [x, y, z] = Array.isArray(point) ? point : [];
  if (!Array.isArray(x) || !Array.isArray(y) || x.length !== 2 || y.length !== 2) {
    throw new InputFileError(source, `verification key ${what} is not a G2 point`);
  }
  if (z !== undefined && (z[0] !== '1' || z[1] !== '0'))
    throw new InputFileError(source, `verification key ${what} is not affine`);
  const f = (v: string | undefined, part: string) => field(v, BN254_BASE_FIELD, `${what}.${part}`, source);
  return [f(x[1], 'x.c1'), f(x[0], 'x.c0'), f(y[1], 'y.c1'), f(y[0], 'y.c0')];
}

/**
 * The circuit id the registry uses: SHA-256 of the verification key's curve points in a canonical order (nPublic,
 * alpha, beta, gamma, delta, IC), as a 0x-prefixed bytes32. Two keys with the same points have the same id whatever
 * the JSON formatting.
 *
 * @throws {InputFileError} when the key is malformed.
 */
export function verificationKeyId(vkey: Groth16VerificationKey, source = 'verification key'): string {
  const words = vkeyWords(vkey, source);
  const hash = createHash('sha256');
  for (const word of words) hash.update(word.toString(16).padStart(64, '0'), 'hex');
  return `0x${hash.digest('hex')}`;
}

interface ParsedKey {
  nPublic: number;
  alpha: [bigint, bigint];
  beta: [bigint, bigint, bigint, bigint];
  gamma: [bigint, bigint, bigint, bigint];
  delta: [bigint, bigint, bigint, bigint];
  ic: [bigint, bigint][];
}

function parseKey(vkey: Groth16VerificationKey, source: string): ParsedKey {
  if (vkey === null || typeof vkey !== 'object')
    throw new InputFileError(source, 'the verification key is not a JSON object');
  if (vkey.protocol !== undefined && vkey.protocol !== 'groth16') {
    throw new InputFileError(source, `the verification key is for ${String(vkey.protocol)}, not groth16`);
  }
  if (vkey.curve !== undefined && vkey.curve !== 'bn128') {
    throw new InputFileError(
      source,
      `the verification key is on curve ${String(vkey.curve)}; only bn128 (BN254) has EVM precompiles`,
    );
  }
  const nPublic = vkey.nPublic;
  if (!Number.isInteger(nPublic) || nPublic < 0)
    throw new InputFileError(source, 'verification key nPublic is not a non-negative integer');
  if (!Array.isArray(vkey.IC) || vkey.IC.length !== nPublic + 1) {
    throw new InputFileError(
      source,
      `verification key has ${Array.isArray(vkey.IC) ? vkey.IC.length : 'no'} IC points; nPublic = ${nPublic} needs ${nPublic + 1}`,
    );
  }
  return {
    nPublic,
    alpha: g1(vkey.vk_alpha_1, 'vk_alpha_1', source),
    beta: g2(vkey.vk_beta_2, 'vk_beta_2', source),
    gamma: g2(vkey.vk_gamma_2, 'vk_gamma_2', source),
    delta: g2(vkey.vk_delta_2, 'vk_delta_2', source),
    ic: vkey.IC.map((point, i) => g1(point, `IC[${i}]`, source)),
  };
}

function vkeyWords(vkey: Groth16VerificationKey, source: string): bigint[] {
  const key = parseKey(vkey, source);
  return [BigInt(key.nPublic), ...key.alpha, ...key.beta, ...key.gamma, ...key.delta, ...key.ic.flat()];
}

/**
 * Generate zkai's reverting Groth16 verifier for a verification key.
 *
 * The contract's entry point is `verifyProof(uint256[8] proof, uint256[] publicSignals)`: `proof` is
 * `[A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y]` (the order of snarkjs's Solidity call data, flattened) and
 * the call reverts with `PublicInputCount`, `PublicInputNotInField(index)` or `ProofInvalid()` unless the proof
 * verifies. It also exposes `PUBLIC_INPUTS` and `VERIFICATION_KEY_ID` ({@link verificationKeyId}).
 *
 * `verifyProofs(uint256[8][] proofs, uint256[] publicSignals)` verifies k proofs of the key at once (1 <= k <=
 * `MAX_BATCH`, else `BatchSize(max, k)`): `publicSignals` is flat, k * `PUBLIC_INPUTS` long, proof i's signals at
 * i * `PUBLIC_INPUTS` (else `PublicInputCount(k * n, length)`); a signal at or above r reverts with its flat index;
 * the call reverts with `ProofInvalid()` unless every proof verifies (it does not say which one failed).
 *
 * @throws {InputFileError} when the key is malformed, not Groth16, or not on BN254.
 */
export function generateGroth16Verifier(vkey: Groth16VerificationKey, options: Groth16TemplateOptions = {}): string {
  const source = options.source ?? 'verification key';
  const name = options.contractName ?? ZKAI_VERIFIER_CONTRACT;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new InputFileError(source, `contract name ${JSON.stringify(name)} is not a Solidity identifier`);
  const key = parseKey(vkey, source);
  const id = verificationKeyId(vkey, source);
  const n = key.nPublic;
  const hex = (v: bigint) => `0x${v.toString(16).padStart(64, '0')}`;
  const lines: string[] = [];
  const add = (text = '') => lines.push(text);

  add('// SPDX-License-Identifier: MIT');
  add('// Generated by zkai (src/chain/groth16-template.ts) from a Groth16 verification key. Do not edit.');
  add('pragma solidity ^0.8.20;');
  add();
  add(`/// @title Groth16 verifier for circuit ${id}`);
  add('/// @notice Reverts unless the proof verifies; returns nothing on success.');
  add(`contract ${name} {`);
  add('    /// @notice The pairing check failed, or a proof point is not on the curve or not below the base field.');
  add('    error ProofInvalid();');
  add('    /// @notice Public input `index` is not below the BN254 scalar field.');
  add('    error PublicInputNotInField(uint256 index);');
  add('    /// @notice The call passed `got` public inputs; this circuit has `expected`.');
  add('    error PublicInputCount(uint256 expected, uint256 got);');
  add('    /// @notice verifyProofs was given `got` proofs; it takes 1 to `max`.');
  add('    error BatchSize(uint256 max, uint256 got);');
  add();
  add(`    uint256 public constant PUBLIC_INPUTS = ${n};`);
  add(`    bytes32 public constant VERIFICATION_KEY_ID = ${id};`);
  add('    /// @notice The most proofs verifyProofs takes in one call.');
  add(`    uint256 public constant MAX_BATCH = ${ZKAI_MAX_BATCH};`);
  add();
  add(`    uint256 internal constant R = ${BN254_SCALAR_FIELD};`);
  add(`    uint256 internal constant Q = ${BN254_BASE_FIELD};`);
  add();
  const constant = (cname: string, value: bigint) => add(`    uint256 internal constant ${cname} = ${hex(value)};`);
  constant('ALPHA_X', key.alpha[0]);
  constant('ALPHA_Y', key.alpha[1]);
  for (const [label, point] of [
    ['BETA', key.beta],
    ['GAMMA', key.gamma],
    ['DELTA', key.delta],
  ] as const) {
    constant(`${label}_X1`, point[0]);
    constant(`${label}_X0`, point[1]);
    constant(`${label}_Y1`, point[2]);
    constant(`${label}_Y0`, point[3]);
  }
  key.ic.forEach(([x, y], i) => {
    constant(`IC${i}_X`, x);
    constant(`IC${i}_Y`, y);
  });
  // verifyProofs reads the moduli and the key from one literal it copies to memory, not from the constants above: a
  // constant used more often makes solc's optimizer load it with CODECOPY, in verifyProof too (R did: +140 gas).
  add('    /// @dev The moduli and the key for verifyProofs, 32-byte words: R, Q, alpha (x, y), beta, gamma, delta');
  add('    /// (x.c1, x.c0, y.c1, y.c0), IC0.x, IC0.y, IC1.x, ...');
  const table = [
    BN254_SCALAR_FIELD,
    BN254_BASE_FIELD,
    ...key.alpha,
    ...key.beta,
    ...key.gamma,
    ...key.delta,
    ...key.ic.flat(),
  ];
  add(`    bytes internal constant KEY_TABLE = hex"${table.map((v) => v.toString(16).padStart(64, '0')).join('')}";`);
  add();
  add('    /// @notice Verify a Groth16 proof; reverts with a custom error unless it verifies.');
  add('    /// @param proof [A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y]');
  add("    /// @param publicSignals the public signals, in the circuit's order");
  add('    function verifyProof(uint256[8] calldata proof, uint256[] calldata publicSignals) external view {');
  add(`        if (publicSignals.length != ${n}) revert PublicInputCount(${n}, publicSignals.length);`);
  add('        assembly ("memory-safe") {');
  add('            let p := mload(0x40)');
  add('            let ok := 1');
  add('            // vk_x = IC0 + sum of publicSignals[i] * IC(i+1), accumulated at p[0..64); scratch at p[64..160)');
  add('            mstore(p, IC0_X)');
  add('            mstore(add(p, 0x20), IC0_Y)');
  key.ic.slice(1).forEach((_, i) => {
    add(`            {`);
    add(`                let s := calldataload(add(publicSignals.offset, ${i * 32}))`);
    add(`                if iszero(lt(s, R)) {`);
    add(`                    mstore(0, shl(224, 0x${selector('PublicInputNotInField(uint256)')}))`);
    add(`                    mstore(4, ${i})`);
    add(`                    revert(0, 0x24)`);
    add(`                }`);
    add(`                mstore(add(p, 0x40), IC${i + 1}_X)`);
    add(`                mstore(add(p, 0x60), IC${i + 1}_Y)`);
    add(`                mstore(add(p, 0x80), s)`);
    add(`                ok := and(ok, staticcall(gas(), 0x07, add(p, 0x40), 0x60, add(p, 0x40), 0x40))`);
    add(`                ok := and(ok, staticcall(gas(), 0x06, p, 0x80, p, 0x40))`);
    add(`            }`);
  });
  add('            // Pairing input, 4 pairs of (G1, G2): (-A, B), (alpha, beta), (vk_x, gamma), (C, delta).');
  add('            // vk_x moves to the third pair first, before -A and B overwrite the accumulator.');
  add('            mstore(add(p, 0x180), mload(p))');
  add('            mstore(add(p, 0x1a0), mload(add(p, 0x20)))');
  add('            let ay := calldataload(add(proof, 0x20))');
  add('            ok := and(ok, lt(ay, Q))');
  add('            mstore(p, calldataload(proof))');
  add('            mstore(add(p, 0x20), mod(sub(Q, ay), Q))');
  add('            calldatacopy(add(p, 0x40), add(proof, 0x40), 0x80)');
  add('            mstore(add(p, 0xc0), ALPHA_X)');
  add('            mstore(add(p, 0xe0), ALPHA_Y)');
  add('            mstore(add(p, 0x100), BETA_X1)');
  add('            mstore(add(p, 0x120), BETA_X0)');
  add('            mstore(add(p, 0x140), BETA_Y1)');
  add('            mstore(add(p, 0x160), BETA_Y0)');
  add('            mstore(add(p, 0x1c0), GAMMA_X1)');
  add('            mstore(add(p, 0x1e0), GAMMA_X0)');
  add('            mstore(add(p, 0x200), GAMMA_Y1)');
  add('            mstore(add(p, 0x220), GAMMA_Y0)');
  add('            calldatacopy(add(p, 0x240), add(proof, 0xc0), 0x40)');
  add('            mstore(add(p, 0x280), DELTA_X1)');
  add('            mstore(add(p, 0x2a0), DELTA_X0)');
  add('            mstore(add(p, 0x2c0), DELTA_Y1)');
  add('            mstore(add(p, 0x2e0), DELTA_Y0)');
  add('            ok := and(ok, staticcall(gas(), 0x08, p, 0x300, p, 0x20))');
  add('            ok := and(ok, mload(p))');
  add('            if iszero(ok) {');
  add(`                mstore(0, shl(224, 0x${selector('ProofInvalid()')}))`);
  add('                revert(0, 4)');
  add('            }');
  add('        }');
  add('    }');
  addBatchVerifier(add, n, selector('ProofInvalid()'), selector('PublicInputNotInField(uint256)'));
  add('}');
  add();
  return lines.join('\n');
}

/**
 * Emit `verifyProofs`, the batch check of k proofs (A_i, B_i, C_i) with public inputs x_i, L_i = IC0 + sum_j x_ij
 * IC_j, by one pairing call with k + 3 pairs:
 *
 *   prod_i e(-r_i A_i, B_i) * e((sum_i r_i) alpha, beta) * e(sum_i r_i L_i, gamma) * e(sum_i r_i C_i, delta) == 1
 *
 * The left side is prod_i E_i^(r_i), where E_i = e(-A_i, B_i) e(alpha, beta) e(L_i, gamma) e(C_i, delta) is 1 exactly
 * when proof i verifies alone (GT has prime order r). sum_i r_i L_i is (sum r_i) IC0 + sum_j (sum_i r_i x_ij mod r)
 * IC_j: n + 1 ecMul in all, plus one for alpha and two per proof (r_i A_i, r_i C_i).
 */
function addBatchVerifier(add: (text?: string) => void, n: number, proofInvalid: string, notInField: string): void {
  const emit = (text: string) => add(`    ${text}`);
  emit('/// @notice Verify k Groth16 proofs of this key in one call; reverts with a custom error unless all verify.');
  emit('/// @dev One pairing call with k + 3 pairs (4k for k verifyProof calls), with a random linear combination:');
  emit('///   prod_i e(-r_i A_i, B_i) e((sum r_i) alpha, beta) e(sum r_i L_i, gamma) e(sum r_i C_i, delta) == 1.');
  emit('/// The product is prod_i E_i^r_i, with E_i == 1 exactly when proof i verifies alone (GT has prime order R).');
  emit('/// Fiat-Shamir: r_i = uint128(keccak256(seed, i)) | 1 (odd, so nonzero; never chosen by the caller), and');
  emit(
    '/// seed = keccak256(VERIFICATION_KEY_ID, k, keccak256(publicSignals), every proof word), so the batch is fixed',
  );
  emit(
    '/// before its scalars are known. A batch holding an invalid proof j passes for at most one value of r_j mod R',
  );
  emit('/// (the others fixed): at most 2^-127 per attempt (2^127 odd 128-bit values), about 2^127 hashes to grind.');
  emit(
    '/// Points are validated by the precompiles (ecMul: A_i, C_i below Q and on the curve; pairing: B_i below Q and',
  );
  emit('/// in the G2 subgroup); a failing precompile reverts with ProofInvalid at once.');
  emit('/// @param proofs k proofs, each [A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y]; 1 <= k <= MAX_BATCH');
  emit("/// @param publicSignals k * PUBLIC_INPUTS signals, flat: proof i's at i * PUBLIC_INPUTS");
  // publicSignals in memory: the same ABI, but not the calldata decoder of verifyProof's publicSignals, which solc would
  // then share between the two functions at 53 gas a call of verifyProof (a batch pays about 30 gas a signal).
  emit('function verifyProofs(uint256[8][] calldata proofs, uint256[] memory publicSignals) external view {');
  emit('    uint256 k = proofs.length;');
  emit('    if (k == 0 || k > MAX_BATCH) revert BatchSize(MAX_BATCH, k);');
  emit(`    if (publicSignals.length != k * ${n}) revert PublicInputCount(k * ${n}, publicSignals.length);`);
  emit('    // R at vk + 0x20, Q + 0x40, alpha + 0x60, beta + 0xa0, gamma + 0x120, delta + 0x1a0, IC0 + 0x220');
  emit('    bytes memory vk = KEY_TABLE;');
  emit('    assembly ("memory-safe") {');
  emit('        function fail() {');
  emit(`            mstore(0, shl(224, 0x${proofInvalid}))`);
  emit('            revert(0, 4)');
  emit('        }');
  emit('        function copyG2(to, from) {');
  emit('            mstore(to, mload(from))');
  emit('            mstore(add(to, 0x20), mload(add(from, 0x20)))');
  emit('            mstore(add(to, 0x40), mload(add(from, 0x40)))');
  emit('            mstore(add(to, 0x60), mload(add(from, 0x60)))');
  emit('        }');
  emit('        let rModulus := mload(add(vk, 0x20))');
  emit('        let signals := add(publicSignals, 0x20)');
  emit('        let signalCount := mload(publicSignals)');
  emit('        // Every signal below R, first: PublicInputNotInField(flat index).');
  emit('        for { let t := 0 } lt(t, signalCount) { t := add(t, 1) } {');
  emit('            if iszero(lt(mload(add(signals, shl(5, t))), rModulus)) {');
  emit(`                mstore(0, shl(224, 0x${notInField}))`);
  emit('                mstore(4, t)');
  emit('                revert(0, 0x24)');
  emit('            }');
  emit('        }');
  emit(
    `        // Memory: s[0..${n}) the sums of r_i x_ij mod R; c the sum of r_i C_i (+ ecMul scratch at c[0x40..0xa0));`,
  );
  emit("        // b the pairing input, (k + 3) pairs of 0xc0 bytes, which first holds the seed's preimage:");
  emit('        // VERIFICATION_KEY_ID, k, keccak256 of the signals, the proofs.');
  emit('        let s := mload(0x40)');
  emit(`        let c := add(s, ${n * 32})`);
  emit('        let b := add(c, 0xa0)');
  emit('        let sumR := 0');
  emit('        {');
  emit('            mstore(b, VERIFICATION_KEY_ID)');
  emit('            mstore(add(b, 0x20), k)');
  emit('            mstore(add(b, 0x40), keccak256(signals, shl(5, signalCount)))');
  emit('            calldatacopy(add(b, 0x60), proofs.offset, shl(8, k))');
  emit('            let seed := keccak256(b, add(0x60, shl(8, k)))');
  emit(`            for { let j := 0 } lt(j, ${n}) { j := add(j, 1) } { mstore(add(s, shl(5, j)), 0) }`);
  emit('            mstore(c, 0)');
  emit('            mstore(add(c, 0x20), 0)');
  emit('            for { let i := 0 } lt(i, k) { i := add(i, 1) } {');
  emit('                mstore(0, seed)');
  emit('                mstore(0x20, i)');
  emit('                let r := or(and(keccak256(0, 0x40), 0xffffffffffffffffffffffffffffffff), 1)');
  emit('                sumR := add(sumR, r) // at most MAX_BATCH * 2^128: below R, no reduction needed');
  emit('                let proof := add(proofs.offset, shl(8, i))');
  emit('                // Pair i: (-r_i A_i, B_i). ecMul refuses an A_i not on the curve or not below Q.');
  emit('                let q := add(b, mul(i, 0xc0))');
  emit('                calldatacopy(q, proof, 0x40)');
  emit('                mstore(add(q, 0x40), r)');
  emit('                if iszero(staticcall(gas(), 0x07, q, 0x60, q, 0x40)) { fail() }');
  emit('                let qModulus := mload(add(vk, 0x40))');
  emit('                mstore(add(q, 0x20), mod(sub(qModulus, mload(add(q, 0x20))), qModulus))');
  emit('                calldatacopy(add(q, 0x40), add(proof, 0x40), 0x80)');
  emit('                // c += r_i C_i');
  emit('                calldatacopy(add(c, 0x40), add(proof, 0xc0), 0x40)');
  emit('                mstore(add(c, 0x80), r)');
  emit('                if iszero(staticcall(gas(), 0x07, add(c, 0x40), 0x60, add(c, 0x40), 0x40)) { fail() }');
  emit('                if iszero(staticcall(gas(), 0x06, c, 0x80, c, 0x40)) { fail() }');
  emit('                // s_j += r_i x_ij');
  emit(`                let x := add(signals, mul(i, ${n * 32}))`);
  emit(`                for { let j := 0 } lt(j, ${n}) { j := add(j, 1) } {`);
  emit('                    let sj := add(s, shl(5, j))');
  emit('                    let rx := mulmod(r, mload(add(x, shl(5, j))), rModulus)');
  emit('                    mstore(sj, addmod(mload(sj), rx, rModulus))');
  emit('                }');
  emit('            }');
  emit('        }');
  emit('        // Pair k: ((sum r_i) alpha, beta).');
  emit('        let a := add(b, mul(k, 0xc0))');
  emit('        mstore(a, mload(add(vk, 0x60)))');
  emit('        mstore(add(a, 0x20), mload(add(vk, 0x80)))');
  emit('        mstore(add(a, 0x40), sumR)');
  emit('        if iszero(staticcall(gas(), 0x07, a, 0x60, a, 0x40)) { fail() }');
  emit('        copyG2(add(a, 0x40), add(vk, 0xa0))');
  emit('        // Pair k + 1: ((sum r_i) IC0 + sum_j s_j IC(j+1), gamma).');
  emit('        let v := add(a, 0xc0)');
  emit('        mstore(v, mload(add(vk, 0x220)))');
  emit('        mstore(add(v, 0x20), mload(add(vk, 0x240)))');
  emit('        mstore(add(v, 0x40), sumR)');
  emit('        if iszero(staticcall(gas(), 0x07, v, 0x60, v, 0x40)) { fail() }');
  emit(`        for { let j := 0 } lt(j, ${n}) { j := add(j, 1) } {`);
  emit('            let point := add(vk, add(0x260, shl(6, j)))');
  emit('            mstore(add(v, 0x40), mload(point))');
  emit('            mstore(add(v, 0x60), mload(add(point, 0x20)))');
  emit('            mstore(add(v, 0x80), mload(add(s, shl(5, j))))');
  emit('            if iszero(staticcall(gas(), 0x07, add(v, 0x40), 0x60, add(v, 0x40), 0x40)) { fail() }');
  emit('            if iszero(staticcall(gas(), 0x06, v, 0x80, v, 0x40)) { fail() }');
  emit('        }');
  emit('        copyG2(add(v, 0x40), add(vk, 0x120))');
  emit('        // Pair k + 2: (sum r_i C_i, delta).');
  emit('        let d := add(v, 0xc0)');
  emit('        mstore(d, mload(c))');
  emit('        mstore(add(d, 0x20), mload(add(c, 0x20)))');
  emit('        copyG2(add(d, 0x40), add(vk, 0x1a0))');
  emit('        // The pairing precompile refuses a B_i not below Q, not on the twist or not in the subgroup.');
  emit('        if iszero(staticcall(gas(), 0x08, b, mul(add(k, 3), 0xc0), 0, 0x20)) { fail() }');
  emit('        if iszero(mload(0)) { fail() }');
  emit('    }');
  emit('}');
}

/** The 4-byte selector of an error or function signature, as 8 hex digits. */
function selector(signature: string): string {
  return keccakId(signature).slice(2, 10);
}
