/**
 * zkai's own Groth16 Solidity verifier template (MIT): one contract per verification key, which REVERTS with a custom
 * error on an invalid proof, a public input not below the scalar field, or a wrong number of public inputs, and
 * returns nothing on success. Reverting (where the snarkjs template returns `false`) makes `eth_estimateGas` honest:
 * the lowest gas limit that does not revert is one at which the verification succeeded.
 *
 * The contract is written for gas: the verification key is inlined as constants, the public inputs are folded into
 * `vk_x` with one ecMul and one ecAdd precompile call each, and the four-pair check is one pairing precompile call.
 */
import { createHash } from 'node:crypto';
import { id as keccakId } from 'ethers';
import { InputFileError } from '../errors.ts';
import { BN254_BASE_FIELD, BN254_SCALAR_FIELD } from '../verifier/types.ts';

/** Name of the contract {@link generateGroth16Verifier} emits unless told otherwise. */
export const ZKAI_VERIFIER_CONTRACT = 'ZkaiGroth16Verifier';

/** The ABI signature of the generated verifier's entry point. */
export const ZKAI_VERIFY_SIGNATURE = 'verifyProof(uint256[8],uint256[])';

/** The custom errors of the generated verifier, as ABI fragments (shared with the registry's error decoding). */
export const ZKAI_VERIFIER_ERRORS = [
  'error ProofInvalid()',
  'error PublicInputNotInField(uint256 index)',
  'error PublicInputCount(uint256 expected, uint256 got)',
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
 * The contract has one entry point, `verifyProof(uint256[8] proof, uint256[] publicSignals)`: `proof` is
 * `[A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y]` (the order of snarkjs's Solidity call data, flattened) and
 * the call reverts with `PublicInputCount`, `PublicInputNotInField(index)` or `ProofInvalid()` unless the proof
 * verifies. It also exposes `PUBLIC_INPUTS` and `VERIFICATION_KEY_ID` ({@link verificationKeyId}).
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
  add();
  add(`    uint256 public constant PUBLIC_INPUTS = ${n};`);
  add(`    bytes32 public constant VERIFICATION_KEY_ID = ${id};`);
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
  add('}');
  add();
  return lines.join('\n');
}

/** The 4-byte selector of an error or function signature, as 8 hex digits. */
function selector(signature: string): string {
  return keccakId(signature).slice(2, 10);
}
