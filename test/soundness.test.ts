import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCircuit } from '../src/circuit/compile.ts';
import { readR1cs, violatedConstraints } from '../src/circuit/r1cs-constraints.ts';
import { assertSound, checkSoundness, computeWitness } from '../src/testing/soundness.ts';
import { DEMO_CIRCUIT_PATH, rangeCommitmentInput, sampleAges } from '../src/demo/range-commitment.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { testCircuit } from './helpers/run-cli.ts';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-sound-'));
});
afterAll(async () => {
  await releaseCurves();
  await rm(scratch, { recursive: true, force: true });
});

const require = createRequire(import.meta.url);
const { WitnessCalculatorBuilder } = require('circom_runtime') as {
  WitnessCalculatorBuilder: (
    code: Uint8Array,
    o: unknown,
  ) => Promise<{ calculateWTNSBin(input: unknown, s: boolean): Promise<Uint8Array> }>;
};

/** Overwrite wire `wire` of a .wtns buffer (section 2 holds n8-byte little-endian values) with `value`. */
function tamperWtns(wtns: Uint8Array, wire: number, value: bigint): Uint8Array {
  const copy = Buffer.from(wtns);
  let position = 12;
  let n8 = 32;
  for (let section = 0; section < copy.readUInt32LE(8); section += 1) {
    const type = copy.readUInt32LE(position);
    const size = Number(copy.readBigUInt64LE(position + 4));
    if (type === 1) n8 = copy.readUInt32LE(position + 12);
    if (type === 2) {
      const at = position + 12 + wire * n8;
      for (let i = 0; i < n8; i += 1) copy[at + i] = Number((value >> BigInt(8 * i)) & 0xffn);
    }
    position += 12 + size;
  }
  return copy;
}

describe('soundness helper', () => {
  it('finds every output and intermediate signal of the demo circuit pinned by its constraints', async () => {
    const circuit = await compileCircuit(DEMO_CIRCUIT_PATH);
    const report = await assertSound(circuit, rangeCommitmentInput(sampleAges(1), 18, 99) as never);
    expect(report.checkedSignals).toBe(report.candidateSignals);
    expect(report.checkedSignals).toBeGreaterThan(1800);
    expect(report.tamperingsTried).toBeGreaterThanOrEqual(report.checkedSignals);
    expect(report.unpinned).toEqual([]);
  });

  it('catches a deliberately unsound circuit and names the free signal', async () => {
    const circuit = await compileCircuit(testCircuit('unsound_square_root.circom'));
    const report = await checkSoundness(circuit, { square: 9 });
    expect(report.unpinned.map((s) => s.name)).toEqual(['main.root']);
    await expect(assertSound(circuit, { square: 9 })).rejects.toThrow(/main\.root \(wire 1\)/);
  });

  it('samples large circuits deterministically, always keeping the outputs', async () => {
    const circuit = await compileCircuit(DEMO_CIRCUIT_PATH);
    const input = rangeCommitmentInput(sampleAges(2), 18, 99) as never;
    const a = await checkSoundness(circuit, input, { maxSignals: 50 });
    const b = await checkSoundness(circuit, input, { maxSignals: 50 });
    expect(a.checkedSignals).toBe(50);
    expect(a).toEqual(b);
  });

  it('agrees with `snarkjs wtns check` on an honest and on a tampered witness', async () => {
    const circuit = await compileCircuit(DEMO_CIRCUIT_PATH);
    const input = rangeCommitmentInput(sampleAges(3), 18, 99);
    const r1cs = await readR1cs(circuit.r1csPath);
    const witness = await computeWitness(circuit.wasmPath, input as never);
    expect(violatedConstraints(r1cs, witness)).toEqual([]);
    const calculator = await WitnessCalculatorBuilder(await readFile(circuit.wasmPath), { memorySize: 1 });
    const honest = await calculator.calculateWTNSBin(input, true);
    await writeFile(join(scratch, 'honest.wtns'), honest);
    const silent = { debug() {}, info() {}, warn() {}, error() {} };
    expect(await snarkjs.wtns.check(circuit.r1csPath, join(scratch, 'honest.wtns'), silent)).toBe(true);
    const wire = r1cs.wires - 5; // an intermediate signal
    const tamperedValue = ((witness[wire] as bigint) + 1n) % r1cs.prime;
    await writeFile(join(scratch, 'tampered.wtns'), tamperWtns(honest, wire, tamperedValue));
    expect(await snarkjs.wtns.check(circuit.r1csPath, join(scratch, 'tampered.wtns'), silent)).toBe(false);
    witness[wire] = tamperedValue;
    expect(violatedConstraints(r1cs, witness).length).toBeGreaterThan(0);
  });
});
