/**
 * Registry files on disk: write and read `zkai-registry-v1` files (a sorted id list, or a consent tree read from the
 * chain), rebuilding the tree and refusing a file whose root differs; read id lists. Kept apart from the tree
 * (registry.ts) and the consent tree (consent-tree.ts), which both build on registry.ts.
 */
import { readFile } from 'node:fs/promises';
import { consentRegistry } from './consent-tree.ts';
import { InputFileError, ZkaiError } from '../errors.ts';
import { readJsonFile } from '../util/json-file.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import type { Schema } from './types.ts';
import { BN254_SCALAR_FIELD } from '../verifier/types.ts';
import {
  buildRegistry,
  REGISTRY_FORMAT,
  RegistryError,
  type ConsentRegistryFile,
  type Registry,
  type RegistryFile,
} from './registry.ts';

/** The public registry file of a sorted registry. */
export function registryFile(registry: Registry): RegistryFile {
  if (registry.leafIndex)
    throw new RegistryError(
      `registry ${registry.name} is a consent tree: its file is a consent registry file (consentRegistryFile)`,
    );
  return {
    format: REGISTRY_FORMAT,
    name: registry.name,
    field: registry.field,
    schemaHash: registry.schemaHash,
    depth: registry.depth,
    root: registry.root,
    size: registry.ids.length,
    ids: registry.ids,
  };
}

/** The file of a consent tree registry (made by `consentRegistry` with a `source`). */
export function consentRegistryFile(registry: Registry): ConsentRegistryFile {
  const consent = registry.consent;
  if (!registry.leafIndex || !consent?.source)
    throw new RegistryError(
      `registry ${registry.name} is not a consent tree read from a chain (it needs its source: chain, purpose, block)`,
    );
  return {
    format: REGISTRY_FORMAT,
    kind: 'consent',
    name: registry.name,
    field: registry.field,
    schemaHash: registry.schemaHash,
    depth: registry.depth,
    root: registry.root,
    chain: consent.source,
    leaves: (registry.levels[0] as bigint[]).map(String),
    revoked: [...consent.revoked].sort(([a], [b]) => a - b).map(([index, leaf]) => ({ index, leaf: leaf.toString() })),
    ids: consent.givenIds,
    live: registry.ids.length,
  };
}

/** Write a registry file atomically: a sorted registry's, or a consent tree's (kind "consent"). */
export async function saveRegistry(path: string, registry: Registry): Promise<void> {
  const file = registry.leafIndex ? consentRegistryFile(registry) : registryFile(registry);
  // Private (0600): a registry file lists ids (a consent file: the data holder's subjects); only its root is shared.
  await writeFileAtomic(path, `${JSON.stringify(file, null, 1)}\n`, { mode: 0o600 });
}

/**
 * Read a registry file and rebuild its tree under the schema: a sorted registry (`zkai data registry`) from its ids,
 * a consent registry (kind "consent", `zkai chain consent tree --out`) from the chain's leaves it holds, with the
 * data holder's ids looked up in them. The root in the file must equal the rebuilt one (a corrupted or hand-edited
 * file is refused), and the file must have been made for this schema.
 *
 * @throws {InputFileError} naming the file and what is wrong with it.
 */
export async function loadRegistry(path: string, schema: Schema): Promise<Registry> {
  const file = (await readJsonFile(path, 'registry')) as Partial<RegistryFile> | Partial<ConsentRegistryFile> | null;
  if (typeof file !== 'object' || file === null || file.format !== REGISTRY_FORMAT)
    throw new InputFileError(
      path,
      `not a zkai registry (format "${REGISTRY_FORMAT}" missing); make one with zkai data registry`,
    );
  const kind = (file as { kind?: unknown }).kind;
  if (kind !== undefined && kind !== 'sorted' && kind !== 'consent')
    throw new InputFileError(
      path,
      `unknown registry kind ${JSON.stringify(kind)} (known: "sorted", the default, and "consent")`,
    );
  if (
    typeof file.name !== 'string' ||
    typeof file.field !== 'string' ||
    typeof file.depth !== 'number' ||
    typeof file.root !== 'string' ||
    !Array.isArray(file.ids)
  ) {
    throw new InputFileError(
      path,
      `a ${kind === 'consent' ? 'consent ' : ''}registry needs name, field, depth, root and ids`,
    );
  }
  if (file.schemaHash !== schema.hash) {
    throw new InputFileError(
      path,
      `the registry was made for schema hash ${String(file.schemaHash)}, not for schema "${schema.spec.name}" (hash ${schema.hash}): ids are encoded by the schema, so it cannot be used with this one`,
    );
  }
  if (!file.ids.every((id) => typeof id === 'string'))
    throw new InputFileError(path, 'registry ids must be strings, as written in the data');
  if (kind === 'consent')
    return loadConsentRegistry(
      path,
      schema,
      file as Partial<ConsentRegistryFile> & {
        name: string;
        field: string;
        depth: number;
        root: string;
        ids: string[];
      },
    );
  let registry: Registry;
  try {
    registry = buildRegistry(schema, { name: file.name, field: file.field, depth: file.depth, ids: file.ids });
  } catch (error) {
    if (error instanceof ZkaiError) throw new InputFileError(path, error.message);
    throw error;
  }
  if (registry.root !== file.root)
    throw new InputFileError(
      path,
      `the registry's ids give root ${registry.root}, but the file says ${file.root}: the file is corrupted or was edited`,
    );
  return registry;
}

const DECIMAL_TEXT = /^(0|[1-9][0-9]{0,77})$/;

/** The consent kind of {@link loadRegistry}: the tree rebuilt from the file's leaves must have the file's root. */
function loadConsentRegistry(
  path: string,
  schema: Schema,
  file: Partial<ConsentRegistryFile> & { name: string; field: string; depth: number; root: string; ids: string[] },
): Registry {
  const again =
    'export it again with zkai chain consent tree --purpose PURPOSE --out FILE (and its --schema, --field, --name, --ids)';
  if (!Array.isArray(file.leaves))
    throw new InputFileError(path, "a consent registry needs the chain's leaves (an array of decimal strings)");
  const leaves: bigint[] = [];
  for (const [index, leaf] of file.leaves.entries()) {
    if (typeof leaf !== 'string' || !DECIMAL_TEXT.test(leaf) || BigInt(leaf) >= BN254_SCALAR_FIELD)
      throw new InputFileError(
        path,
        `leaves[${index}] must be a decimal string below the BN254 scalar field, got ${JSON.stringify(leaf)}`,
        { hint: again },
      );
    leaves.push(BigInt(leaf));
  }
  const revoked = new Map<number, bigint>();
  for (const [i, entry] of (Array.isArray(file.revoked) ? file.revoked : []).entries()) {
    const { index, leaf } = (entry ?? {}) as { index?: unknown; leaf?: unknown };
    if (typeof index !== 'number' || !Number.isInteger(index) || typeof leaf !== 'string' || !DECIMAL_TEXT.test(leaf))
      throw new InputFileError(path, `revoked[${i}] must be { "index": leaf index, "leaf": decimal }`, { hint: again });
    if (leaves[index] !== 0n)
      throw new InputFileError(
        path,
        `revoked[${i}] names leaf ${index} as revoked, but leaves[${index}] is ${leaves[index] === undefined ? 'missing' : `${leaves[index]}, not 0`}: the file is corrupted or was edited`,
        { hint: again },
      );
    revoked.set(index, BigInt(leaf));
  }
  const source = file.chain;
  if (
    typeof source !== 'object' ||
    source === null ||
    typeof source.chainId !== 'number' ||
    typeof source.contract !== 'string' ||
    typeof source.purposeId !== 'string' ||
    typeof source.blockNumber !== 'number'
  ) {
    throw new InputFileError(
      path,
      'a consent registry needs its "chain": chainId, contract, purpose, purposeId, blockNumber, blockTime, rootWindow',
      { hint: again },
    );
  }
  let registry: Registry;
  try {
    registry = consentRegistry(schema, {
      name: file.name,
      field: file.field,
      depth: file.depth,
      leaves,
      ids: file.ids,
      revoked,
      source,
    });
  } catch (error) {
    if (error instanceof ZkaiError) throw new InputFileError(path, error.message, { hint: again });
    throw error;
  }
  if (registry.root !== file.root) {
    throw new InputFileError(
      path,
      `the consent leaves in the file give root ${registry.root} at depth ${file.depth}, but the file says ${file.root} (the chain's root at block ${source.blockNumber}): the file is corrupted or was edited`,
      { hint: again },
    );
  }
  return registry;
}

/** Read a list of ids for `zkai data registry`: a JSON array, or a text file with one id per line (exactly as in the data). */
export async function readIdList(path: string): Promise<{ ids: string[]; positions: string[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputFileError(
      path,
      `cannot read the id list: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (/\.json$/i.test(path)) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new InputFileError(
        path,
        `the id list is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (!Array.isArray(raw)) throw new InputFileError(path, 'a JSON id list must be an array of ids');
    const bad = raw.findIndex((id) => typeof id !== 'string' && typeof id !== 'number');
    if (bad >= 0)
      throw new InputFileError(
        path,
        `index ${bad}: an id must be a string or a number, got ${JSON.stringify(raw[bad])}`,
      );
    return { ids: raw.map(String), positions: raw.map((_, i) => `index ${i}`) };
  }
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (lines.at(-1) === '') lines.pop();
  const empty = lines.findIndex((line) => line === '');
  if (empty >= 0)
    throw new InputFileError(
      path,
      `line ${empty + 1} is empty: one id per line, no blank lines (ids are read exactly, never trimmed)`,
    );
  return { ids: lines, positions: lines.map((_, i) => `line ${i + 1}`) };
}
