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
 *
 * A verify verb with a statement of its own (a dataset's schema and policy, an inclusion's schema, a model and task)
 * gives the circuit that statement generates ({@link StatementCircuit}): an own-setup key then counts only when it was
 * made for that very circuit (same compiled circuit id), and a verified ceremony's key only when its ceremony was
 * checked against that circuit's r1cs (same blake2b-512). Otherwise a circuit the prover handed over, set up or
 * ceremony-verified by the verifier, would verify any claim its free public inputs state.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheLayout, circuitNameOfDir, isBuildDir, isCeremonyKeyDir, keyFiles } from '../cache/layout.ts';
import { verificationKeyId, type Groth16VerificationKey } from '../chain/groth16-template.ts';
import { ZkaiError } from '../errors.ts';
import { blake2b512File } from '../setup/ptau-file.ts';
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
  /**
   * `false` when the key comes from the verifier's own setup or a ceremony it verified, but was made for another circuit
   * than the one its statement generates: such a key may only reject ({@link assertBoundIfValid}), never accept.
   */
  bound?: boolean;
}

/** The circuit a verifier's own statement generates, to bind a key to it. */
export interface StatementCircuit {
  /** What it is generated from, for people: "schema and policy", "model (fixed weights)"... */
  describe: string;
  /** Write the circuit's source (cheap) and name it; compile it (cached) only when a key must be compared with it. */
  generate(): Promise<{ name: string; compile(): Promise<{ id: string; r1csPath: string }> }>;
}

/** Options of {@link trustedKeySource}. */
export interface KeySourceOptions {
  /** The verifier's cache folder (zkai's default cache when absent). */
  cacheDir?: string;
  /** The verifier says it trusts this key although neither its setup nor a ceremony it verified made it. */
  trustKey?: boolean;
  /** Where the key was read from, for messages. */
  path?: string;
  /** The circuit the verifier's own statement generates: keys of other circuits do not count as its own or verified. */
  statement?: StatementCircuit;
}

/** The detail of a key taken on the verifier's word. */
export const EXPLICIT_KEY_DETAIL =
  'trusted on your word (--trust-key): not made by your setup nor by a ceremony you verified';

/** The ways out of an `UNTRUSTED_KEY` refusal (a verb without a statement of its own: `zkai verify`). */
export const UNTRUSTED_KEY_HINT =
  'use a key you trust: run the setup yourself from a circuit source you trust (zkai setup CIRCUIT.circom), so your cache has the key; ' +
  'or verify the ceremony that made it with a contribution you trust (zkai ceremony verify ZKEY --circuit CIRCUIT --ptau PTAU --transcript TRANSCRIPT --contribution HASH records its key); ' +
  'or pass --trust-key if you know where this key came from (the output then says it is trusted on your word)';

/** The ways out for a verb whose circuit is generated from the verifier's statement. */
function statementHint(describe: string): string {
  return (
    `use a key of the circuit generated from your own ${describe}: your own setup of it (the prove command run on your machine makes it, and a prover can prove with its zkey: --zkey), ` +
    'or a ceremony of that circuit you verified with a contribution you trust (zkai ceremony verify ZKEY --circuit R1CS --ptau PTAU --transcript TRANSCRIPT --contribution HASH, with the r1cs zkai compiles from your files, records its key); ' +
    'a circuit handed over by the prover does not do, even set up by you; or pass --trust-key if you know where this key came from (the output then says it is trusted on your word)'
  );
}

/** One key folder of the automatic setup in a cache. */
interface OwnKey {
  /** The key folder (`<cache>/keys/<name>-<id>`). */
  dir: string;
  /** The compiled circuit's name (the folder's name without its id) and id (`meta.json`), which the key was made for. */
  circuitName: string;
  circuitId: string;
}

/** Per process: the automatic setup's keys of each cache folder, by id, valid while the keys folder is unchanged. */
const scans = new Map<string, { mtimeMs: number; keys: Promise<Map<string, OwnKey>> }>();

async function scanOwnKeys(keysDir: string): Promise<Map<string, OwnKey>> {
  const keys = new Map<string, OwnKey>();
  const names = await readdir(keysDir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    // Folders being built, and keys imported from a ceremony's --zkey (checked against the circuit, not made here).
    if (isBuildDir(name) || isCeremonyKeyDir(name)) continue;
    const dir = join(keysDir, name);
    const { vkeyPath, metaPath } = keyFiles(dir);
    if (!existsSync(metaPath) || !existsSync(vkeyPath)) continue;
    try {
      const meta = JSON.parse(await readFile(metaPath, 'utf8')) as { circuitId?: unknown };
      if (typeof meta.circuitId !== 'string') continue;
      const vkey = JSON.parse(await readFile(vkeyPath, 'utf8')) as Groth16VerificationKey;
      const id = verificationKeyId(vkey, vkeyPath);
      if (!keys.has(id)) keys.set(id, { dir, circuitName: circuitNameOfDir(name), circuitId: meta.circuitId });
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
  const keysDir = cacheLayout(cacheDir).keysDir;
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
    ...(checked.length > 0
      ? [`the contribution${checked.length > 1 ? 's' : ''} you required ${checked.map(short).join(', ')}`]
      : []),
  ];
  return `a ceremony you verified (circuit ${entry.circuit}, ${how} on ${entry.recordedAt}${entry.transcriptSha256 ? ', against its transcript' : ''}; ${contributions.length > 0 ? `its chain holds ${contributions.join(' and ')}` : 'no contribution of yours was required in its chain'})`;
}

/** Whether a key made for the compiled circuit `name`/`id` is a key of the statement's circuit (compiled only if the names agree). */
async function madeForStatement(statement: StatementCircuit, circuit: { name: string; id: string }): Promise<boolean> {
  try {
    const generated = await statement.generate();
    // The compiled id covers the circuit's name: another name is another circuit, with nothing to compile.
    if (generated.name !== circuit.name) return false;
    return (await generated.compile()).id === circuit.id;
  } catch {
    return false; // a shape the generators refuse is no circuit of the statement
  }
}

/** Whether a verified ceremony was checked against the r1cs of the statement's circuit. */
async function ceremonyOfStatement(statement: StatementCircuit, entry: VerifiedCeremonyKey): Promise<boolean> {
  if (!entry.r1csBlake2b512) return false; // recorded before the r1cs was: not bound to any circuit
  try {
    const compiled = await (await statement.generate()).compile();
    return (await blake2b512File(compiled.r1csPath)) === entry.r1csBlake2b512;
  } catch {
    return false;
  }
}

/**
 * Where a verification key comes from, in the order a verifier trusts it: its own setup, a ceremony it verified, its
 * explicit word. A verified ceremony counts only when its chain holds a contribution of the verifier's own (made on
 * this machine) or one it required (`--contribution`): a transcript shows the files agree, not who contributed. Call it
 * before verifying anything.
 *
 * With a `statement`, its own setup and its verified ceremonies are compared with the circuit that statement generates
 * (compiled only when a candidate key must be compared with it). A key of another circuit comes back with `bound:
 * false`: the verdict may then only reject (a proof of another policy, model or task names its mismatch as usual),
 * and {@link assertBoundIfValid} refuses a valid one, since the circuit (handed over by the prover, say) may leave its
 * public inputs free.
 *
 * @throws ZkaiError `UNTRUSTED_KEY` when none applies (the hint names the ways out); InputFileError when the key is
 *   not a Groth16 verification key; TrustStoreError when the trust store is corrupted
 */
export async function trustedKeySource(vkey: unknown, options: KeySourceOptions = {}): Promise<KeySource> {
  const source = options.path ?? 'verification key';
  const keyId = verificationKeyId(vkey as Groth16VerificationKey, source);
  const cacheDir = cacheLayout(options.cacheDir).dir;
  const statement = options.statement;
  const against = statement ? ` of the circuit generated from your ${statement.describe}` : '';
  const unbound = 'no statement ties it to a circuit here: it proves whatever circuit it was made for';
  const why: string[] = [];
  let otherCircuit: KeySource | undefined;
  const own = (await ownSetupKeys(cacheDir)).get(keyId);
  if (own) {
    if (!statement) return { source: 'own-setup', detail: `your own setup (cache ${own.dir}); ${unbound}`, keyId };
    if (await madeForStatement(statement, { name: own.circuitName, id: own.circuitId }))
      return { source: 'own-setup', detail: `your own setup${against} (cache ${own.dir})`, keyId, bound: true };
    const reason = `your own setup made it for another circuit (${own.circuitName}, ${own.dir}), not for the circuit generated from your ${statement.describe}`;
    why.push(reason);
    otherCircuit = { source: 'own-setup', detail: reason, keyId, bound: false };
  }
  const ceremony = await verifiedCeremonyKey(cacheDir, keyId);
  if (ceremony) {
    const vouched = (ceremony.ownContributions?.length ?? 0) + (ceremony.contributionsChecked?.length ?? 0) > 0;
    const sameCircuit = !statement || (await ceremonyOfStatement(statement, ceremony));
    if (vouched && sameCircuit)
      return {
        source: 'verified-ceremony',
        detail: `${ceremonyDetail(ceremony)}${statement ? `; its r1cs is the circuit generated from your ${statement.describe}` : `; ${unbound}`}`,
        keyId,
        ...(statement ? { bound: true } : {}),
      };
    if (!vouched)
      why.push(
        'you verified its ceremony, but with no contribution of yours or one you trust in its chain (a transcript shows the files agree, not who contributed): verify it again with --contribution HASH',
      );
    if (!sameCircuit) {
      const reason = `you verified its ceremony for another circuit (${ceremony.circuit}) than the one generated from your ${statement?.describe}`;
      why.push(reason);
      if (vouched)
        otherCircuit ??= {
          source: 'verified-ceremony',
          detail: `${ceremonyDetail(ceremony)}; ${reason}`,
          keyId,
          bound: false,
        };
    }
  }
  if (options.trustKey)
    return {
      source: 'explicit',
      detail: `${EXPLICIT_KEY_DETAIL}${why.length > 0 ? ` (${why.join('; ')})` : ''}`,
      keyId,
    };
  if (otherCircuit) return otherCircuit;
  throw new ZkaiError(
    'UNTRUSTED_KEY',
    `${options.path ? `${options.path}: ` : ''}the verification key ${keyId} ${why.length > 0 ? `is not one you can trust${against}: ${why.join('; ')}` : `was not made by your own setup (cache ${cacheDir}) nor by a ceremony you verified`}: a key handed over by the prover proves nothing (a circuit with the right public signals and no constraints verifies anything), so nothing was verified`,
    { hint: statement ? statementHint(statement.describe) : UNTRUSTED_KEY_HINT },
  );
}

/**
 * Refuse a VALID verdict reached with a key of another circuit than the one the verifier's statement generates
 * (`bound: false`): that circuit may leave its public inputs free, so its proofs prove nothing about the statement.
 * An invalid verdict stands (it claims nothing).
 *
 * @throws ZkaiError `UNTRUSTED_KEY`
 */
export function assertBoundIfValid(keySource: KeySource, verdict: { valid: boolean }, path?: string): void {
  if (!verdict.valid || keySource.bound !== false) return;
  throw new ZkaiError(
    'UNTRUSTED_KEY',
    `${path ? `${path}: ` : ''}the proof verifies with the verification key ${keySource.keyId}, but ${keySource.detail}: a circuit other than the one your own files generate (one the prover handed over, say) may leave its public inputs free, so this proves nothing about your statement and no verdict is given`,
    {
      hint: 'verify with the key of the circuit generated from your own files: your own setup of it, or a ceremony of it you verified with a contribution you trust; or pass --trust-key if you know where this key came from',
    },
  );
}
