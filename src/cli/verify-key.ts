/**
 * The verification key of the CLI's verify verbs (`zkai verify`, `data verify`, `data verify-include`, `model verify`):
 * where it comes from is decided before anything is verified (`src/verifier/key-source.ts`), said in the output (a
 * `key` line, `keySource` in --json), and a key from nowhere the verifier trusts is refused unless `--trust-key`.
 */
import { basename } from 'node:path';
import { generateAggregationCircuit, type AggregationLevel } from '../data/aggregation-gen.ts';
import { generateDatasetCircuit } from '../data/circuit-gen.ts';
import { generateInclusionCircuit } from '../data/inclusion.ts';
import type { Policy } from '../policy/policy.ts';
import { compileGenerated } from '../data/prepare-generated.ts';
import type { Schema } from '../data/types.ts';
import { generateAccuracyCircuit, type AccuracyTask } from '../model/accuracy.ts';
import { generateModelCircuit, type InputVisibility } from '../model/circuit-gen.ts';
import type { QuantizedModel } from '../model/quantize.ts';
import type { CircuitKeys } from '../setup/phase2.ts';
import { assertBoundIfValid, trustedKeySource, type KeySource, type StatementCircuit } from '../verifier/key-source.ts';
import type { GlobalFlags } from './output.ts';

/** Help of `--trust-key` on every verify verb. */
export const TRUST_KEY_OPTION_HELP =
  'trust this verification key although it was not made by your own setup nor by a ceremony you verified (the output says so)';

/** Flags every verify verb has. */
export interface VerifyKeyFlags extends GlobalFlags {
  vkey: string;
  trustKey?: boolean;
}

/**
 * Where the verifier's key comes from: its own setup (this cache), a ceremony it verified (the trust store), or its
 * word (`--trust-key`).
 *
 * @throws ZkaiError `UNTRUSTED_KEY` for any other key, before anything is verified or claimed
 */
export function verifierKeySource(
  vkey: unknown,
  flags: VerifyKeyFlags,
  statement?: VerifierStatement,
): Promise<KeySource> {
  return trustedKeySource(vkey, {
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    trustKey: flags.trustKey === true,
    path: flags.vkey,
    ...(statement ? { statement: statementCircuit(statement, flags.cacheDir) } : {}),
  });
}

/**
 * What a verify verb's circuit is generated from, all of it the verifier's own (the shape, such as a chunk size, may come
 * from the proof file: a wrong shape only names another circuit, whose keys then do not count).
 */
export type VerifierStatement =
  | { kind: 'dataset-policy'; schema: Schema; policy: Policy; depth: number }
  | { kind: 'dataset-chunk'; schema: Schema; policy: Policy; chunkDepth: number; subtrees: number }
  | { kind: 'dataset-committed-chunk'; schema: Schema; policy: Policy; chunkDepth: number; subtrees: number }
  | { kind: 'dataset-aggregation'; schema: Schema; policy: Policy; level: AggregationLevel; fanIn: number }
  | { kind: 'inclusion'; schema: Schema; depth: number }
  | { kind: 'inference'; model: QuantizedModel; visibility: InputVisibility }
  | { kind: 'accuracy'; model: QuantizedModel; schema: Schema; task: AccuracyTask; samplesPerChunk: number };

/** The circuit a statement generates (fixed weights for models), written and compiled into the verifier's cache on demand. */
export function statementCircuit(statement: VerifierStatement, cacheDir?: string): StatementCircuit {
  const cache = cacheDir ? { cacheDir } : {};
  const generate = async (): Promise<{ path: string }> => {
    switch (statement.kind) {
      case 'dataset-policy':
        return generateDatasetCircuit(statement.schema, statement.policy, statement.depth, cache);
      case 'dataset-chunk':
        return generateDatasetCircuit(statement.schema, statement.policy, statement.chunkDepth, {
          ...cache,
          mode: 'chunk',
          subtrees: statement.subtrees,
        });
      case 'dataset-committed-chunk':
        return generateDatasetCircuit(statement.schema, statement.policy, statement.chunkDepth, {
          ...cache,
          mode: 'committed-chunk',
          subtrees: statement.subtrees,
        });
      case 'dataset-aggregation':
        return generateAggregationCircuit(statement.schema, statement.policy, {
          ...cache,
          level: statement.level,
          fanIn: statement.fanIn,
        });
      case 'inclusion':
        return generateInclusionCircuit(statement.schema, statement.depth, cache);
      case 'inference':
        return generateModelCircuit(statement.model, statement.visibility, { ...cache, weights: 'fixed' });
      case 'accuracy':
        return generateAccuracyCircuit(statement.model, statement.schema, statement.task, statement.samplesPerChunk, {
          ...cache,
          weights: 'fixed',
        });
      default:
        return statement satisfies never;
    }
  };
  const describe = {
    'dataset-policy': 'schema and policy',
    'dataset-chunk': 'schema and policy (chunk circuit)',
    'dataset-committed-chunk': 'schema and policy (private chunk circuit)',
    'dataset-aggregation':
      statement.kind === 'dataset-aggregation'
        ? `schema and policy (aggregation ${statement.level} circuit, ${statement.fanIn} children)`
        : '',
    inclusion: 'schema (inclusion circuit)',
    inference: 'model and fractional bits',
    accuracy: 'model, fractional bits and task (accuracy circuit)',
  }[statement.kind];
  return {
    describe,
    generate: async () => {
      const { path } = await generate();
      return { name: basename(path).replace(/\.circom$/, ''), compile: () => compileGenerated(path, cache) };
    },
  };
}

/**
 * Before a verdict is printed: refuse a valid one reached with a key the verifier set up (or whose ceremony it verified)
 * for another circuit than the one its statement generates (an invalid one stands: it claims nothing).
 */
export function checkVerdictKey(keySource: KeySource, verdict: { valid: boolean }, flags: VerifyKeyFlags): void {
  assertBoundIfValid(keySource, verdict, flags.vkey);
}

/** The human line of a verdict that says where its key comes from. */
export function keySourceLine(source: KeySource): string {
  return `  key          ${source.detail}`;
}

/**
 * The line under a prove command's "verify with" hint: the hint runs here (the key is this machine's own setup, or
 * its ceremony's), but a verifier elsewhere trusts a key only from its own setup, a ceremony it verified, or its word.
 */
export function verifierKeyNote(keys: Pick<CircuitKeys, 'ceremony'>): string {
  return keys.ceremony
    ? '    (a verifier on another machine accepts this ceremony key once it has checked the ceremony with zkai ceremony verify, which records the key, or with --trust-key)'
    : "    (this key is your own single-party setup: a verifier on another machine accepts it only with --trust-key, on your word; for a key it can check, prove with a ceremony's --zkey)";
}
