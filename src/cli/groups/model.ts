/**
 * `zkai model`: its commands and options, declared once (`spec.ts`); the actions (`../model-commands.ts`,
 * `../accuracy-commands.ts`) load when one runs.
 */
import type { Command } from 'commander';
import { addCommand, lazy, type CommandSpec, type FlagsOf, type GroupContext } from './spec.ts';
import { CONTEXT, PTAU, TRUST_KEY, VKEY_OUT, ZKEY } from './shared.ts';

/** An ONNX model's input range (last on every model command). */
const RANGE = [
  { flags: '--input-min <x>', help: 'for an ONNX model: the smallest value an input can take' },
  { flags: '--input-max <x>', help: 'for an ONNX model: the largest value an input can take' },
] as const;
const MODEL = { flags: '--model <file>', help: 'native model JSON or ONNX file', required: true } as const;
const MAX_DISAGREEMENT = {
  flags: '--max-disagreement <n>',
  help: 'with --frac-bits auto: accept a setting at which up to n samples prove another class than the float model (default 0)',
} as const;
const PUBLIC_INPUT = { flags: '--public-input', help: 'same as --input-visibility public' } as const;
const MODEL_SALT = {
  flags: '--model-salt <file>',
  help: 'keep the weights PRIVATE: prove against the model commitment made by zkai model commit (its salt file)',
} as const;
const FRAC_BITS = { flags: '--frac-bits <n>', help: 'fractional bits of the fixed point', default: '8' } as const;

export const MODEL_IMPORT = {
  name: 'import',
  arguments: [['<file.onnx>', 'an ONNX model (PyTorch or tf2onnx export of an MLP or a small CNN)']],
  description: "convert an ONNX model into zkai's native JSON model (Softmax at the output becomes argmax)",
  options: [
    { flags: '--out <file>', help: 'where to write the native model JSON', required: true },
    { flags: '--name <name>', help: 'the model name (default: the ONNX graph name)' },
    ...RANGE,
  ],
} as const satisfies CommandSpec;
export type ModelImportFlags = FlagsOf<typeof MODEL_IMPORT>;

export const MODEL_INSPECT = {
  name: 'inspect',
  arguments: [['<model>', 'native model JSON or ONNX file']],
  description:
    'layers, quantization, constraint estimate per layer and float-vs-quantized agreement, before any setup is paid for',
  options: [
    {
      flags: '--frac-bits <n>',
      help: "fractional bits of the fixed point, or auto (calibrate on --samples: the fewest at which every sample keeps the float model's class)",
      default: '8',
    },
    {
      flags: '--samples <file>',
      help: 'sample inputs (a JSON array, or {inputs, labels}) to calibrate on and compare float (onnxruntime for ONNX) and quantized predictions',
    },
    MAX_DISAGREEMENT,
    { flags: '--input-visibility <v>', help: 'estimate for an input that is hashed (default), public or private' },
    {
      flags: '--weights <v>',
      help: 'estimate for weights fixed in the circuit (default) or hashed (private, committed)',
    },
    PUBLIC_INPUT,
    ...RANGE,
  ],
} as const satisfies CommandSpec;
export type ModelInspectFlags = FlagsOf<typeof MODEL_INSPECT>;

export const MODEL_COMMIT = {
  name: 'commit',
  description: "commit to a model's weights for private-weight proofs: a public salted commitment and its PRIVATE salt",
  options: [
    MODEL,
    { flags: '--out <file>', help: 'where to write the public commitment JSON', required: true },
    { flags: '--salt-out <file>', help: 'where to write the PRIVATE salt (mode 0600)', required: true },
    FRAC_BITS,
    ...RANGE,
  ],
} as const satisfies CommandSpec;
export type ModelCommitFlags = FlagsOf<typeof MODEL_COMMIT>;

export const MODEL_PROVE = {
  name: 'prove',
  description:
    "prove the model's predicted class on an input (default: input private, a salted commitment to it public)",
  options: [
    MODEL,
    { flags: '--input <file>', help: 'the input: a JSON array of numbers', required: true },
    { flags: '--out <file>', help: 'where to write the inference proof JSON', required: true },
    {
      flags: '--salt-out <file>',
      help: "where to write the input commitment's salt (PRIVATE; needed unless --public-input)",
    },
    {
      flags: '--input-visibility <v>',
      help: 'hashed (default: a salted commitment is public), public (the values are public) or private (nothing about the input is public)',
    },
    PUBLIC_INPUT,
    MODEL_SALT,
    {
      flags: '--frac-bits <n>',
      help: 'fractional bits of the fixed point, or auto (calibrate on --samples, as zkai model inspect does; the choice is printed, and the verifier needs it)',
      default: '8',
    },
    {
      flags: '--samples <file>',
      help: 'with --frac-bits auto: sample inputs (a JSON array, or {inputs, labels}) to calibrate on',
    },
    MAX_DISAGREEMENT,
    VKEY_OUT,
    PTAU,
    ZKEY,
    CONTEXT,
    ...RANGE,
  ],
} as const satisfies CommandSpec;
export type ModelProveFlags = FlagsOf<typeof MODEL_PROVE>;

export const MODEL_VERIFY = {
  name: 'verify',
  description:
    'verify an inference or accuracy proof against the model, quantization and task YOU state (exit code 1 if invalid); nothing that decides the verdict is taken from the proof file',
  options: [
    { flags: '--vkey <file>', help: "verification key of the model's circuit", required: true },
    TRUST_KEY,
    { flags: '--proof <file>', help: 'inference proof JSON', required: true },
    {
      flags: '--model <file>',
      help: 'for fixed-weight proofs: the model you trust (native JSON or ONNX); its hash must match the proof',
    },
    {
      flags: '--model-commitment <decimal>',
      help: 'for private-weight proofs: the published model commitment you trust',
    },
    {
      flags: '--frac-bits <n>',
      help: 'REQUIRED with --model, and for accuracy proofs: the fractional bits you expect the model quantized with (part of the model hash and of the task; no default)',
    },
    { flags: '--class <n>', help: 'require this predicted class (default: the class the proof claims, printed)' },
    { flags: '--input-hash <decimal>', help: 'require this input commitment (default: the one the proof claims)' },
    { flags: '--input <file>', help: 'for a public-input proof: require this input (JSON array of numbers)' },
    { flags: '--commitment <file>', help: "for an accuracy proof: the test set's published commitment JSON" },
    {
      flags: '--root <decimal>',
      help: "for an accuracy proof: the test set's root (with --count, instead of --commitment)",
    },
    { flags: '--count <n>', help: "for an accuracy proof: the test set's record count" },
    { flags: '--schema <file>', help: "for an accuracy proof: the test set's schema" },
    { flags: '--min-accuracy <x>', help: 'for an accuracy proof: the lowest accuracy you accept, a fraction (0.95)' },
    { flags: '--label <column>', help: 'for an accuracy proof (required): the label column' },
    {
      flags: '--features <columns>',
      help: 'for an accuracy proof (this or --all-features required): the comma-separated feature columns, in model input order',
    },
    {
      flags: '--all-features',
      help: 'for an accuracy proof: the features are every column but the label and the subject id, in schema order',
    },
    { flags: '--scale <x>', help: 'for an accuracy proof (required): model input = column value x scale' },
    ...RANGE,
  ],
} as const satisfies CommandSpec;
export type ModelVerifyFlags = FlagsOf<typeof MODEL_VERIFY>;

export const MODEL_ACCURACY = {
  name: 'accuracy',
  description:
    "prove a model's accuracy on a committed test set (a bundle from zkai data commit) without revealing the records",
  options: [
    MODEL,
    { flags: '--bundle <file>', help: "the test set's private bundle (zkai data commit)", required: true },
    { flags: '--schema <file>', help: "the test set's schema", required: true },
    {
      flags: '--label <column>',
      help: 'the label column: integer from 0 (class k is the value k) or category (class k is its k-th value)',
      required: true,
    },
    {
      flags: '--features <columns>',
      help: 'comma-separated model input columns, in model input order (default: every column but the label and subject id)',
    },
    { flags: '--scale <x>', help: 'model input = column value x scale (default 1); must be exact at the fixed point' },
    { flags: '--out <file>', help: 'where to write the accuracy proof JSON', required: true },
    { flags: '--samples-per-chunk <n>', help: 'test records per proof (default: as many as fill a 2^14 circuit)' },
    MODEL_SALT,
    FRAC_BITS,
    VKEY_OUT,
    PTAU,
    ZKEY,
    CONTEXT,
    ...RANGE,
  ],
} as const satisfies CommandSpec;
export type ModelAccuracyFlags = FlagsOf<typeof MODEL_ACCURACY>;

const modelActions = lazy(() => import('../model-commands.ts'));
const accuracyActions = lazy(() => import('../accuracy-commands.ts'));

/** Register `zkai model` and its commands on the program. */
export function register(program: Command, context: GroupContext): void {
  const model = program
    .command('model')
    .description(
      'AI models (MLPs and small CNNs): import ONNX, inspect cost and quantization, commit, prove a prediction or an accuracy, verify',
    );
  addCommand(model, MODEL_IMPORT, context, async (flags, file) =>
    (await modelActions()).modelImportCommand(file, flags),
  );
  addCommand(model, MODEL_INSPECT, context, async (flags, file) =>
    (await modelActions()).modelInspectCommand(file, flags),
  );
  addCommand(model, MODEL_COMMIT, context, async (flags) => (await modelActions()).modelCommitCommand(flags));
  addCommand(model, MODEL_PROVE, context, async (flags) => (await modelActions()).modelProveCommand(flags));
  addCommand(model, MODEL_VERIFY, context, async (flags) => (await modelActions()).modelVerifyCommand(flags));
  addCommand(model, MODEL_ACCURACY, context, async (flags) => (await accuracyActions()).modelAccuracyCommand(flags));
}
