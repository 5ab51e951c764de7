import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCircuit } from '../src/circuit/compile.ts';
import { CompileError } from '../src/errors.ts';
import { DEMO_CIRCUIT_PATH } from '../src/demo/range-commitment.ts';
import { runTs, testCircuit } from './helpers/run-cli.ts';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-compile-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('compile', () => {
  it('compiles the demo circuit with circomlib on the include path and reports its shape from the r1cs', async () => {
    const circuit = await compileCircuit(DEMO_CIRCUIT_PATH);
    expect(circuit.compilerVersion).toMatch(/^2\.2\.\d+$/);
    expect(circuit.info.outputs).toBe(1);
    expect(circuit.info.publicInputs).toBe(2);
    expect(circuit.info.privateInputs).toBe(17);
    // 16 values x 2 range checks x 33 + 2 x 33 + Poseidon(16) + Poseidon(2): about 1,937 with --O2.
    expect(circuit.info.constraints).toBeGreaterThan(1800);
    expect(circuit.info.constraints).toBeLessThan(2048);
    expect(circuit.info.wires).toBeGreaterThan(circuit.info.constraints - 100);
  });

  it('compiles a circuit once when two compilations of it run at the same time: the second waits and reuses it', async () => {
    const cacheDir = join(scratch, 'concurrent-in-process');
    const logs: string[][] = [[], []];
    const both = await Promise.all(
      logs.map((log) => compileCircuit(testCircuit('multiplier.circom'), { cacheDir, log: (line) => log.push(line) })),
    );
    expect(both.map((circuit) => circuit.cached).sort()).toEqual([false, true]);
    expect(both[0]!.dir).toBe(both[1]!.dir);
    // The second waited for the first (when it came while the first was compiling) rather than compiling too.
    expect(logs.flat().filter((line) => line.includes('waiting for process')).length).toBeLessThanOrEqual(1);
    expect(logs.flat().filter((line) => line.startsWith('compile: multiplier with circom'))).toHaveLength(1);
    // Nothing is left behind: no lock, no build folder.
    expect((await readdir(join(cacheDir, 'circuits'))).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it("surfaces circom's own error message for a circuit that does not compile", async () => {
    const error = await compileCircuit(testCircuit('non_quadratic.circom'), { cacheDir: scratch }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CompileError);
    const message = (error as CompileError).message;
    expect(message).toContain('Non quadratic constraints are not allowed');
    expect(message).toContain('non_quadratic.circom');
    expect(message).toMatch(/exited with code [1-9]/);
    // No half-built artifact is left in the cache.
    const entries = await readdir(join(scratch, 'circuits')).catch(() => []);
    expect(entries.filter((name) => !name.startsWith('.'))).toEqual([]);
    expect(entries.filter((name) => name.startsWith('.build'))).toEqual([]);
  });

  it('names a missing include before running the compiler', async () => {
    const error = await compileCircuit(testCircuit('missing_include.circom'), { cacheDir: scratch }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CompileError);
    expect((error as Error).message).toContain('include "no/such/file.circom" not found');
  });

  it('reuses the cache on a second run and recompiles when a source changes', async () => {
    const dir = join(scratch, 'cache-reuse');
    const source = join(scratch, 'mul.circom');
    await writeFile(source, await readFile(testCircuit('multiplier.circom'), 'utf8'));
    const first = await compileCircuit(source, { cacheDir: dir });
    const second = await compileCircuit(source, { cacheDir: dir });
    expect(first.cached).toBe(false);
    expect(second.cached).toBe(true);
    expect(second.id).toBe(first.id);
    expect(second.r1csPath).toBe(first.r1csPath);
    expect(second.info).toEqual(first.info);
    await writeFile(source, (await readFile(source, 'utf8')).replace('c <== a * b;', 'c <== a * b + 1;'));
    const changed = await compileCircuit(source, { cacheDir: dir });
    expect(changed.cached).toBe(false);
    expect(changed.id).not.toBe(first.id);
    const other = await compileCircuit(source, { cacheDir: dir, optimization: 1 });
    expect(other.id).not.toBe(changed.id);
  });

  it('two processes building the same circuit at once both succeed with one intact artifact, compiled once', async () => {
    const dir = join(scratch, 'concurrent');
    const script = join(scratch, 'build.mts');
    const compileModule = new URL('../src/circuit/compile.ts', import.meta.url).href;
    await writeFile(
      script,
      `import { compileCircuit } from ${JSON.stringify(compileModule)};\n` +
        `const c = await compileCircuit(${JSON.stringify(DEMO_CIRCUIT_PATH)}, { cacheDir: ${JSON.stringify(dir)} });\n` +
        `console.log(JSON.stringify({ id: c.id, r1cs: c.r1csPath, constraints: c.info.constraints, cached: c.cached }));\n`,
    );
    const runs = await Promise.all([runTs(script), runTs(script)]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const [a, b] = runs.map(
      (run) =>
        JSON.parse(run.stdout.trim().split('\n').pop() as string) as {
          id: string;
          r1cs: string;
          constraints: number;
          cached: boolean;
        },
    );
    expect(a!.id).toBe(b!.id);
    // The second process waited for the first one's lock and reused its result instead of compiling it again.
    expect([a!.cached, b!.cached].sort()).toEqual([false, true]);
    const circuitsDir = join(dir, 'circuits');
    const entries = await readdir(circuitsDir);
    expect(entries.filter((name) => name.startsWith('.build'))).toEqual([]);
    expect(entries.filter((name) => !name.startsWith('.'))).toHaveLength(1);
    const reused = await compileCircuit(DEMO_CIRCUIT_PATH, { cacheDir: dir });
    expect(reused.cached).toBe(true);
    expect(reused.info.constraints).toBe(a!.constraints);
  });
});
