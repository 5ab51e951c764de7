/**
 * Statement files: how a verifier writes down what it trusts about a circuit, so that a long-running verifier
 * (`zkai serve --statement FILE`) can decode and pin the claims of that circuit's proofs. A statement file names the
 * verification key and the public sources the verifier trusts (schema, policy, model and quantization, task); every
 * path is relative to the file. The layout and the pinned values are derived here from those sources, never from a
 * proof.
 *
 * ```json
 * { "format": "zkai-statement-v1", "kind": "dataset-policy", "verificationKey": "vk.json",
 *   "schema": "schema.json", "policy": "policy.json" }
 * ```
 */
import { dirname, resolve } from 'node:path';
import { InputFileError } from '../errors.ts';
import { trustedRegistryRoots } from '../data/dataset-proof.ts';
import { loadPolicy } from '../policy/policy.ts';
import { loadSchema } from '../data/schema.ts';
import { accuracyTask } from '../model/accuracy.ts';
import type { InputVisibility, WeightVisibility } from '../model/circuit-gen.ts';
import { isOnnxPath, loadModelFile } from '../model/load.ts';
import { quantizeModel } from '../model/quantize.ts';
import { readJsonFile } from '../util/json-file.ts';
import {
  accuracyStatement,
  datasetChunkStatement,
  datasetStatement,
  inferenceStatement,
  type Statement,
} from './statement.ts';

/** The format tag of a statement file. */
export const STATEMENT_FILE_FORMAT = 'zkai-statement-v1';

/** A loaded statement file: the statement, the key it is for, and a name for it. */
export interface TrustedStatement {
  statement: Statement;
  /** Absolute path of the verification key the statement is for. */
  verificationKeyPath: string;
  name: string;
  /** The statement file itself. */
  source: string;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Read a statement file and derive its statement from the sources it names.
 *
 * @throws {InputFileError} naming the file and the field at fault; the loaders' errors for the schema, policy or model.
 */
export async function loadStatementFile(path: string): Promise<TrustedStatement> {
  const source = resolve(path);
  const raw = await readJsonFile(source, 'statement file');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InputFileError(source, 'a statement file is a JSON object');
  const spec = raw as Record<string, unknown>;
  const fail = (field: string, message: string): never => {
    throw new InputFileError(source, `"${field}" ${message}`, {
      hint: `a statement file is {"format": "${STATEMENT_FILE_FORMAT}", "kind": ..., "verificationKey": FILE, ...} (see docs/architecture.md, "Statements")`,
    });
  };
  if (spec.format !== STATEMENT_FILE_FORMAT) fail('format', `must be "${STATEMENT_FILE_FORMAT}"`);
  const here = dirname(source);
  const file = (field: string): string => {
    const v = spec[field];
    if (typeof v !== 'string' || v.length === 0)
      return fail(field, 'must name a file (relative to the statement file)');
    return resolve(here, v);
  };
  const optional = (field: string) => spec[field] !== undefined;
  const integer = (field: string, min: number, max: number): number => {
    const v = spec[field];
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max)
      return fail(field, `must be an integer from ${min} to ${max}`);
    return v as number;
  };
  const number = (field: string): number => {
    const v = spec[field];
    if (typeof v !== 'number' || !Number.isFinite(v)) return fail(field, 'must be a number');
    return v;
  };
  const choice = <T extends string>(field: string, allowed: readonly T[], fallback: T): T => {
    const v = spec[field];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
      return fail(field, `must be one of ${allowed.join(', ')}`);
    return v as T;
  };
  const decimal = (field: string): string => {
    const v = spec[field];
    if (typeof v !== 'string' || !DECIMAL.test(v)) return fail(field, 'must be a decimal string');
    return v;
  };
  const verificationKeyPath = file('verificationKey');
  const name =
    typeof spec.name === 'string' && spec.name.length > 0
      ? spec.name
      : source.replace(/^.*\//, '').replace(/\.json$/, '');
  /** The verifier's model at the verifier's fractional bits (and, for ONNX, input range). */
  const quantized = async () => {
    const modelPath = file('model');
    const fracBits = integer('fracBits', 1, 24);
    const range = isOnnxPath(modelPath) ? { min: number('inputMin'), max: number('inputMax') } : undefined;
    const { model } = await loadModelFile(modelPath, range);
    return quantizeModel(model, fracBits);
  };
  const kind = spec.kind;
  let statement: Statement;
  switch (kind) {
    case 'dataset-policy':
    case 'dataset-chunk': {
      const schema = await loadSchema(file('schema'));
      const policy = await loadPolicy(file('policy'), schema);
      // A registry root is a public input the prover chooses: the verifier names the root it trusts for each one.
      const given = spec.registries ?? {};
      if (
        typeof given !== 'object' ||
        given === null ||
        Array.isArray(given) ||
        Object.values(given).some((root) => typeof root !== 'string' || !DECIMAL.test(root))
      ) {
        fail(
          'registries',
          'must map each registry the policy checks to the root you trust (a decimal string): {"consent": "123..."}',
        );
      }
      let roots: Record<string, string>;
      try {
        roots = Object.fromEntries(
          trustedRegistryRoots(policy, new Map(Object.entries(given as Record<string, string>))).map((r) => [
            r.name,
            r.root,
          ]),
        );
      } catch (error) {
        return fail('registries', `does not fit the policy: ${error instanceof Error ? error.message : String(error)}`);
      }
      statement =
        kind === 'dataset-policy'
          ? datasetStatement(schema, policy, roots)
          : datasetChunkStatement(
              schema,
              policy,
              {
                subtrees: integer('subtreesPerChunk', 1, 4096),
                ...(optional('chunkDepth') ? { chunkDepth: integer('chunkDepth', 0, 64) } : {}),
              },
              roots,
            );
      break;
    }
    case 'inclusion': {
      const schema = await loadSchema(file('schema'));
      statement = { kind: 'inclusion', schemaHash: schema.hash };
      break;
    }
    case 'inference': {
      const visibility = choice<InputVisibility>('visibility', ['hashed', 'public', 'private'], 'hashed');
      const weights = choice<WeightVisibility>('weights', ['fixed', 'hashed'], 'fixed');
      if (weights === 'fixed') {
        statement = inferenceStatement(await quantized(), { visibility, weights });
      } else {
        const inputSize = visibility === 'public' ? integer('inputSize', 1, 1 << 20) : 0;
        statement = inferenceStatement(
          { inputSize },
          { visibility, weights, modelCommitment: decimal('modelCommitment') },
        );
      }
      break;
    }
    case 'accuracy': {
      const weights = choice<WeightVisibility>('weights', ['fixed', 'hashed'], 'fixed');
      const schema = await loadSchema(file('schema'));
      const model = weights === 'fixed' ? await quantized() : undefined;
      const fracBits = model?.fracBits ?? integer('fracBits', 1, 24);
      const label = spec.label;
      if (typeof label !== 'string') fail('label', 'must name the label column');
      const features = spec.features;
      if (features !== undefined && (!Array.isArray(features) || features.some((f) => typeof f !== 'string')))
        fail('features', 'must be a list of column names');
      const task = accuracyTask(schema, fracBits, {
        label: label as string,
        ...(features ? { features: features as string[] } : {}),
        ...(optional('scale') ? { scale: number('scale') } : {}),
      });
      statement = accuracyStatement(model, task, {
        weights,
        samplesPerChunk: integer('samplesPerChunk', 1, 4096),
        ...(weights === 'hashed' ? { modelCommitment: decimal('modelCommitment') } : {}),
      });
      break;
    }
    default:
      return fail('kind', 'must be one of dataset-policy, dataset-chunk, inclusion, inference, accuracy');
  }
  return { statement, verificationKeyPath, name, source };
}
