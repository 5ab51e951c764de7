/**
 * The verification keys of a private chunked dataset proof in one file: the committed chunk circuit's, the aggregation
 * node's and the root's (`zkai-private-chunk-keys-v1`). `data prove` writes it (`--vkey-out`, or into the cache) and
 * `data verify --vkey` reads it. What a verifier does with it is the usual rule: each key counts only when it comes
 * from the verifier's own setup or a ceremony it verified, of the circuit ITS schema, policy and fan-in generate
 * (`src/cli/verify-key.ts`); the file only carries them.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { cacheLayout } from '../cache/layout.ts';
import { InputFileError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import type { PreparedPrivateChunks } from './private-chunked.ts';

/** The format tag of a key set file. */
export const PRIVATE_CHUNK_KEYS_FORMAT = 'zkai-private-chunk-keys-v1';

/** The three circuits of a private chunked proof, in the order their keys are listed. */
export const PRIVATE_CHUNK_CIRCUITS = ['chunk', 'node', 'root'] as const;
export type PrivateChunkCircuit = (typeof PRIVATE_CHUNK_CIRCUITS)[number];

/**
 * A key set file: one snarkjs verification key per circuit. `node` is absent when the proof it was written with had
 * no node level (at most as many chunks as an aggregation proof takes).
 */
export interface PrivateChunkKeySet {
  format: typeof PRIVATE_CHUNK_KEYS_FORMAT;
  chunk: unknown;
  node?: unknown;
  root: unknown;
}

/**
 * Whether a compiled circuit's name is one of a private chunked proof's circuits (`dataset_committed_*` from
 * `generateDatasetCircuit`'s committed-chunk mode, `dataset_node_*` and `dataset_root_*` from
 * `generateAggregationCircuit`). Their proofs mean something only together, inside a private chunked proof file: a
 * root proof alone states a verdict over partials nobody opened, so verifiers of single proofs (the service) skip them.
 */
export function isPrivateChunkCircuitName(name: string): boolean {
  return /^dataset_(committed|node|root)_[0-9a-f]+$/.test(name);
}

/** Whether a JSON value is a key set (by its format tag; a plain verification key has none). */
export function isPrivateChunkKeySet(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { format?: unknown }).format !== undefined;
}

/**
 * Check a key set's shape: the format tag and an object per circuit (each key's own shape is checked where it is used).
 *
 * @throws InputFileError naming `path` and the field at fault
 */
export function parsePrivateChunkKeySet(raw: unknown, path: string): PrivateChunkKeySet {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InputFileError(path, 'a key set must be a JSON object');
  const value = raw as Record<string, unknown>;
  if (value.format !== PRIVATE_CHUNK_KEYS_FORMAT)
    throw new InputFileError(
      path,
      `format "${String(value.format)}" is not a key set of private chunked proofs (${PRIVATE_CHUNK_KEYS_FORMAT})`,
    );
  for (const circuit of PRIVATE_CHUNK_CIRCUITS) {
    const key = value[circuit];
    if (circuit === 'node' && key === undefined) continue;
    if (typeof key !== 'object' || key === null || Array.isArray(key))
      throw new InputFileError(path, `${circuit}: must be the ${circuit} circuit's verification key (an object)`);
  }
  return {
    format: PRIVATE_CHUNK_KEYS_FORMAT,
    chunk: value.chunk,
    ...(value.node === undefined ? {} : { node: value.node }),
    root: value.root,
  };
}

/** The key set of prepared circuits, read from their key folders. */
export async function privateChunkKeySet(prepared: PreparedPrivateChunks): Promise<PrivateChunkKeySet> {
  const read = async (vkeyPath: string): Promise<unknown> => JSON.parse(await readFile(vkeyPath, 'utf8')) as unknown;
  return {
    format: PRIVATE_CHUNK_KEYS_FORMAT,
    chunk: await read(prepared.chunk.keys.vkeyPath),
    ...(prepared.node ? { node: await read(prepared.node.keys.vkeyPath) } : {}),
    root: await read(prepared.root.keys.vkeyPath),
  };
}

/** The bytes of a key set file. */
export function keySetText(keys: PrivateChunkKeySet): string {
  return `${JSON.stringify(keys, null, 1)}\n`;
}

/**
 * Write a key set into the cache, named by the SHA-256 of its content (atomic; the same keys give the same file), and
 * return its path.
 */
export async function cacheKeySet(keys: PrivateChunkKeySet, cacheDir?: string): Promise<string> {
  const text = keySetText(keys);
  const path = cacheLayout(cacheDir).keySetPath(createHash('sha256').update(text).digest('hex'));
  await writeFileAtomic(path, text);
  return path;
}
