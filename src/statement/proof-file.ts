/**
 * The one reader of zkai proof files. A proof file is the prover's: it carries proofs, public signals and what the
 * prover says they mean. {@link parseProofFile} checks its shape and gives a tagged union; {@link statedClaims} lists
 * what the file states about its signals (claims the verifier then checks on ITS OWN layout); {@link fileStatementShape}
 * says which statement the file describes, so that a verifier can refuse a file that describes another statement than
 * the one it trusts. Nothing here decides what a signal means: that is {@link statementSignalNames}'s job, from a
 * statement the verifier trusts.
 */
import { InputFileError } from '../errors.ts';
import { fieldOf, type InputVisibility, type WeightVisibility } from '../model/circuit-gen.ts';
import { ACCURACY_V1_REFUSAL } from '../model/accuracy.ts';
import { MAX_SUBTREES_PER_CHUNK, registrySignalName } from '../data/circuit-gen.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import type { StatementKind } from './statement.ts';

/** The proof file formats zkai writes. */
export const PROOF_FILE_FORMATS = [
  'zkai-dataset-proof-v1',
  'zkai-chunked-dataset-proof-v1',
  'zkai-chunked-dataset-proof-v2',
  'zkai-inclusion-proof-v1',
  'zkai-inference-proof-v1',
  'zkai-accuracy-proof-v2',
] as const;
export type ProofFileFormat = (typeof PROOF_FILE_FORMATS)[number];

/** One proof and its public signals. */
export interface ProofPart {
  proof: Groth16Proof;
  publicSignals: string[];
}

/** A dataset commitment as files carry it. */
export interface CommitmentFields {
  root: string;
  count: number;
  depth: number;
  schemaHash: string;
}

interface Common {
  /** The compiled circuit id the prover names (a lookup hint, never a layout). */
  circuitId?: string;
}

/** What both chunked dataset formats carry. */
interface ChunkedDatasetFields {
  commitment: CommitmentFields;
  policy: { name?: string; hash: string };
  registries: Array<{ name: string; root: string }>;
  chunkDepth: number;
  subtreesPerChunk: number;
  chunks: Array<ProofPart & { index: number }>;
}

/** A parsed proof file. `plain` is a bare snarkjs proof with its public signals. */
export type ProofFile =
  | (Common &
      ProofPart & {
        format: 'zkai-dataset-proof-v1';
        commitment: CommitmentFields;
        policy: { name?: string; hash: string };
        registries: Array<{ name: string; root: string }>;
      })
  | (Common & ChunkedDatasetFields & { format: 'zkai-chunked-dataset-proof-v1' })
  | (Common &
      ChunkedDatasetFields & {
        /** Private chunks (issue 18): chunk proofs publish a salted commitment to their partials; aggregation proofs judge. */
        format: 'zkai-chunked-dataset-proof-v2';
        /** Aggregation proofs level by level from the chunks up; the last level holds the root alone. */
        aggregation: ProofPart[][];
      })
  | (Common &
      ProofPart & {
        format: 'zkai-inclusion-proof-v1';
        subjectColumn?: string;
        root: string;
        subjectHash: string;
        schemaHash: string;
        depth?: number;
      })
  | (Common &
      ProofPart & {
        format: 'zkai-inference-proof-v1';
        model: { name?: string; hash?: string; commitment?: string };
        visibility: InputVisibility;
        weights: WeightVisibility;
        predicted: number;
        inputHash?: string;
        input?: string[];
      })
  | (Common & {
      format: 'zkai-accuracy-proof-v2';
      model: { name?: string; hash?: string; commitment?: string; fracBits?: number };
      weights: WeightVisibility;
      testSet: CommitmentFields;
      task: { label?: string; features?: string[]; scale?: number; taskHash: string };
      samplesPerChunk: number;
      correct: number;
      count: number;
      chunks: Array<ProofPart & { index: number }>;
    })
  | (Common & ProofPart & { format: 'plain' });

const DECIMAL = /^(0|[1-9][0-9]*)$/;
/** zkai's dataset trees are at most 30 levels deep (a chunk's depth is below its tree's). */
const MAX_TREE_DEPTH = 30;

/** Reads fields of one JSON object, each failure an {@link InputFileError} naming the file and the field. */
class FieldReader {
  constructor(
    private readonly source: string,
    private readonly value: Record<string, unknown>,
    private readonly at: string,
  ) {}

  private fail(field: string, message: string): never {
    throw new InputFileError(this.source, `${this.at}${field}: ${message}`);
  }

  has(field: string): boolean {
    return this.value[field] !== undefined;
  }

  decimal(field: string): string {
    const v = this.value[field];
    if (typeof v !== 'string' || !DECIMAL.test(v) || v.length > 78) this.fail(field, 'must be a decimal string');
    return v;
  }

  optionalDecimal(field: string): string | undefined {
    return this.has(field) ? this.decimal(field) : undefined;
  }

  integer(field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.value[field];
    if (!Number.isSafeInteger(v) || (v as number) < min) this.fail(field, `must be an integer of at least ${min}`);
    if ((v as number) > max) this.fail(field, `must be an integer from ${min} to ${max}`);
    return v as number;
  }

  optionalInteger(field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
    return this.has(field) ? this.integer(field, min, max) : undefined;
  }

  optionalPositiveNumber(field: string): number | undefined {
    if (!this.has(field)) return undefined;
    const v = this.value[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(field, 'must be a positive number');
    return v as number;
  }

  text(field: string): string {
    const v = this.value[field];
    if (typeof v !== 'string') this.fail(field, 'must be a string');
    return v;
  }

  optionalText(field: string): string | undefined {
    return this.has(field) ? this.text(field) : undefined;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], fallback: T): T {
    const v = this.value[field];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
      this.fail(field, `must be one of ${allowed.join(', ')}`);
    return v as T;
  }

  object(field: string): FieldReader {
    const v = this.value[field];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, 'must be an object');
    return new FieldReader(this.source, v as Record<string, unknown>, `${this.at}${field}.`);
  }

  list(field: string): unknown[] {
    const v = this.value[field];
    if (!Array.isArray(v)) this.fail(field, 'must be a list');
    return v;
  }

  /** Signed integers as decimal strings (a public model input in fixed point may be negative). */
  signedIntegers(field: string): string[] {
    const list = this.list(field);
    list.forEach((v, j) => {
      if (typeof v !== 'string' || !/^-?(0|[1-9][0-9]*)$/.test(v) || v.length > 79)
        this.fail(`${field}[${j}]`, 'must be an integer as a decimal string (a fixed-point input value)');
    });
    return list as string[];
  }

  decimals(field: string): string[] {
    const list = this.list(field);
    list.forEach((v, j) => {
      if (typeof v !== 'string' || !DECIMAL.test(v) || v.length > 78)
        this.fail(`${field}[${j}]`, 'must be a decimal string');
    });
    return list as string[];
  }

  items(field: string): FieldReader[] {
    return this.list(field).map((v, j) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${field}[${j}]`, 'must be an object');
      return new FieldReader(this.source, v as Record<string, unknown>, `${this.at}${field}[${j}].`);
    });
  }

  part(): ProofPart {
    const proof = this.value.proof;
    if (typeof proof !== 'object' || proof === null || Array.isArray(proof))
      this.fail('proof', 'must be a snarkjs Groth16 proof object');
    return { proof: proof as Groth16Proof, publicSignals: this.decimals('publicSignals') };
  }

  commitment(field: string): CommitmentFields {
    const c = this.object(field);
    // Bounded as zkai's trees are (at most 2^30 records): a verifier that builds a file's tree never builds a larger one.
    const count = c.integer('count', 0, 2 ** MAX_TREE_DEPTH);
    const depth = c.integer('depth', 0, MAX_TREE_DEPTH);
    return { root: c.decimal('root'), count, depth, schemaHash: c.decimal('schemaHash') };
  }

  registries(): Array<{ name: string; root: string }> {
    const list = this.has('registries')
      ? this.items('registries').map((r) => ({ name: r.text('name'), root: r.decimal('root') }))
      : [];
    // Each registry is one public signal: a name stated twice could show a reader one root and the verifier another.
    const seen = new Set<string>();
    list.forEach((r, j) => {
      if (seen.has(r.name)) this.fail(`registries[${j}].name`, `"${r.name}" is stated twice`);
      seen.add(r.name);
    });
    return list;
  }

  chunks(): Array<ProofPart & { index: number }> {
    const chunks = this.items('chunks');
    if (chunks.length === 0) this.fail('chunks', 'must hold at least one chunk proof');
    return chunks.map((chunk, j) => ({ index: chunk.has('index') ? chunk.integer('index') : j, ...chunk.part() }));
  }

  /** The fields both chunked dataset formats carry, the chunk shape within zkai's bounds. */
  chunkedDataset(): ChunkedDatasetFields {
    const policy = this.object('policy');
    return {
      commitment: this.commitment('commitment'),
      policy: { ...optionalName(policy), hash: policy.decimal('hash') },
      registries: this.registries(),
      chunkDepth: this.integer('chunkDepth', 0, MAX_TREE_DEPTH),
      subtreesPerChunk: this.optionalInteger('subtreesPerChunk', 1, MAX_SUBTREES_PER_CHUNK) ?? 1,
      chunks: this.chunks(),
    };
  }

  circuitId(): { circuitId?: string } {
    const id = this.optionalText('circuitId');
    return id === undefined ? {} : { circuitId: id };
  }
}

/**
 * Parse a proof file (any format zkai writes, or a bare `{proof, publicSignals}`). Checks shapes only: every field a
 * format needs, with its type. Throws an {@link InputFileError} naming `source` and the field at fault.
 */
export function parseProofFile(raw: unknown, source = 'proof file'): ProofFile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InputFileError(source, 'a proof file must be a JSON object');
  const r = new FieldReader(source, raw as Record<string, unknown>, '');
  const format = (raw as { format?: unknown }).format;
  if (format === undefined) return { format: 'plain', ...r.part() };
  if (format === 'zkai-accuracy-proof-v1') throw new InputFileError(source, ACCURACY_V1_REFUSAL);
  if (typeof format !== 'string' || !(PROOF_FILE_FORMATS as readonly string[]).includes(format)) {
    throw new InputFileError(
      source,
      `format "${String(format)}" is not a zkai proof file format (${PROOF_FILE_FORMATS.join(', ')})`,
    );
  }
  const known = format as ProofFileFormat;
  switch (known) {
    case 'zkai-dataset-proof-v1': {
      const policy = r.object('policy');
      return {
        format: known,
        ...r.circuitId(),
        commitment: r.commitment('commitment'),
        policy: { ...optionalName(policy), hash: policy.decimal('hash') },
        registries: r.registries(),
        ...r.part(),
      };
    }
    case 'zkai-chunked-dataset-proof-v1': {
      // Files of this format made for a policy with aggregates (before private chunks) published each chunk's
      // aggregate partials, which their signal names show. Refused here for every reader (each verifier also refuses
      // them from its own policy: see publicPartialsRefusal in src/data/chunked.ts).
      const names = (raw as { signalNames?: unknown }).signalNames;
      if (Array.isArray(names) && names.some((name) => typeof name === 'string' && name.startsWith('aggregate')))
        throw new InputFileError(
          source,
          "its chunk proofs publish every chunk's aggregate partials (the chunked format before private chunks: per-chunk statistics anyone holding the file can read); it is no longer accepted: prove again with this version (zkai data prove --chunk-depth N writes private chunks)",
        );
      return { format: known, ...r.circuitId(), ...r.chunkedDataset() };
    }
    case 'zkai-chunked-dataset-proof-v2': {
      const aggregation = r.list('aggregation').map((level, l) => {
        if (!Array.isArray(level) || level.length === 0)
          throw new InputFileError(source, `aggregation[${l}]: must be a non-empty list of proofs`);
        return level.map((proof, g) => {
          if (typeof proof !== 'object' || proof === null || Array.isArray(proof))
            throw new InputFileError(source, `aggregation[${l}][${g}]: must be an object`);
          return new FieldReader(source, proof as Record<string, unknown>, `aggregation[${l}][${g}].`).part();
        });
      });
      if (aggregation.length === 0) throw new InputFileError(source, 'aggregation: must hold at least the root proof');
      return { format: known, ...r.circuitId(), ...r.chunkedDataset(), aggregation };
    }
    case 'zkai-inclusion-proof-v1': {
      const subjectColumn = r.optionalText('subjectColumn');
      const depth = r.optionalInteger('depth');
      return {
        format: known,
        ...r.circuitId(),
        ...(subjectColumn === undefined ? {} : { subjectColumn }),
        root: r.decimal('root'),
        subjectHash: r.decimal('subjectHash'),
        schemaHash: r.decimal('schemaHash'),
        ...(depth === undefined ? {} : { depth }),
        ...r.part(),
      };
    }
    case 'zkai-inference-proof-v1': {
      const model = r.object('model');
      const visibility = r.oneOf<InputVisibility>('visibility', ['hashed', 'public', 'private'], 'hashed');
      const weights = r.oneOf<WeightVisibility>('weights', ['fixed', 'hashed'], 'fixed');
      const inputHash = r.optionalDecimal('inputHash');
      const input = r.has('input') ? r.signedIntegers('input') : undefined;
      if (visibility === 'public' && input === undefined)
        throw new InputFileError(source, 'input: a public-input inference proof must carry its input');
      return {
        format: known,
        ...r.circuitId(),
        model: modelFields(model),
        visibility,
        weights,
        predicted: r.integer('predicted'),
        ...(inputHash === undefined ? {} : { inputHash }),
        ...(input === undefined ? {} : { input }),
        ...r.part(),
      };
    }
    case 'zkai-accuracy-proof-v2': {
      const model = r.object('model');
      const task = r.object('task');
      const fracBits = model.optionalInteger('fracBits', 1);
      const label = task.optionalText('label');
      const scale = task.optionalPositiveNumber('scale');
      const features = task.has('features') ? task.list('features').map(String) : undefined;
      return {
        format: known,
        ...r.circuitId(),
        model: { ...modelFields(model), ...(fracBits === undefined ? {} : { fracBits }) },
        weights: r.oneOf<WeightVisibility>('weights', ['fixed', 'hashed'], 'fixed'),
        testSet: r.commitment('testSet'),
        task: {
          ...(label === undefined ? {} : { label }),
          ...(features === undefined ? {} : { features }),
          ...(scale === undefined ? {} : { scale }),
          taskHash: task.decimal('taskHash'),
        },
        samplesPerChunk: r.integer('samplesPerChunk', 1),
        correct: r.integer('correct'),
        count: r.integer('count', 1),
        chunks: r.chunks(),
      };
    }
    default:
      return known satisfies never;
  }
}

function optionalName(reader: FieldReader): { name?: string } {
  const name = reader.optionalText('name');
  return name === undefined ? {} : { name };
}

function modelFields(model: FieldReader): { name?: string; hash?: string; commitment?: string } {
  const hash = model.optionalDecimal('hash');
  const commitment = model.optionalDecimal('commitment');
  return {
    ...optionalName(model),
    ...(hash === undefined ? {} : { hash }),
    ...(commitment === undefined ? {} : { commitment }),
  };
}

/** The proofs a file carries, with their chunk index (0 for a single proof). */
export function proofParts(file: ProofFile): Array<ProofPart & { index: number }> {
  switch (file.format) {
    case 'zkai-chunked-dataset-proof-v1':
    case 'zkai-accuracy-proof-v2':
      return file.chunks;
    case 'zkai-chunked-dataset-proof-v2':
      // The chunk proofs, then the aggregation proofs numbered after them, level by level.
      return [
        ...file.chunks,
        ...file.aggregation.flat().map((part, k) => ({ ...part, index: file.chunks.length + k })),
      ];
    case 'zkai-dataset-proof-v1':
    case 'zkai-inclusion-proof-v1':
    case 'zkai-inference-proof-v1':
    case 'plain':
      return [{ index: 0, proof: file.proof, publicSignals: file.publicSignals }];
    default:
      return file satisfies never;
  }
}

/** Whether a file holds chunk proofs. */
export function isChunkedFile(file: ProofFile): boolean {
  return (
    file.format === 'zkai-chunked-dataset-proof-v1' ||
    file.format === 'zkai-chunked-dataset-proof-v2' ||
    file.format === 'zkai-accuracy-proof-v2'
  );
}

/**
 * What the file states about each proof's public signals, by signal name (the claims every proof of the file must
 * show on the verifier's layout). For chunked files these are the claims every chunk shares.
 */
export function statedClaims(file: ProofFile): Record<string, string> {
  const stated: Record<string, string> = {};
  const put = (name: string, value: string | number | undefined) => {
    if (value !== undefined) stated[name] = String(value);
  };
  switch (file.format) {
    case 'zkai-dataset-proof-v1':
      put('root', file.commitment.root);
      put('count', file.commitment.count);
      put('schemaHash', file.commitment.schemaHash);
      put('policyHash', file.policy.hash);
      for (const r of file.registries) put(registrySignalName(r.name), r.root);
      break;
    case 'zkai-chunked-dataset-proof-v1':
    case 'zkai-chunked-dataset-proof-v2':
      put('schemaHash', file.commitment.schemaHash);
      put('policyHash', file.policy.hash);
      put('chunkDepth', file.chunkDepth);
      put('chunkSubtrees', file.subtreesPerChunk);
      for (const r of file.registries) put(registrySignalName(r.name), r.root);
      break;
    case 'zkai-inclusion-proof-v1':
      put('root', file.root);
      put('subjectHash', file.subjectHash);
      put('schemaHash', file.schemaHash);
      break;
    case 'zkai-inference-proof-v1':
      put(
        file.weights === 'hashed' ? 'modelCommitment' : 'modelHash',
        file.weights === 'hashed' ? file.model.commitment : file.model.hash,
      );
      put('class', file.predicted);
      if (file.visibility !== 'private') put('inputHash', file.inputHash);
      // A fixed-point input value is signed; its public signal is the value in the field (a negative x is r + x).
      if (file.visibility === 'public')
        file.input?.forEach((value, j) => put(`input${j}`, fieldOf(BigInt(value)).toString()));
      break;
    case 'zkai-accuracy-proof-v2':
      put(
        file.weights === 'hashed' ? 'modelCommitment' : 'modelHash',
        file.weights === 'hashed' ? file.model.commitment : file.model.hash,
      );
      put('taskHash', file.task.taskHash);
      break;
    case 'plain':
      break;
    default:
      return file satisfies never;
  }
  return stated;
}

/**
 * The statement kind a file describes and the shape it says its circuit has: the prover's description, only ever
 * compared with the verifier's statement (a disagreement is a reason to refuse the file), never used as a layout.
 */
export function fileStatementShape(file: ProofFile): {
  kind: StatementKind;
  describe: string;
  registries?: string[];
  subtrees?: number;
  visibility?: InputVisibility;
  weights?: WeightVisibility;
  samplesPerChunk?: number;
  inputSize?: number;
} {
  switch (file.format) {
    case 'zkai-dataset-proof-v1':
      return {
        kind: 'dataset-policy',
        describe: `a dataset policy proof with registries [${file.registries.map((r) => r.name).join(', ')}]`,
        registries: file.registries.map((r) => r.name),
      };
    case 'zkai-chunked-dataset-proof-v1':
      return {
        kind: 'dataset-chunk',
        describe: `a chunked dataset proof with ${file.subtreesPerChunk} subtree(s) per chunk`,
        registries: file.registries.map((r) => r.name),
        subtrees: file.subtreesPerChunk,
      };
    case 'zkai-chunked-dataset-proof-v2':
      return {
        kind: 'dataset-chunk',
        describe: `a private chunked dataset proof with ${file.subtreesPerChunk} subtree(s) per chunk`,
        registries: file.registries.map((r) => r.name),
        subtrees: file.subtreesPerChunk,
      };
    case 'zkai-inclusion-proof-v1':
      return { kind: 'inclusion', describe: 'an inclusion proof' };
    case 'zkai-inference-proof-v1':
      return {
        kind: 'inference',
        describe: `an inference proof (input ${file.visibility}, weights ${file.weights})`,
        visibility: file.visibility,
        weights: file.weights,
        inputSize: file.input?.length ?? 0,
      };
    case 'zkai-accuracy-proof-v2':
      return {
        kind: 'accuracy',
        describe: `an accuracy proof (${file.samplesPerChunk} records per chunk, weights ${file.weights})`,
        weights: file.weights,
        samplesPerChunk: file.samplesPerChunk,
      };
    case 'plain':
      return { kind: 'circuit', describe: 'a bare snarkjs proof' };
    default:
      return file satisfies never;
  }
}
