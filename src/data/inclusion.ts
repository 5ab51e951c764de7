import type { CompiledCircuit } from '../circuit/compile.ts';
import { CircomLines, generatedId, generatedSource, writeGeneratedSource } from '../circuit/generated-source.ts';
import { ZkaiError } from '../errors.ts';
import { ProverPool } from '../prover/pool.ts';
import type { CircuitKeys } from '../setup/phase2.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import { verifyProof, type VerificationResult } from '../verifier/verify.ts';
import type { DatasetBundle } from './bundle.ts';
import { merklePath } from '../crypto/merkle.ts';
import { commitRecords } from './commitment.ts';
import { emitRecordLeaf } from './leaf.ts';
import { compileAndSetupGenerated, type PrepareOptions } from './prepare-generated.ts';
import { DataError, encodeCell } from './encode.ts';
import type { Column, EncodedRecord, Schema } from './types.ts';
import { CONTEXT_SIGNAL, NO_CONTEXT, emitContextInput } from '../circuit/context.ts';

/**
 * Record inclusion: "the record of data subject H is one of the records committed as root R (schema S)", proven
 * without revealing any other record, the record's other values, its salt or its position. This answers a data
 * subject's "was my record used?": the data holder proves, the subject verifies with their own id.
 *
 * Public signals, in order: root, subjectHash (the encoded subject id: the Poseidon hash of a string id's bytes, or
 * an integer id's encoding), schemaHash (pinned to the schema's hash by the circuit).
 */

/** Bumped whenever the generated code changes meaning, so cached circuits are regenerated. */
const GENERATOR_VERSION = 'zkai-inclusion-circuit-v4';

/** What the inclusion circuit's public signals mean, in order. */
export const INCLUSION_SIGNAL_NAMES = ['root', 'subjectHash', 'schemaHash', CONTEXT_SIGNAL] as const;

/** The deepest tree an inclusion circuit is generated for (2^32 records). */
const MAX_DEPTH = 32;

/**
 * The schema's subject id column. Errors when the schema names none, or when that column is nullable (a null id
 * would be "the subject" 0, shared by every record without an id).
 */
export function subjectColumn(schema: Schema): Column {
  const name = schema.spec.subjectId;
  if (name === undefined) {
    throw new ZkaiError(
      'NO_SUBJECT_ID',
      `schema "${schema.spec.name}" names no subject id column, so no record can be proven to be a subject's`,
      {
        hint: 'add "subjectId": "<column>" to the schema (a string, integer or address column that is not nullable) and commit the dataset again',
      },
    );
  }
  const column = schema.columns.find((c) => c.name === name);
  if (!column)
    throw new ZkaiError('BAD_SCHEMA', `the subject id "${name}" of schema "${schema.spec.name}" is not a column`);
  if (column.nullable) {
    throw new ZkaiError(
      'SUBJECT_NULLABLE',
      `the subject id column "${name}" of schema "${schema.spec.name}" is nullable: records without an id would all share the subject id 0`,
      {
        hint: `make "${name}" not nullable (drop "nullable": true) and commit the dataset again`,
      },
    );
  }
  return column;
}

/**
 * The subject hash of a subject id, encoded exactly like the subject id column encodes its values: for a string
 * column the Poseidon hash of its UTF-8 bytes, for an integer column `value - min`. Decimal string.
 */
export function subjectHashOf(schema: Schema, subjectId: string | bigint | number): string {
  const column = subjectColumn(schema);
  const raw = typeof subjectId === 'string' ? subjectId : String(subjectId);
  try {
    return encodeCell(column, raw, 0).value.toString();
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    throw new ZkaiError(
      'BAD_SUBJECT',
      `subject id ${JSON.stringify(raw)} is not a value of column "${column.name}": ${error.problem}${error.expected ? ` (expected ${error.expected})` : ''}`,
    );
  }
}

/** How to pick the record: by subject id, by source row number, or both (both must match). */
export interface RecordSelector {
  subjectId?: string | bigint | number;
  /** 1-based row number in the source file, as stored in the bundle (a CSV header line counts). */
  row?: number;
}

/** The position of the one record the selector picks. Errors when none or several match. */
export function findRecord(records: readonly EncodedRecord[], schema: Schema, selector: RecordSelector): number {
  const column = subjectColumn(schema);
  if (selector.subjectId === undefined && selector.row === undefined) {
    throw new ZkaiError(
      'BAD_OPTION',
      `say which record: give the subject id (column "${column.name}") or the source row number`,
    );
  }
  if (selector.row !== undefined && (!Number.isSafeInteger(selector.row) || selector.row < 1)) {
    throw new ZkaiError('BAD_OPTION', `a row number is a positive integer, got ${selector.row}`);
  }
  const encoded = selector.subjectId === undefined ? undefined : BigInt(subjectHashOf(schema, selector.subjectId));
  const matches: number[] = [];
  records.forEach((record, index) => {
    if (encoded !== undefined && (record.nulls[column.index] || record.values[column.index] !== encoded)) return;
    if (selector.row !== undefined && record.row !== selector.row) return;
    matches.push(index);
  });
  const who = [
    selector.subjectId === undefined ? undefined : `${column.name} = ${JSON.stringify(String(selector.subjectId))}`,
    selector.row === undefined ? undefined : `source row ${selector.row}`,
  ]
    .filter(Boolean)
    .join(' at ');
  if (matches.length === 0) {
    throw new ZkaiError(
      'SUBJECT_NOT_FOUND',
      `no record of the dataset (${records.length} records) has ${who}: there is nothing to prove`,
      {
        hint:
          selector.subjectId === undefined
            ? undefined
            : `the id must be written exactly as in the data (ids are case- and space-sensitive)`,
      },
    );
  }
  if (matches.length > 1) {
    const rows = matches.map((index) => records[index]!.row);
    throw new ZkaiError(
      'SUBJECT_AMBIGUOUS',
      `${matches.length} records have ${who} (source rows ${rows.join(', ')}): say which one with the row number as well`,
    );
  }
  return matches[0]!;
}

/** The generated inclusion circuit of a (schema, depth): its source and where it was written. */
export interface GeneratedInclusionCircuit {
  id: string;
  path: string;
  depth: number;
  source: string;
}

/**
 * Generate the circom main component that proves "a record whose subject id encodes to subjectHash is a leaf of
 * the tree of depth `depth` and root `root`, committed under the schema of hash schemaHash". Written (atomically)
 * into the cache, named by a hash of everything it depends on. The leaf is recomputed by the shared
 * {@link emitRecordLeaf}, the definition commitRecords uses.
 */
export async function generateInclusionCircuit(
  schema: Schema,
  depth: number,
  options: { cacheDir?: string } = {},
): Promise<GeneratedInclusionCircuit> {
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH)
    throw new ZkaiError('BAD_INPUT', `tree depth must be an integer in [1, ${MAX_DEPTH}], got ${depth}`);
  const subject = subjectColumn(schema);
  const width = schema.columns.length;
  const id = generatedId(GENERATOR_VERSION, [schema.hash, String(depth)]);
  const { lines, line } = new CircomLines();

  line('signal input root;');
  line('signal input subjectHash;');
  line('signal input schemaHash;');
  line('signal input salt;');
  line(`signal input values[${width}];`);
  line(`signal input isNull[${width}];`);
  line('signal input index;');
  line(`signal input siblings[${depth}];`);
  emitContextInput(line);
  line();
  line('// The schema is fixed by this circuit: a proof with its key always claims exactly this schema.');
  line(`schemaHash === ${schema.hash};`);
  line();
  line('// Null flags are boolean and a null holds 0, as in every committed record.');
  line(`component fields[${width}];`);
  line(`for (var k = 0; k < ${width}; k++) {`);
  line('    fields[k] = FieldValue();');
  line('    fields[k].value <== values[k];');
  line('    fields[k].isNull <== isNull[k];');
  line('}');
  line();
  line(
    `// The public subject hash is the record's own subject id (column ${subject.index}, "${subject.name}"), which is never null.`,
  );
  line(`isNull[${subject.index}] === 0;`);
  line(`subjectHash === values[${subject.index}];`);
  line();
  line(
    '// The leaf, exactly as recordLeaf computes it (src/data/leaf.ts). This range-checks every packed value, which',
  );
  line('// makes the packing injective: no other values give the same leaf.');
  const leafOut = emitRecordLeaf(line, 'leaf', schema.columns, {
    salt: 'salt',
    value: (k) => `values[${k}]`,
    isNull: (k) => `isNull[${k}]`,
  });
  line();
  line(
    '// The path from that leaf (a Poseidon output, so never the zero leaf of a padding position) must reach the root.',
  );
  line(`component path = InclusionPathRoot(${depth});`);
  line(`path.leaf <== ${leafOut};`);
  line('path.index <== index;');
  line(`for (var i = 0; i < ${depth}; i++) { path.siblings[i] <== siblings[i]; }`);
  line('path.root === root;');

  const source = generatedSource({
    version: GENERATOR_VERSION,
    comments: [
      `schema "${schema.spec.name}" (hash ${schema.hash}), subject id column "${subject.name}"`,
      `tree depth ${depth} (${2 ** depth} leaves); public signals: ${INCLUSION_SIGNAL_NAMES.join(', ')}`,
    ],
    includes: ['data/inclusion.circom'],
    template: 'RecordInclusion',
    body: lines,
    publicInputs: INCLUSION_SIGNAL_NAMES,
  });
  const path = await writeGeneratedSource(`inclusion_${id}`, source, options);
  return { id, path, depth, source };
}

/**
 * The circuit input proving that leaf `index` of the tree `levels` (from commitRecords) holds `record` with `salt`.
 * Nothing is checked here: a wrong record, salt or index gives an input the circuit refuses.
 */
export function inclusionCircuitInput(
  schema: Schema,
  levels: readonly bigint[][],
  index: number,
  record: Pick<EncodedRecord, 'values' | 'nulls'>,
  salt: bigint,
): Record<string, unknown> {
  const subject = subjectColumn(schema);
  return {
    root: (levels.at(-1) as bigint[])[0],
    subjectHash: record.values[subject.index],
    schemaHash: schema.hash,
    salt,
    values: record.values,
    isNull: record.nulls.map((isNull) => (isNull ? 1 : 0)),
    index,
    siblings: merklePath(levels, index).siblings,
    context: NO_CONTEXT,
  };
}

/** An inclusion circuit, generated, compiled and set up. */
export interface PreparedInclusionCircuit {
  generated: GeneratedInclusionCircuit;
  circuit: CompiledCircuit;
  keys: CircuitKeys;
}

/** Generate, compile and set up the inclusion circuit of (schema, depth); every step is cached. */
export async function prepareInclusionCircuit(
  schema: Schema,
  depth: number,
  options: PrepareOptions = {},
): Promise<PreparedInclusionCircuit> {
  const generated = await generateInclusionCircuit(
    schema,
    depth,
    options.cacheDir ? { cacheDir: options.cacheDir } : {},
  );
  return { generated, ...(await compileAndSetupGenerated(generated.path, options)) };
}

/** An inclusion proof as written to disk and handed to the data subject. It holds no position and no other value. */
export interface InclusionProof {
  format: 'zkai-inclusion-proof-v1';
  /** The subject id column the subject hash comes from. */
  subjectColumn: string;
  root: string;
  subjectHash: string;
  schemaHash: string;
  /** Depth of the committed tree (public in the commitment). */
  depth: number;
  circuitId: string;
  proof: Groth16Proof;
  publicSignals: string[];
}

/**
 * Prove that the record picked by `subjectId` and/or `row` is one of the bundle's committed records. The bundle must
 * give its stored commitment under `schema`; the record must be the only one matching. The circuit of
 * (schema, depth) is generated, compiled and set up on first use (all cached).
 */
export async function proveInclusion(
  bundle: DatasetBundle,
  schema: Schema,
  options: RecordSelector & PrepareOptions & { pool?: ProverPool; context?: bigint } = {},
): Promise<InclusionProof & { vkeyPath: string; row: number; prepared: PreparedInclusionCircuit }> {
  const column = subjectColumn(schema);
  const { commitment, levels } = commitRecords(bundle.records, bundle.salts, schema);
  if (
    commitment.root !== bundle.commitment.root ||
    commitment.schemaHash !== bundle.commitment.schemaHash ||
    commitment.depth !== bundle.commitment.depth
  ) {
    throw new ZkaiError(
      'BUNDLE_MISMATCH',
      "the bundle's records and salts do not give its stored commitment: the bundle was altered or the schema differs",
    );
  }
  const index = findRecord(bundle.records, schema, options);
  const record = bundle.records[index]!;
  const prepared = await prepareInclusionCircuit(schema, commitment.depth, options);
  const context = options.context ?? NO_CONTEXT;
  const input = { ...inclusionCircuitInput(schema, levels, index, record, bundle.salts[index]!), context };
  const subjectHash = record.values[column.index]!.toString();
  const pool = options.pool ?? new ProverPool({ workers: 1 });
  try {
    const result = await pool.prove({ wasmPath: prepared.circuit.wasmPath, zkeyPath: prepared.keys.zkeyPath }, input);
    const expected = [commitment.root, subjectHash, schema.hash, context.toString()];
    if (result.publicSignals.join() !== expected.join()) {
      throw new ZkaiError(
        'INTERNAL',
        `the inclusion circuit's public signals [${result.publicSignals.join(', ')}] are not [root, subjectHash, schemaHash, context] = [${expected.join(', ')}]`,
      );
    }
    return {
      format: 'zkai-inclusion-proof-v1',
      subjectColumn: column.name,
      root: commitment.root,
      subjectHash,
      schemaHash: schema.hash,
      depth: commitment.depth,
      circuitId: prepared.circuit.id,
      proof: result.proof,
      publicSignals: result.publicSignals,
      vkeyPath: prepared.keys.vkeyPath,
      row: record.row,
      prepared,
    };
  } finally {
    if (!options.pool) await pool.close();
  }
}

/** What the verifier of an inclusion proof trusts: the published root and schema, and the subject's id (or its hash). */
export type InclusionExpectation =
  | { root: string | bigint; subjectHash: string | bigint; schemaHash: string | bigint; context?: bigint }
  | {
      root: string | bigint;
      subjectId: string | bigint | number;
      schema: Schema;
      schemaHash?: string | bigint;
      context?: bigint;
    };

/**
 * Verify an inclusion proof against the verification key of the inclusion circuit, the published root and schema
 * hash, and the subject (its id, encoded with the schema, or its subject hash). Every claim is checked before the
 * pairing check; a bad proof gives `{ valid: false, reason }`, never an exception.
 */
export async function verifyInclusion(
  vkey: unknown,
  proof: unknown,
  publicSignals: unknown,
  expected: InclusionExpectation,
): Promise<VerificationResult> {
  let subjectHash: string;
  let schemaHash: string;
  if ('schema' in expected) {
    subjectHash = subjectHashOf(expected.schema, expected.subjectId);
    schemaHash = expected.schema.hash;
    if (expected.schemaHash !== undefined && BigInt(expected.schemaHash).toString() !== schemaHash) {
      return {
        valid: false,
        reason: 'claim-mismatch',
        detail: `the expected schema hash ${BigInt(expected.schemaHash)} is not the hash ${schemaHash} of schema "${expected.schema.spec.name}"`,
      };
    }
  } else {
    subjectHash = BigInt(expected.subjectHash).toString();
    schemaHash = BigInt(expected.schemaHash).toString();
  }
  return verifyProof(vkey, proof, publicSignals, {
    expect: {
      root: expected.root,
      subjectHash,
      schemaHash,
      ...(expected.context === undefined ? {} : { [CONTEXT_SIGNAL]: expected.context }),
    },
    signalNames: INCLUSION_SIGNAL_NAMES,
  });
}
