import { readFile } from 'node:fs/promises';
import { InputFileError } from '../errors.ts';

/** A linear combination: wire index -> coefficient (field element). */
export type LinearCombination = Map<number, bigint>;

/** One R1CS constraint A * B = C over the witness. */
export interface Constraint {
  a: LinearCombination;
  b: LinearCombination;
  c: LinearCombination;
}

/** An r1cs file read whole: header numbers and every constraint. */
export interface R1cs {
  prime: bigint;
  wires: number;
  outputs: number;
  publicInputs: number;
  privateInputs: number;
  constraints: Constraint[];
}

/**
 * Read an r1cs file completely (iden3 format; coefficients are little-endian field elements in standard form).
 * Meant for testing circuits of modest size: every coefficient becomes a bigint.
 */
export async function readR1cs(path: string): Promise<R1cs> {
  const data = await readFile(path);
  if (data.toString('latin1', 0, 4) !== 'r1cs') throw new InputFileError(path, 'not an r1cs file (bad magic)');
  const sectionCount = data.readUInt32LE(8);
  let position = 12;
  const sections = new Map<number, { start: number; size: number }>();
  for (let index = 0; index < sectionCount; index += 1) {
    const type = data.readUInt32LE(position);
    const size = Number(data.readBigUInt64LE(position + 4));
    sections.set(type, { start: position + 12, size });
    position += 12 + size;
  }
  const header = sections.get(1);
  const body = sections.get(2);
  if (!header || !body) throw new InputFileError(path, 'r1cs file lacks its header or constraint section');
  let offset = header.start;
  const n8 = data.readUInt32LE(offset);
  const readField = (at: number): bigint => {
    let value = 0n;
    for (let i = n8 - 1; i >= 0; i -= 1) value = (value << 8n) | BigInt(data[at + i] as number);
    return value;
  };
  const prime = readField(offset + 4);
  offset += 4 + n8;
  const wires = data.readUInt32LE(offset);
  const outputs = data.readUInt32LE(offset + 4);
  const publicInputs = data.readUInt32LE(offset + 8);
  const privateInputs = data.readUInt32LE(offset + 12);
  const count = data.readUInt32LE(offset + 24);
  const constraints: Constraint[] = [];
  offset = body.start;
  const readCombination = (): LinearCombination => {
    const terms = data.readUInt32LE(offset);
    offset += 4;
    const combination: LinearCombination = new Map();
    for (let t = 0; t < terms; t += 1) {
      const wire = data.readUInt32LE(offset);
      combination.set(wire, readField(offset + 4));
      offset += 4 + n8;
    }
    return combination;
  };
  for (let index = 0; index < count; index += 1) {
    const a = readCombination();
    const b = readCombination();
    const c = readCombination();
    constraints.push({ a, b, c });
  }
  return { prime, wires, outputs, publicInputs, privateInputs, constraints };
}

function evaluate(combination: LinearCombination, witness: ReadonlyArray<bigint>, prime: bigint): bigint {
  let sum = 0n;
  for (const [wire, coefficient] of combination) sum += coefficient * (witness[wire] as bigint);
  return sum % prime;
}

/** Does the witness satisfy this constraint? */
export function constraintHolds(constraint: Constraint, witness: ReadonlyArray<bigint>, prime: bigint): boolean {
  const a = evaluate(constraint.a, witness, prime);
  const b = evaluate(constraint.b, witness, prime);
  const c = evaluate(constraint.c, witness, prime);
  return (a * b - c) % prime === 0n;
}

/** Indices of the constraints the witness violates (empty when it satisfies the whole system). */
export function violatedConstraints(r1cs: R1cs, witness: ReadonlyArray<bigint>): number[] {
  const violated: number[] = [];
  r1cs.constraints.forEach((constraint, index) => {
    if (!constraintHolds(constraint, witness, r1cs.prime)) violated.push(index);
  });
  return violated;
}
