/**
 * Where an off-chain verifier's verification key comes from, decided by the verifier. A key handed over by a prover
 * proves nothing: the key of a circuit with the right number of public signals and no constraints verifies any claim.
 * So a verifier takes a key only from
 *
 * - its own setup: the key equals (by id) a key zkai's automatic setup made in its cache
 *   (`<cache>/keys/<name>-<id>/verification_key.json`; a `ceremony-*` folder holds a key imported from a handed-over
 *   `--zkey` and does not count);
 * - a ceremony it verified: `zkai ceremony verify` or `zkai ceremony finalize` recorded the key in the trust store
 *   (`src/setup/trust-store.ts`);
 * - its explicit word (`--trust-key`), which the output then says.
 *
 * Anything else is refused with `UNTRUSTED_KEY`, before any claim is checked or reported. Keys are compared by the id
 * the chain registry uses ({@link verificationKeyId}), so a copy of a key (`--vkey-out`) is the same key.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveCacheDir } from '../cache/cache-dir.ts';
import { verificationKeyId, type Groth16VerificationKey } from '../chain/groth16-template.ts';
import { ZkaiError } from '../errors.ts';
import { verifiedCeremonyKey, type VerifiedCeremonyKey } from '../setup/trust-store.ts';

/** Where a verification key a verifier uses comes from. */
export type KeySourceKind = 'own-setup' | 'verified-ceremony' | 'explicit';

/** The answer of {@link trustedKeySource}: the source, and a sentence saying which setup or ceremony it is. */
export interface KeySource {
  source: KeySourceKind;
  /** For people: "your own setup (cache ...)", "a ceremony you verified (...)", or "trusted on your word (--trust-key): ...". */
  detail: string;
  /** The key's id (`verificationKeyId`). */
  keyId: string;
}

/** Options of {@link trustedKeySource}. */
export interface KeySourceOptions {
  /** The verifier's cache folder (zkai's default cache when absent). */
  cacheDir?: string;
  /** The verifier says it trusts this key although neither its setup nor a ceremony it verified made it. */
  trustKey?: boolean;
  /** Where the key was read from, for messages. */
  path?: string;
}

/** The detail of a key taken on the verifier's word. */
export const EXPLICIT_KEY_DETAIL = 'trusted on your word (--trust-key): not made by your setup nor by a ceremony you verified';

/** The ways out of an `UNTRUSTED_KEY` refusal. */
export const UNTRUSTED_KEY_HINT =
  'use a key you trust: run the setup yourself from the circuit (zkai setup CIRCUIT.circom), or from the schema and policy or the model (the prove command on your machine), so your cache has the key; ' +
  'or verify the ceremony that made it (zkai ceremony verify ZKEY --circuit CIRCUIT --ptau PTAU --transcript TRANSCRIPT records its key); ' +
  'or pass --trust-key if you know where this key came from (the output then says it is trusted on your word)';

/** One key folder of the automatic setup in a cache. */
interface OwnKey {
  /** The key folder (`<cache>/keys/<name>-<id>`). */
  dir: string;
}

/** Per process: the automatic setup's keys of each cache folder, by id, valid while the keys folder is unchanged. */
const scans = new Map<string, { mtimeMs: number; keys: Promise<Map<string, OwnKey>> }>();

async function scanOwnKeys(keysDir: string): Promise<Map<string, OwnKey>> {
  const keys = new Map<string, OwnKey>();
  const names = await readdir(keysDir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    // Folders being built, and keys imported from a ceremony's --zkey (checked against the circuit, not made here).
    if (name.startsWith('.') || name.startsWith('ceremony-')) continue;
    const dir = join(keysDir, name);
    const vkeyPath = join(dir, 'verification_key.json');
    if (!existsSync(join(dir, 'meta.json')) || !existsSync(vkeyPath)) continue;
    try {
      const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as { circuitId?: unknown };
      if (typeof meta.circuitId !== 'string') continue;
      const vkey = JSON.parse(await readFile(vkeyPath, 'utf8')) as Groth16VerificationKey;
      const id = verificationKeyId(vkey, vkeyPath);
      if (!keys.has(id)) keys.set(id, { dir });
    } catch {
      // Not a key folder zkai wrote (or one being replaced): not a key of this cache.
    }
  }
  return keys;
}

/**
 * The keys zkai's automatic setup made in a cache folder, by id (`verificationKeyId`). The scan is kept for the
 * process while the keys folder does not change (a new or replaced key folder changes it).
 */
export async function ownSetupKeys(cacheDir?: string): Promise<Map<string, OwnKey>> {
  const keysDir = join(resolveCacheDir(cacheDir), 'keys');
  const mtimeMs = (await stat(keysDir).catch(() => undefined))?.mtimeMs ?? -1;
  const known = scans.get(keysDir);
  if (known && known.mtimeMs === mtimeMs) return known.keys;
  const keys = scanOwnKeys(keysDir);
  scans.set(keysDir, { mtimeMs, keys });
  return keys;
}

function short(hash: string): string {
  return `${hash.slice(0, 16)}...`;
}

/** The detail of a key recorded in the trust store: which circuit, which command, and whose contributions were seen. */
function ceremonyDetail(entry: VerifiedCeremonyKey): string {
  const how = entry.via === 'finalize' ? 'zkai ceremony finalize' : 'zkai ceremony verify';
  const yours = entry.ownContributions ?? [];
  const checked = (entry.contributionsChecked ?? []).filter((hash) => !yours.includes(hash));
  const contributions = [
    ...(yours.length > 0 ? [`your own contribution${yours.length > 1 ? 's' : ''} ${yours.map(short).join(', ')}`] : []),
    ...(checked.length > 0 ? [`the contribution${checked.length > 1 ? 's' : ''} you required ${checked.map(short).join(', ')}`] : []),
  ];
  return `a ceremony you verified (circuit ${entry.circuit}, ${how} on ${entry.recordedAt}${entry.transcriptSha256 ? ', against its transcript' : ''}; ${contributions.length > 0 ? `its chain holds ${contributions.join(' and ')}` : 'no contribution of yours was required in its chain'})`;
}

/**
 * Where a verification key comes from, in the order a verifier trusts it: its own setup, a ceremony it verified, its
 * explicit word. Call it before verifying anything.
 *
 * @throws ZkaiError `UNTRUSTED_KEY` when none applies (the hint names the three ways out); InputFileError when the key
 *   is not a Groth16 verification key; TrustStoreError when the trust store is corrupted
 */
export async function trustedKeySource(vkey: unknown, options: KeySourceOptions = {}): Promise<KeySource> {
  const source = options.path ?? 'verification key';
  const keyId = verificationKeyId(vkey as Groth16VerificationKey, source);
  const cacheDir = resolveCacheDir(options.cacheDir);
  const own = (await ownSetupKeys(cacheDir)).get(keyId);
  if (own) return { source: 'own-setup', detail: `your own setup (cache ${own.dir})`, keyId };
  const ceremony = await verifiedCeremonyKey(cacheDir, keyId);
  if (ceremony) return { source: 'verified-ceremony', detail: ceremonyDetail(ceremony), keyId };
  if (options.trustKey) return { source: 'explicit', detail: EXPLICIT_KEY_DETAIL, keyId };
  throw new ZkaiError(
    'UNTRUSTED_KEY',
    `${options.path ? `${options.path}: ` : ''}the verification key ${keyId} was not made by your own setup (cache ${cacheDir}) nor by a ceremony you verified: a key handed over by the prover proves nothing (a circuit with the right public signals and no constraints verifies anything), so nothing was verified`,
    { hint: UNTRUSTED_KEY_HINT },
  );
}
