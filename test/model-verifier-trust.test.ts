/**
 * The verifier decides what a model proof means: the "verify with:" hints that `zkai model prove` and `zkai model
 * accuracy` print name every flag the verifier needs (placeholders in capitals only for what the verifier must bring
 * from its own trusted source), run as printed once those are filled; and `zkai model verify` takes the fractional
 * bits, the input range and the task from the verifier, naming the likely cause when they differ from the proof's.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellWord, type CommandHint } from '../src/cli/data-commands.ts';
import { parseSchema } from '../src/data/schema.ts';
import { TINY_TEST_ROWS, TINY_TEST_SCHEMA, TINY_MODEL_SPEC, TINY_SCHEMA_SPEC } from './helpers/chain-attestation.ts';
import { fillArgv, fillHint, killRunningHints, parsePrintedHint, runHint, type PrintedHint } from './helpers/hints.ts';
import { runCli, type CliRun } from './helpers/run-cli.ts';

const ONNX = fileURLToPath(new URL('./fixtures/models/mlp.onnx', import.meta.url));

/** A word of the printed command (quoted as the CLI quotes it), so a test can swap it. */
const word = (value: string) => shellWord(value);

/** The command with one part replaced (the part must occur, once). */
function swap(command: string, from: string, to: string): string {
  expect(command.split(from).length - 1, `"${from}" once in ${command}`).toBe(1);
  return command.replace(from, to);
}

/** Whether the printed command has `flag value` (the value quoted as the CLI quotes it). */
function hasFlag(hint: PrintedHint, flag: string, value: string): boolean {
  return ` ${hint.command} `.includes(` ${flag} ${word(value)} `);
}

/** Run a filled hint through the shell; --json goes right after zkai when asked. */
async function run(command: string, options: { json?: boolean } = {}): Promise<CliRun> {
  return runHint(options.json ? command.replace(/^zkai /, 'zkai --json ') : command, { timeoutMs: 300_000 });
}

/** Every file of these tests lives here: a folder whose name has a space and a quote, so a hint must quote its paths. */
let scratch: string;
let dir: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-verifier-trust-'));
  dir = join(scratch, "the verifier's folder");
  await mkdir(dir);
});
afterAll(async () => {
  killRunningHints();
  await rm(scratch, { recursive: true, force: true });
});

describe('zkai model prove: the printed hint names every flag the verifier needs, and runs', () => {
  it('an ONNX model: --frac-bits and the input range in the hint; a rounded input is reported; a wrong quantization is named', async () => {
    const input = join(dir, 'input.json');
    await writeFile(input, JSON.stringify([0.3, -1, 0.5, 2])); // 0.3 is off the 8-bit grid (76.8 / 256)
    const proof = join(dir, 'inference.json');
    const vkey = join(dir, 'inference.vkey.json');
    const proved = await runCli(
      [
        'model',
        'prove',
        '--model',
        ONNX,
        '--input-min',
        '-2',
        '--input-max',
        '2',
        '--frac-bits',
        '8',
        '--input',
        input,
        '--out',
        proof,
        '--vkey-out',
        vkey,
        '--salt-out',
        join(dir, 'salt.json'),
      ],
      { timeoutMs: 600_000 },
    );
    expect(proved.code, proved.stderr).toBe(0);
    expect(proved.stdout).toMatch(
      /input {8}1 of 4 values are off the 8-bit fixed-point grid and were ROUNDED \(largest error 0\.000781 at input\[0\]; rounded: 0\): the proof is about the rounded input/,
    );

    const hint = parsePrintedHint(proved.stdout);
    expect(hasFlag(hint, '--frac-bits', '8'), hint.command).toBe(true);
    expect(hasFlag(hint, '--input-min', '-2'), hint.command).toBe(true);
    expect(hasFlag(hint, '--input-max', '2'), hint.command).toBe(true);
    expect(hasFlag(hint, '--model', ONNX), hint.command).toBe(true);
    expect(hasFlag(hint, '--proof', proof), hint.command).toBe(true); // quoted: the folder's name has a space and a quote
    // no placeholder: every value here is one the verifier checks as printed
    expect(hint.placeholders).toEqual({});
    expect(hint.command).not.toMatch(/ [A-Z][A-Z0-9_]*(\.json)?( |$)/);
    const command = fillHint(hint, {});
    const ok = await run(command);
    expect(ok.code, `${command}\n${ok.stderr}`).toBe(0);
    expect(ok.stdout).toMatch(/^OK: the proof is valid: model "torch_jit" .*8 fractional bits\) predicts class \d/);

    // the verifier states the quantization: without it, an error that says why; with another, INVALID and the cause
    const noBits = await run(swap(command, ' --frac-bits 8', ''));
    expect(noBits.code).toBe(1);
    expect(noBits.stderr).toContain('give --frac-bits N: the fractional bits you expect the model');
    expect(noBits.stderr).toContain('the verifier decides them');
    const otherBits = await run(swap(command, ' --frac-bits 8', ' --frac-bits 6'), { json: true });
    expect(otherBits.code).toBe(1);
    expect(JSON.parse(otherBits.stdout)).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      likelyCause: expect.stringContaining('this proof was made with --frac-bits 8, you gave 6'),
    });
    const otherRange = await run(swap(command, ' --input-max 2', ' --input-max 3'));
    expect(otherRange.code).toBe(1);
    expect(otherRange.stdout).toMatch(/^INVALID \(claim-mismatch\): modelHash/);
    expect(otherRange.stdout).toContain('imported with another input range (you gave --input-min -2 --input-max 3');
    const noRange = await run(swap(command, ' --input-min -2', ''));
    expect(noRange.code).toBe(1);
    expect(noRange.stderr).toContain('give --input-min and --input-max');

    // --json reports the rounding, and the same hint as data
    const json = await runCli(
      [
        '--json',
        '--quiet',
        'model',
        'prove',
        '--model',
        ONNX,
        '--input-min',
        '-2',
        '--input-max',
        '2',
        '--frac-bits',
        '8',
        '--input',
        input,
        '--out',
        join(dir, 'inference2.json'),
        '--input-visibility',
        'private',
      ],
      { timeoutMs: 600_000 },
    );
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as { inputRounding: unknown; verifyWith: CommandHint; fracBits: number };
    expect(result.inputRounding).toEqual({
      rounded: 1,
      of: 4,
      maxError: Math.abs(77 / 256 - 0.3),
      maxErrorIndex: 0,
      firstIndexes: [0],
    });
    expect(result.fracBits).toBe(8);
    expect(result.verifyWith.placeholders).toEqual({});
    const argv = fillArgv(result.verifyWith.argv, {});
    expect(argv).toEqual([
      'model',
      'verify',
      '--vkey',
      expect.any(String),
      '--proof',
      join(dir, 'inference2.json'),
      '--model',
      ONNX,
      '--frac-bits',
      '8',
      '--input-min',
      '-2',
      '--input-max',
      '2',
    ]);
    const fromJson = await runCli(argv);
    expect(fromJson.code, fromJson.stderr).toBe(0);
    expect(fromJson.stdout).toMatch(/^OK: .*on the input, which is private/);
  }, 900_000);

  it('a proof file cannot choose the input layout: a visibility that contradicts the key is refused', async () => {
    const proof = join(dir, 'inference.json');
    const vkey = join(dir, 'inference.vkey.json');
    const file = JSON.parse(await readFile(proof, 'utf8')) as { visibility: string };
    file.visibility = 'private';
    const relabelled = join(dir, 'relabelled.json');
    await writeFile(relabelled, JSON.stringify(file));
    const refused = await runCli([
      'model',
      'verify',
      '--vkey',
      vkey,
      '--proof',
      relabelled,
      '--model',
      ONNX,
      '--input-min',
      '-2',
      '--input-max',
      '2',
      '--frac-bits',
      '8',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      "INVALID (malformed): the file says its input is private, but the verification key's circuit has 4 public signals: the layout of a hashed input",
    );
  });
});

describe('zkai model accuracy: the printed hint names the task and the quantization, with placeholders the verifier fills', () => {
  it("runs as printed once TEST_SET_COMMITMENT.json and MIN_ACCURACY are filled; a verifier's other task or bits are named", async () => {
    const model = join(dir, 'tiny.json');
    const schema = join(dir, 'tiny-schema.json');
    const data = join(dir, 'tiny.csv');
    await writeFile(model, JSON.stringify(TINY_MODEL_SPEC));
    await writeFile(schema, JSON.stringify(TINY_SCHEMA_SPEC));
    expect(parseSchema(TINY_SCHEMA_SPEC).hash).toBe(TINY_TEST_SCHEMA.hash); // the suite's shared accuracy circuit
    await writeFile(data, `x0,x1,label\n${TINY_TEST_ROWS.map((r) => `${r.x0},${r.x1},${r.label}`).join('\n')}\n`);
    const bundle = join(dir, 'tiny.bundle.json');
    const commitment = join(dir, 'tiny.commitment.json');
    const committed = await runCli([
      'data',
      'commit',
      '--schema',
      schema,
      '--data',
      data,
      '--bundle',
      bundle,
      '--public',
      commitment,
    ]);
    expect(committed.code, committed.stderr).toBe(0);

    const proof = join(dir, 'accuracy.json');
    const vkey = join(dir, 'accuracy.vkey.json');
    const proved = await runCli(
      [
        'model',
        'accuracy',
        '--model',
        model,
        '--frac-bits',
        '4',
        '--bundle',
        bundle,
        '--schema',
        schema,
        '--label',
        'label',
        '--samples-per-chunk',
        '2',
        '--out',
        proof,
        '--vkey-out',
        vkey,
      ],
      { timeoutMs: 600_000 },
    );
    expect(proved.code, proved.stderr).toBe(0);
    expect(proved.stdout).toContain('predicts 4 of 5 test records right');

    const hint = parsePrintedHint(proved.stdout);
    expect(Object.keys(hint.placeholders).sort()).toEqual(['MIN_ACCURACY', 'TEST_SET_COMMITMENT.json']);
    expect(hint.placeholders['TEST_SET_COMMITMENT.json']).toContain('from your own trusted source');
    expect(hasFlag(hint, '--frac-bits', '4'), hint.command).toBe(true);
    expect(hasFlag(hint, '--label', 'label'), hint.command).toBe(true);
    expect(hasFlag(hint, '--scale', '1'), hint.command).toBe(true);
    expect(hint.command).toContain(' --all-features ');
    expect(hasFlag(hint, '--schema', schema), hint.command).toBe(true);
    expect(hasFlag(hint, '--model', model), hint.command).toBe(true);

    const trueValues = { 'TEST_SET_COMMITMENT.json': commitment, MIN_ACCURACY: '0.8' };
    const command = fillHint(hint, trueValues);
    const ok = await run(command);
    expect(ok.code, `${command}\n${ok.stdout}\n${ok.stderr}`).toBe(0);
    expect(ok.stdout).toMatch(
      /^OK: the proof is valid: model "registry-tiny" .* predicts the label "label" of 4 of the 5 records/,
    );
    const tooHigh = await run(fillHint(hint, { ...trueValues, MIN_ACCURACY: '0.9' }));
    expect(tooHigh.code).toBe(1);
    expect(tooHigh.stdout).toMatch(/^INVALID \(below-threshold\)/);

    // another quantization: both hashes differ, and both are traced to the fractional bits
    const otherBits = await run(swap(command, ' --frac-bits 4', ' --frac-bits 5'));
    expect(otherBits.code).toBe(1);
    expect(otherBits.stdout).toMatch(/^INVALID \(claim-mismatch\)/);
    expect(otherBits.stdout).toContain('likely cause: this proof was made with --frac-bits 4, you gave 5');
    expect(otherBits.stdout).toContain(
      "your task (label, features, scale) is the proof's at --frac-bits 4: only the fractional bits differ",
    );
    // another task: the differing part is named, and the verdict stays INVALID
    const otherFeatures = await run(swap(command, ' --all-features', ' --features x1,x0'), { json: true });
    expect(otherFeatures.code).toBe(1);
    expect(JSON.parse(otherFeatures.stdout)).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      likelyCause: expect.stringContaining(
        "features: you gave x1,x0, the file states x0,x1); the task the file states is the proof's",
      ),
    });
    const otherScale = await run(swap(command, ' --scale 1', ' --scale 0.5'));
    expect(otherScale.code).toBe(1);
    expect(otherScale.stdout).toContain('scale: you gave 0.5, the file states 1');

    // a file that lies about its task changes nothing: the verifier's task decides, the lie only shows in the diagnosis
    const file = JSON.parse(await readFile(proof, 'utf8')) as { task: { label: string; scale: number } };
    file.task.scale = 0.5;
    const lying = join(dir, 'lying.json');
    await writeFile(lying, JSON.stringify(file));
    const lyingCommand = swap(command, ` --proof ${word(proof)}`, ` --proof ${word(lying)}`);
    const lyingOk = await run(lyingCommand);
    expect(lyingOk.code, lyingOk.stderr).toBe(0);
    const lyingScale = await run(swap(lyingCommand, ' --scale 1', ' --scale 0.5'));
    expect(lyingScale.code).toBe(1);
    // (scale 0.5 at 5 bits gives the proof's task hash, but the model hash pins the bits at 4: no false lead)
    expect(lyingScale.stdout).toContain(
      "likely cause: the task you gave is the one the file states, but the proof's task hash is neither",
    );
    expect(lyingScale.stdout).not.toContain('--frac-bits 5');

    // every part of the task, and the bits, are required from the verifier
    for (const [part, message] of [
      [' --label label', 'give --label COLUMN'],
      [' --scale 1', 'give --scale X'],
      [' --frac-bits 4', 'give --frac-bits N'],
      [' --all-features', 'or --all-features'],
    ] as const) {
      const without = await run(swap(command, part, ''));
      expect(without.code, part).toBe(1);
      expect(without.stderr, part).toContain(message);
    }
  }, 900_000);
});
