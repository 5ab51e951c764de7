/**
 * Whole proofs of the native Groth16 prover (native/src): snarkjs verifies them, a tampered witness gives one it
 * refuses, bad files are typed errors (never a crash), and a raised cancel flag stops a proof. Its arithmetic is
 * tested alone in test/native-arithmetic.test.ts.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeProverAddon } from '../src/prover/native/addon.ts';
import { nativeProver } from '../src/prover/native/index.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { bytesOf, valueOf } from './helpers/field-bytes.ts';
import { getDemoFixture, type DemoFixture } from './helpers/fixture.ts';

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

let addon: NativeProverAddon;
let addonPath: string;

/** The `code` of what `run` throws (undefined when it does not throw). */
const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

beforeAll(async () => {
  const { status, addon: loaded } = await nativeProver();
  if (!status.available || !loaded)
    throw new Error(`the native prover is not available: ${status.available ? '' : status.reason}`);
  addon = loaded;
  addonPath = status.path;
}, 300_000); // builds the addon when npm install did not

afterAll(async () => {
  await releaseCurves();
});

describe('native Groth16 proofs', () => {
  let demo: DemoFixture;
  let zkey: Uint8Array;
  let wtns: Uint8Array;

  beforeAll(async () => {
    demo = await getDemoFixture();
    zkey = new Uint8Array(await readFile(demo.zkeyPath));
    const witness = { type: 'mem' } as { type: 'mem'; data?: Uint8Array };
    await snarkjs.wtns.calculate(demo.input as never, demo.circuit.wasmPath, witness as never);
    wtns = witness.data!;
  }, 600_000);

  it('proves what snarkjs verifies, with the same public signals, and a fresh proof each time', async () => {
    const key = addon.loadProvingKey(zkey);
    const first = await addon.prove(key, wtns, { threads: 2 });
    const second = await addon.prove(key, wtns, { threads: 1 });
    expect(first.publicSignals).toEqual(demo.publicSignals);
    expect(await snarkjs.groth16.verify(demo.vkey as never, first.publicSignals, first.proof as never)).toBe(true);
    expect(await snarkjs.groth16.verify(demo.vkey as never, second.publicSignals, second.proof as never)).toBe(true);
    expect(first.proof.pi_a).not.toEqual(second.proof.pi_a); // r and s are drawn for each proof
    expect(first.proof).toMatchObject({ protocol: 'groth16', curve: 'bn128' });
  });

  it("parses a key from its path (the workers' way: read through a window, never whole): same proofs; typed refusals", async () => {
    const fromFile = addon.loadProvingKey(demo.zkeyPath);
    const fromBytes = addon.loadProvingKey(zkey);
    expect({ ...fromFile, handle: undefined }).toEqual({ ...fromBytes, handle: undefined });
    const proved = await addon.prove(fromFile, wtns, { threads: 2 });
    expect(await snarkjs.groth16.verify(demo.vkey as never, proved.publicSignals, proved.proof as never)).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'zkai-native-path-'));
    try {
      expect(codeOf(() => addon.loadProvingKey(join(dir, 'missing.zkey')))).toBe('ZKEY_UNREADABLE');
      expect(() => addon.loadProvingKey(join(dir, 'missing.zkey'))).toThrow(/missing\.zkey: No such file/);
      expect(codeOf(() => addon.loadProvingKey(dir))).toBe('ZKEY_UNREADABLE');
      // open() would stop at the NUL and read the key before it: refused, as Node's fs refuses such paths.
      expect(() => addon.loadProvingKey(`${demo.zkeyPath}\u0000.not-this`)).toThrow(/contains a NUL character/);
      const cut = join(dir, 'cut.zkey');
      await writeFile(cut, zkey.subarray(0, zkey.length - 100));
      expect(codeOf(() => addon.loadProvingKey(cut))).toBe('ZKEY_INVALID');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a tampered witness gives a proof that does not verify', async () => {
    const key = addon.loadProvingKey(zkey);
    const tampered = wtns.slice();
    // The last witness value (an internal signal), plus one.
    const at = tampered.length - 32;
    tampered.set(bytesOf((valueOf(tampered.subarray(at, at + 32)) + 1n) % R), at);
    const { proof, publicSignals } = await addon.prove(key, tampered);
    expect(await snarkjs.groth16.verify(demo.vkey as never, publicSignals, proof as never)).toBe(false);
  });

  it('refuses bad files with typed errors: truncated, bit-flipped, another protocol, another circuit', async () => {
    const key = addon.loadProvingKey(zkey);
    // Truncations anywhere: always refused.
    for (let i = 0; i < 60; i++) {
      const length = Math.floor(Math.random() * zkey.length);
      expect(
        codeOf(() => addon.loadProvingKey(zkey.subarray(0, length))),
        `zkey cut at ${length}`,
      ).toBe('ZKEY_INVALID');
    }
    // Bit flips: refused, or (a flip that keeps every field element and point valid) a key whose proofs fail.
    for (let i = 0; i < 60; i++) {
      const flipped = zkey.slice();
      const at = Math.floor(Math.random() * flipped.length);
      flipped[at]! ^= 1 << Math.floor(Math.random() * 8);
      const code = codeOf(() => addon.loadProvingKey(flipped));
      expect([undefined, 'ZKEY_INVALID', 'ZKEY_NOT_GROTH16', 'ZKEY_WRONG_CURVE']).toContain(code);
    }
    const plonk = zkey.slice();
    // Section 1 (the header) is the first section: its protocol word follows 12 + 12 bytes of headers.
    new DataView(plonk.buffer).setUint32(24, 2, true);
    expect(codeOf(() => addon.loadProvingKey(plonk))).toBe('ZKEY_NOT_GROTH16');
    expect(codeOf(() => addon.loadProvingKey(new Uint8Array(0)))).toBe('ZKEY_INVALID');
    // Witnesses.
    for (let i = 0; i < 40; i++) {
      const length = Math.floor(Math.random() * wtns.length);
      await expect(addon.prove(key, wtns.subarray(0, length)).catch((e: { code: string }) => e.code)).resolves.toMatch(
        /^WITNESS_/,
      );
    }
    // The bare values (the end of the file), one short: the witness of another circuit.
    const values = wtns.subarray(wtns.length - key.signals * 32);
    const full = await addon.prove(key, values, { format: 'values' });
    expect(await snarkjs.groth16.verify(demo.vkey as never, full.publicSignals, full.proof as never)).toBe(true);
    const shorter = await addon
      .prove(key, values.subarray(32), { format: 'values' })
      .catch((e: { code: string }) => e.code);
    expect(shorter).toBe('WITNESS_MISMATCH');
  }, 120_000);

  it('refuses what could crash the process: a cancel word on a plain ArrayBuffer, an empty witness, a table of sections', async () => {
    const key = addon.loadProvingKey(zkey);
    // A plain ArrayBuffer can be resized or transferred while the proof reads it (it crashed the process).
    expect(() => addon.prove(key, wtns, { cancel: new Int32Array(1) })).toThrow(/SharedArrayBuffer/);
    const resizable = new (
      ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer
    )(4, { maxByteLength: 8 });
    expect(() => addon.prove(key, wtns, { cancel: new Int32Array(resizable) })).toThrow(/SharedArrayBuffer/);
    // Only a key loadProvingKey made (its handle carries the addon's type tag) is accepted.
    for (const fake of [{ handle: {} }, { handle: 1 }, {}, key.handle])
      expect(() => addon.prove(fake as never, wtns)).toThrow(/a key from loadProvingKey/);
    await expect(addon.prove(key, new Uint8Array(0), { format: 'values' })).rejects.toMatchObject({
      code: 'WITNESS_MISMATCH',
    });
    // 200,000 empty sections: refused at the count, before a table of them is built.
    const many = new Uint8Array(12 + 200_000 * 12);
    many.set(new TextEncoder().encode('zkey'), 0);
    new DataView(many.buffer).setUint32(4, 1, true);
    new DataView(many.buffer).setUint32(8, 200_000, true);
    expect(() => addon.loadProvingKey(many)).toThrow(/200000 sections \(at most 64 expected\)/);
  });

  it('a raised cancel flag stops the proof with NATIVE_CANCELLED', async () => {
    const key = addon.loadProvingKey(zkey);
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(cancel, 0, 1);
    await expect(addon.prove(key, wtns, { cancel })).rejects.toMatchObject({ code: 'NATIVE_CANCELLED' });
  });
});

describe('the first-use build', () => {
  it('builds into the cache once, under its lock, says so with one warning, and loads the result', async () => {
    // A stand-in compiler (CXX may carry arguments) that writes the real addon where -o says: the whole first-use path
    // (plan, lock, temporary file, rename, warning, load) runs without 20 seconds of compiling. The compiler is part
    // of the build id, so this is a build the repository's native/build does not have.
    const scratch = await mkdtemp(join(tmpdir(), 'zkai-native-build-'));
    const fake = join(scratch, 'fake-cxx.mjs');
    await writeFile(
      fake,
      `import { copyFileSync } from 'node:fs';\nconst args = process.argv.slice(2);\ncopyFileSync(${JSON.stringify(addonPath)}, args[args.indexOf('-o') + 1]);\n`,
    );
    const saved = process.env.CXX;
    process.env.CXX = `${process.execPath} ${fake}`;
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const cacheDir = join(scratch, 'cache');
      const first = await nativeProver({ cacheDir });
      expect(first.status).toMatchObject({ available: true, builtNow: true });
      expect(first.status.available && first.status.path.startsWith(join(cacheDir, 'native'))).toBe(true);
      const second = await nativeProver({ cacheDir });
      expect(second.status).toMatchObject({ available: true, builtNow: false });
      await new Promise((resolve) => setImmediate(resolve));
      const building = warnings.filter((warning) => (warning as { code?: string }).code === 'ZKAI_NATIVE_BUILDING');
      expect(building).toHaveLength(1);
      expect(building[0]!.message).toMatch(/building zkai's native prover for this machine into .*native/);
      // A caller that reports builds itself gets its callback instead of the warning.
      let called = 0;
      const third = await nativeProver({ cacheDir: join(scratch, 'other'), onBuild: () => (called += 1) });
      expect(third.status).toMatchObject({ available: true, builtNow: true });
      expect(called).toBe(1);
    } finally {
      process.off('warning', onWarning);
      if (saved === undefined) delete process.env.CXX;
      else process.env.CXX = saved;
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
