/**
 * What this machine trusts, besides the keys its own setup made (`<cache>/keys/<name>-<id>`): the verification keys of
 * ceremonies it verified (`zkai ceremony verify` and `zkai ceremony finalize` record them when the chain checks), and
 * the phase-2 contributions it made itself (`zkai ceremony contribute` records each hash). Off-chain verifiers accept a
 * key from here (`src/verifier/key-source.ts`); circuit registration asks whether a ceremony holds a contribution of
 * ours ({@link isOwnContribution}).
 *
 * One JSON file, `<cache>/trust/trust-store.json`, written atomically (mode 0600) under a lock. Keys are named by the id
 * the chain registry uses (`verificationKeyId`: SHA-256 of the key's points, 0x hex), contributions by snarkjs's
 * contribution hash in zkai's normalized form (128 lowercase hex digits, `normalizeHash`). A missing file is an empty
 * store; a file that is not a trust store is refused with a {@link TrustStoreError} naming it, and never overwritten.
 * Whoever can write the cache folder can already replace the keys in it, so this file adds no new way in.
 */
import { readFile } from 'node:fs/promises';
import { cacheLayout } from '../cache/layout.ts';
import { ZkaiError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { withFileLock } from '../util/file-lock.ts';
import { normalizeHash } from './ceremony.ts';

/** The `format` of a trust store file. */
export const TRUST_STORE_FORMAT = 'zkai-trust-store-v1';

/** A verification key whose ceremony this machine verified. */
export interface VerifiedCeremonyKey {
  /** The key's id as the chain registry names it (`verificationKeyId`): 0x and 64 lowercase hex digits. */
  vkeyId: string;
  /** The circuit's name (as the ceremony command compiled or read it). */
  circuit: string;
  /** SHA-256 (hex) of the transcript file the zkey was checked against, when one was. */
  transcriptSha256?: string;
  /** blake2b-512 (hex) of the zkey that was verified. */
  zkeyBlake2b512?: string;
  /** blake2b-512 (hex) of the circuit's r1cs the chain was checked against: binds the key to that circuit. */
  r1csBlake2b512?: string;
  /** The command that verified it. */
  via?: 'verify' | 'finalize';
  /** Contribution hashes the verifier required to be in the chain (`--contribution`), normalized. */
  contributionsChecked?: string[];
  /** Contributions in the chain that this machine made itself ({@link recordOwnContribution}), normalized. */
  ownContributions?: string[];
  /** When it was recorded (ISO 8601). */
  recordedAt: string;
}

/** A phase-2 contribution this machine made. */
export interface OwnContribution {
  /** snarkjs's contribution hash, normalized (128 lowercase hex digits). */
  contributionHash: string;
  /** The circuit of the ceremony, as far as the contributor knows it (the zkey's file name or circuit hash). */
  circuit: string;
  /** The name the contribution was made under. */
  name: string;
  /** When it was made (ISO 8601). */
  at: string;
}

/** The whole store. */
export interface TrustStore {
  format: typeof TRUST_STORE_FORMAT;
  ceremonyKeys: VerifiedCeremonyKey[];
  ownContributions: OwnContribution[];
}

/** A trust store file that cannot be read or is not a trust store: the file is named, and it is never overwritten. */
export class TrustStoreError extends ZkaiError {
  readonly path: string;
  constructor(path: string, message: string, options: { cause?: unknown } = {}) {
    super('TRUST_STORE_CORRUPT', `${path}: ${message}`, {
      ...options,
      hint: 'this file records the ceremonies you verified and the contributions you made; zkai will not overwrite it: repair it or move it away (then run zkai ceremony verify again for each ceremony you trust)',
    });
    this.path = path;
  }
}

/** Where the trust store of a cache folder lives. */
export function trustStorePath(cacheDir?: string): string {
  return cacheLayout(cacheDir).trustStorePath;
}

const KEY_ID = /^0x[0-9a-f]{64}$/;
const HASH512 = /^[0-9a-f]{128}$/;
const SHA256 = /^[0-9a-f]{64}$/;

function emptyStore(): TrustStore {
  return { format: TRUST_STORE_FORMAT, ceremonyKeys: [], ownContributions: [] };
}

/** Check a parsed file field by field; the first problem is named with its place. */
function parseStore(value: unknown, path: string): TrustStore {
  const bad = (where: string, expected: string) =>
    new TrustStoreError(path, `not a zkai trust store: ${where} must be ${expected}`);
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) throw bad('the top level', 'an object');
  if (value.format !== TRUST_STORE_FORMAT) throw bad('format', `"${TRUST_STORE_FORMAT}"`);
  if (!Array.isArray(value.ceremonyKeys)) throw bad('ceremonyKeys', 'a list');
  if (!Array.isArray(value.ownContributions)) throw bad('ownContributions', 'a list');
  const text = (v: unknown, where: string): string => {
    if (typeof v !== 'string') throw bad(where, 'a string');
    return v;
  };
  const matching = (v: unknown, pattern: RegExp, where: string, expected: string): string => {
    if (typeof v !== 'string' || !pattern.test(v)) throw bad(where, expected);
    return v;
  };
  const hashes = (v: unknown, where: string): string[] => {
    if (!Array.isArray(v)) throw bad(where, 'a list');
    return v.map((h, i) => matching(h, HASH512, `${where}[${i}]`, '128 lowercase hex digits'));
  };
  const ceremonyKeys = value.ceremonyKeys.map((entry: unknown, i): VerifiedCeremonyKey => {
    const at = `ceremonyKeys[${i}]`;
    if (!isObject(entry)) throw bad(at, 'an object');
    if (entry.via !== undefined && entry.via !== 'verify' && entry.via !== 'finalize')
      throw bad(`${at}.via`, '"verify" or "finalize"');
    return {
      vkeyId: matching(entry.vkeyId, KEY_ID, `${at}.vkeyId`, 'a verification key id (0x and 64 lowercase hex digits)'),
      circuit: text(entry.circuit, `${at}.circuit`),
      ...(entry.transcriptSha256 !== undefined
        ? {
            transcriptSha256: matching(
              entry.transcriptSha256,
              SHA256,
              `${at}.transcriptSha256`,
              '64 lowercase hex digits',
            ),
          }
        : {}),
      ...(entry.zkeyBlake2b512 !== undefined
        ? {
            zkeyBlake2b512: matching(entry.zkeyBlake2b512, HASH512, `${at}.zkeyBlake2b512`, '128 lowercase hex digits'),
          }
        : {}),
      ...(entry.r1csBlake2b512 !== undefined
        ? {
            r1csBlake2b512: matching(entry.r1csBlake2b512, HASH512, `${at}.r1csBlake2b512`, '128 lowercase hex digits'),
          }
        : {}),
      ...(entry.via !== undefined ? { via: entry.via } : {}),
      ...(entry.contributionsChecked !== undefined
        ? { contributionsChecked: hashes(entry.contributionsChecked, `${at}.contributionsChecked`) }
        : {}),
      ...(entry.ownContributions !== undefined
        ? { ownContributions: hashes(entry.ownContributions, `${at}.ownContributions`) }
        : {}),
      recordedAt: text(entry.recordedAt, `${at}.recordedAt`),
    };
  });
  const ownContributions = value.ownContributions.map((entry: unknown, i): OwnContribution => {
    const at = `ownContributions[${i}]`;
    if (!isObject(entry)) throw bad(at, 'an object');
    return {
      contributionHash: matching(entry.contributionHash, HASH512, `${at}.contributionHash`, '128 lowercase hex digits'),
      circuit: text(entry.circuit, `${at}.circuit`),
      name: text(entry.name, `${at}.name`),
      at: text(entry.at, `${at}.at`),
    };
  });
  return { format: TRUST_STORE_FORMAT, ceremonyKeys, ownContributions };
}

/**
 * Read the trust store of a cache folder (zkai's default cache when none is given). A missing file is an empty store.
 *
 * @throws TrustStoreError when the file cannot be read, is not JSON, or is not a trust store
 */
export async function readTrustStore(cacheDir?: string): Promise<TrustStore> {
  const path = trustStorePath(cacheDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyStore();
    throw new TrustStoreError(
      path,
      `cannot read the trust store: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    throw new TrustStoreError(
      path,
      `the trust store is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return parseStore(parsed, path);
}

/** Change the store under its lock: read (refusing a corrupted file), change, write atomically with mode 0600. */
async function updateStore(cacheDir: string | undefined, change: (store: TrustStore) => void): Promise<void> {
  const path = trustStorePath(cacheDir);
  await withFileLock(`${path}.lock`, async () => {
    const store = await readTrustStore(cacheDir);
    change(store);
    await writeFileAtomic(path, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
  });
}

function checkedKeyId(vkeyId: string): string {
  const id = vkeyId.toLowerCase();
  if (!KEY_ID.test(id))
    throw new ZkaiError(
      'INTERNAL',
      `not a verification key id: "${vkeyId}" (0x and 64 hex digits, from verificationKeyId)`,
    );
  return id;
}

function checkedHash(hash: string, what: string): string {
  const normalized = normalizeHash(hash);
  if (!HASH512.test(normalized))
    throw new ZkaiError('BAD_OPTION', `${what} "${hash}" is not 128 hex digits (snarkjs's blake2b-512)`);
  return normalized;
}

/**
 * Record that this machine verified the ceremony of a verification key (its whole chain against the circuit's r1cs
 * and the ptau). A key recorded again replaces its earlier record.
 *
 * @throws TrustStoreError when the existing store is corrupted (it is left as it is)
 */
export async function recordVerifiedCeremonyKey(
  cacheDir: string | undefined,
  entry: {
    vkeyId: string;
    circuit: string;
    transcriptSha256?: string;
    zkeyBlake2b512?: string;
    r1csBlake2b512?: string;
    via?: 'verify' | 'finalize';
    contributionsChecked?: readonly string[];
    ownContributions?: readonly string[];
  },
): Promise<VerifiedCeremonyKey> {
  const record: VerifiedCeremonyKey = {
    vkeyId: checkedKeyId(entry.vkeyId),
    circuit: entry.circuit,
    ...(entry.transcriptSha256 !== undefined ? { transcriptSha256: entry.transcriptSha256.toLowerCase() } : {}),
    ...(entry.zkeyBlake2b512 !== undefined ? { zkeyBlake2b512: entry.zkeyBlake2b512.toLowerCase() } : {}),
    ...(entry.r1csBlake2b512 !== undefined ? { r1csBlake2b512: entry.r1csBlake2b512.toLowerCase() } : {}),
    ...(entry.via ? { via: entry.via } : {}),
    ...(entry.contributionsChecked && entry.contributionsChecked.length > 0
      ? { contributionsChecked: entry.contributionsChecked.map((h) => checkedHash(h, 'the contribution hash')) }
      : {}),
    ...(entry.ownContributions && entry.ownContributions.length > 0
      ? { ownContributions: entry.ownContributions.map((h) => checkedHash(h, 'the contribution hash')) }
      : {}),
    recordedAt: new Date().toISOString(),
  };
  await updateStore(cacheDir, (store) => {
    store.ceremonyKeys = [...store.ceremonyKeys.filter((known) => known.vkeyId !== record.vkeyId), record];
  });
  return record;
}

/** The record of a verification key whose ceremony this machine verified, if any. */
export async function verifiedCeremonyKey(
  cacheDir: string | undefined,
  vkeyId: string,
): Promise<VerifiedCeremonyKey | undefined> {
  const id = vkeyId.toLowerCase();
  return (await readTrustStore(cacheDir)).ceremonyKeys.find((entry) => entry.vkeyId === id);
}

/**
 * Whether this machine verified the ceremony of the verification key with this id (`verificationKeyId`).
 *
 * @throws TrustStoreError when the store is corrupted
 */
export async function isVerifiedCeremonyKey(cacheDir: string | undefined, vkeyId: string): Promise<boolean> {
  return (await verifiedCeremonyKey(cacheDir, vkeyId)) !== undefined;
}

/**
 * Record a phase-2 contribution this machine made (`zkai ceremony contribute`), by the hash snarkjs computes for it
 * (as printed, in groups over lines, or as one hex string). A hash recorded again keeps its first record.
 *
 * @throws TrustStoreError when the existing store is corrupted (it is left as it is)
 */
export async function recordOwnContribution(
  cacheDir: string | undefined,
  entry: { contributionHash: string; circuit: string; name: string; at?: string },
): Promise<OwnContribution> {
  const record: OwnContribution = {
    contributionHash: checkedHash(entry.contributionHash, 'the contribution hash'),
    circuit: entry.circuit,
    name: entry.name,
    at: entry.at ?? new Date().toISOString(),
  };
  let kept = record;
  await updateStore(cacheDir, (store) => {
    const known = store.ownContributions.find((c) => c.contributionHash === record.contributionHash);
    if (known) kept = known;
    else store.ownContributions.push(record);
  });
  return kept;
}

/**
 * Whether this machine made the contribution with this hash (any form `normalizeHash` accepts). A string that is not
 * a contribution hash is not one of ours.
 *
 * @throws TrustStoreError when the store is corrupted
 */
export async function isOwnContribution(cacheDir: string | undefined, contributionHash: string): Promise<boolean> {
  const hash = normalizeHash(contributionHash);
  if (!HASH512.test(hash)) return false;
  return (await readTrustStore(cacheDir)).ownContributions.some((c) => c.contributionHash === hash);
}
