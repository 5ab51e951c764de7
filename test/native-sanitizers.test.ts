/**
 * The native prover's C++ under AddressSanitizer and UndefinedBehaviorSanitizer: native/test/selftest.cpp, built here
 * with both (any report aborts it), fuzzes the zkey and wtns readers with random truncations and bit flips, then
 * proves; the proof must verify with snarkjs. Its `setup` form writes a circuit's initial zkey (which must be
 * snarkjs's, byte for byte) and runs `zkey new` on damaged r1cs and ptau files; its `poseidon` form hashes lists of
 * every width's sponge, which must be poseidon-lite's. The built program is cached in the test
 * cache by a hash of its sources.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheLayout } from '../src/cache/layout.ts';
import { compileCircuit } from '../src/circuit/compile.ts';
import { poseidonSpongeJs } from '../src/crypto/poseidon.ts';
import { poseidonLiteTables } from '../src/crypto/poseidon-native.ts';
import { requiredPtauPower } from '../src/setup/power.ts';
import { bytesOf, valueOf } from './helpers/field-bytes.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { getDemoFixture, type DemoFixture } from './helpers/fixture.ts';
import { testCircuit } from './helpers/run-cli.ts';

const NATIVE = fileURLToPath(new URL('../native/', import.meta.url));
const SOURCES = ['src/field.cpp', 'src/files.cpp', 'src/groth16.cpp', 'src/setup.cpp', 'test/selftest.cpp'];
const FLAGS = [
  '-std=c++17',
  '-O1',
  '-g',
  '-pthread',
  '-fsanitize=address,undefined',
  '-fno-sanitize-recover=all',
  '-fno-omit-frame-pointer',
];

let demo: DemoFixture;
let scratch: string;
let program: string;

beforeAll(async () => {
  demo = await getDemoFixture();
  scratch = await mkdtemp(join(tmpdir(), 'zkai-native-sanitizers-'));
  const hash = createHash('sha256').update(JSON.stringify(FLAGS));
  for (const dir of ['src', 'test'])
    for (const name of readdirSync(join(NATIVE, dir)).sort())
      hash.update(name).update(readFileSync(join(NATIVE, dir, name)));
  const dir = join(cacheLayout().nativeDir, 'selftest');
  program = join(dir, `selftest-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(program)) {
    await mkdir(dir, { recursive: true });
    const temp = `${program}.${process.pid}.tmp`;
    const build = spawnSync(
      process.env.CXX || 'g++',
      [...FLAGS, ...SOURCES.map((file) => join(NATIVE, file)), '-o', temp],
      {
        encoding: 'utf8',
      },
    );
    if (build.status !== 0) throw new Error(`the sanitizer build failed:\n${build.stderr}`);
    await rename(temp, program);
  }
}, 600_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await releaseCurves();
});

describe('native prover under the sanitizers', () => {
  it('survives 300 truncated or bit-flipped zkeys and witnesses, then proves what snarkjs verifies', async () => {
    const wtnsPath = join(scratch, 'demo.wtns');
    await snarkjs.wtns.calculate(demo.input as never, demo.circuit.wasmPath, wtnsPath);
    const seed = String(Date.now());
    const run = spawnSync(program, [demo.zkeyPath, wtnsPath, '300', seed], {
      encoding: 'utf8',
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1' },
      timeout: 300_000,
    });
    expect(run.stderr, `seed ${seed}: a sanitizer report`).not.toMatch(
      /ERROR: AddressSanitizer|runtime error:|LeakSanitizer/,
    );
    expect(run.status, `seed ${seed} (${run.signal ?? 'no signal'}): ${run.stderr}`).toBe(0);
    const out = JSON.parse(run.stdout) as {
      fuzz: { iterations: number; accepted: number; refused: number; fileMismatches: number };
      proof: unknown;
      publicSignals: string[];
    };
    expect(out.fuzz.iterations).toBe(300);
    // Each damaged zkey is parsed from a file too (the workers' way, through a window): the same outcome every time.
    expect(out.fuzz.fileMismatches).toBe(0);
    expect(out.fuzz.refused).toBeGreaterThanOrEqual(150); // every truncation at least
    expect(out.publicSignals).toEqual(demo.publicSignals);
    expect(await snarkjs.groth16.verify(demo.vkey as never, out.publicSignals, out.proof as never)).toBe(true);
  }, 300_000);

  it("writes snarkjs's initial zkey, and survives 200 truncated or bit-flipped r1cs and ptau files", async () => {
    const circuit = await compileCircuit(testCircuit('multiplier.circom'));
    // A ptau of the multiplier's own power 2 (a few KiB): every flip lands in bytes that matter, and each damaged copy
    // is cheap under the sanitizers.
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    const raw = join(scratch, 'pot2_raw.ptau');
    const ptau = join(scratch, 'pot2.ptau');
    await snarkjs.powersOfTau.newAccumulator(curve, requiredPtauPower(circuit.info), raw);
    await snarkjs.powersOfTau.preparePhase2(raw, ptau);
    const ours = join(scratch, 'multiplier.native.zkey');
    const theirs = join(scratch, 'multiplier.snarkjs.zkey');
    await snarkjs.zKey.newZKey(circuit.r1csPath, ptau, theirs);
    const seed = String(Date.now());
    const run = spawnSync(program, ['setup', circuit.r1csPath, ptau, ours, '200', seed], {
      encoding: 'utf8',
      env: {
        ...process.env,
        // A huge allocation a damaged file asks for is a std::bad_alloc the program counts, not an abort.
        ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1:allocator_may_return_null=1',
        UBSAN_OPTIONS: 'print_stacktrace=1',
      },
      timeout: 300_000,
    });
    expect(run.stderr, `seed ${seed}: a sanitizer report`).not.toMatch(
      /ERROR: AddressSanitizer|runtime error:|LeakSanitizer/,
    );
    expect(run.status, `seed ${seed} (${run.signal ?? 'no signal'}): ${run.stderr}`).toBe(0);
    const out = JSON.parse(run.stdout) as { fuzz: { iterations: number; accepted: number; refused: number } };
    expect(out.fuzz.iterations).toBe(200);
    expect(out.fuzz.refused).toBeGreaterThanOrEqual(90); // nearly every truncation
    expect(readFileSync(ours).equals(readFileSync(theirs)), 'the zkeys differ').toBe(true);
  }, 300_000);

  it("hashes lists of 1 to 80 elements at every width as poseidon-lite does (the sponge's bounds under the sanitizers)", async () => {
    const { constants, mds } = poseidonLiteTables();
    const tables = join(scratch, 'poseidon-tables.bin');
    await writeFile(tables, Buffer.concat(constants.flatMap((c, index) => [c, mds[index] as Uint8Array])));
    const lists = Array.from({ length: 80 }, (_, length) =>
      Array.from({ length: length + 1 }, (_, i) => (length === 0 ? 0n : randomField(i + length))),
    );
    const listsPath = join(scratch, 'poseidon-lists.bin');
    await writeFile(
      listsPath,
      Buffer.concat(
        lists.flatMap((list) => {
          const count = Buffer.alloc(4);
          count.writeUInt32LE(list.length);
          return [count, ...list.map((element) => Buffer.from(bytesOf(element)))];
        }),
      ),
    );
    const run = spawnSync(program, ['poseidon', tables, listsPath], {
      encoding: 'utf8',
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1' },
      timeout: 120_000,
    });
    expect(run.stderr, 'a sanitizer report').not.toMatch(/ERROR: AddressSanitizer|runtime error:|LeakSanitizer/);
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { poseidon: string[]; plainMismatches: number };
    expect(out.poseidon).toEqual(lists.map((list) => poseidonSpongeJs(list).toString()));
    expect(out.plainMismatches).toBe(0); // the sparse partial rounds agree with the plain ones at every width
  }, 180_000);
});

/** A deterministic field element (below r) for the i-th test value: SHA-256 of i, top bits cleared. */
function randomField(i: number): bigint {
  const digest = createHash('sha256').update(String(i)).digest();
  digest[31] = (digest[31] as number) & 0x1f; // little-endian: the top byte, below 2^253 < r
  return valueOf(digest);
}
