/**
 * The circuits a verification service knows: verification keys given as files or folders, and the keys in zkai's
 * cache. Each is known by the id the chain registry uses ({@link verificationKeyId}), with its kind and the name and
 * meaning of each public signal when they can be found: from the cache, the compiled circuit's generated source
 * (zkai's generators write a `public signals: a, b, c` comment) or its symbol file.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import {
  CacheLayout,
  circuitFiles,
  circuitNameOfDir,
  isBuildDir,
  isCeremonyKeyDir,
  keyFiles,
  metaPathOf,
} from '../cache/layout.ts';
import { isPrivateChunkCircuitName } from '../data/private-chunk-keys.ts';
import { GENERATED_HEADER_PATTERN } from '../circuit/generated-source.ts';
import { DEMO_CIRCUIT_PATH } from '../demo/range-commitment.ts';
import { verificationKeyId, type Groth16VerificationKey } from '../chain/groth16-template.ts';
import { InputFileError } from '../errors.ts';
import { readJsonFile } from '../util/json-file.ts';
import { verifiedCeremonyKey } from '../setup/trust-store.ts';
import { assertVerificationKey } from '../verifier/verify.ts';
import type { VerificationKey } from '../verifier/types.ts';
import {
  describeStatement,
  loadStatementFile,
  statementPins,
  statementSignalNames,
  type Statement,
  type TrustedStatement,
} from '../statement/index.ts';
import { loadPrivateChunksStatement, type PrivateChunksStatement } from './private-chunks.ts';
import {
  describeSignals,
  genericSignalNames,
  kindFromSignalNames,
  type ServiceCircuitKind,
  type SignalDescription,
} from './signals.ts';

/** The service kind of a trusted statement (a plain circuit's kind follows its signal names, as the demo's does). */
export function serviceKindOf(statement: Statement): ServiceCircuitKind {
  return statement.kind === 'circuit' ? kindFromSignalNames(statement.signalNames) : statement.kind;
}

/** A known circuit. */
export interface CatalogEntry {
  /** The registry's circuit id: SHA-256 of the key's points, 0x hex. */
  id: string;
  /** The compiled circuit's name (cache) or the key file's name. */
  name: string;
  kind: ServiceCircuitKind;
  nPublic: number;
  /** One name per public signal (signal0... when unknown). */
  signalNames: string[];
  /** Whether the names come from the circuit (true) or are placeholders (false). */
  namesKnown: boolean;
  /**
   * Where the service's knowledge of what the signals mean comes from: the compiled circuit in the service's own cache,
   * a statement file the service was started with, or nothing (known by its key alone: pairing verdicts only).
   */
  namesFrom: 'compiled-circuit' | 'statement' | 'chain-registry' | null;
  /** Values every proof of this circuit must show, from a trusted statement (policy hash, model hash, task hash...). */
  pins: Record<string, string>;
  /** Where the key was found. */
  source: { type: 'file' | 'cache' | 'chain'; path: string };
  /** The compiled circuit's id in zkai's cache, which zkai proof files name as `circuitId`. */
  compiledId?: string;
  vkey: VerificationKey;
}

/** A catalog entry as the API shows it (without the key unless asked). */
export interface CircuitSummary {
  id: string;
  name: string;
  kind: ServiceCircuitKind;
  nPublic: number;
  namesKnown: boolean;
  namesFrom: CatalogEntry['namesFrom'];
  pins: Record<string, string>;
  source: 'file' | 'cache' | 'chain';
  compiledId: string | null;
  signals: SignalDescription[];
}

/** Where {@link CircuitCatalog.load} looks for keys. */
export interface CatalogSources {
  /** Verification key files, or folders whose `*.json` verification keys are all loaded. */
  keys?: readonly string[];
  /** zkai's cache folder: every key under `<cache>/keys` is loaded. */
  cacheDir?: string;
  /**
   * Statement files (see src/statement/statement-file.ts): each names a key and what the verifier trusts about it. A
   * statement of kind `dataset-private-chunks` names no key: the schema, policy and fan-in of private chunked proofs,
   * whose three circuits' keys the service then takes from `cacheDir` (src/service/private-chunks.ts).
   */
  statements?: readonly string[];
}

/** The known circuits, by id. */
export class CircuitCatalog {
  private readonly entries = new Map<string, CatalogEntry>();
  private readonly privateChunkStatements: PrivateChunksStatement[] = [];
  /** The cache folder the keys were loaded from: where the keys of private chunked proofs' circuits are looked up. */
  cacheDir: string | undefined;

  /** Every key found in the sources; a key file that is not a verification key is an {@link InputFileError}. */
  static async load(sources: CatalogSources): Promise<CircuitCatalog> {
    const catalog = new CircuitCatalog();
    // Cache first: it knows signal names, which a bare key file with the same id then shares.
    if (sources.cacheDir) {
      catalog.cacheDir = resolve(sources.cacheDir);
      await catalog.addCache(sources.cacheDir);
    }
    for (const path of sources.keys ?? []) await catalog.addPath(resolve(path));
    for (const path of sources.statements ?? []) {
      const privateChunks = await loadPrivateChunksStatement(path);
      if (privateChunks) catalog.addPrivateChunks(privateChunks);
      else await catalog.addStatement(await loadStatementFile(path));
    }
    return catalog;
  }

  /**
   * Trust private chunked proofs of a policy: its schema, policy, fan-in and registry roots (the keys of its three
   * circuits come from {@link cacheDir} at each request). One statement per policy.
   *
   * @throws {InputFileError} when a statement of the same policy is already trusted.
   */
  addPrivateChunks(statement: PrivateChunksStatement): void {
    const same = this.privateChunkStatements.find((s) => s.policy.hash === statement.policy.hash);
    if (same)
      throw new InputFileError(
        statement.source,
        `a statement of private chunked proofs of policy "${statement.policy.spec.name}" is already trusted (${same.source}): one schema, fan-in and set of registry roots per policy, so that no file chooses between them`,
      );
    this.privateChunkStatements.push(statement);
  }

  /** The trusted statements of private chunked proofs. */
  get privateChunks(): readonly PrivateChunksStatement[] {
    return this.privateChunkStatements;
  }

  /**
   * Add a key with what a statement file says it proves: its layout and pinned values come from the statement. A key
   * the cache already knows must have the same signal names, or the statement is refused.
   *
   * @throws {InputFileError} when the key is malformed, has another number of public signals than the statement's
   *   layout, or contradicts the compiled circuit's names.
   */
  async addStatement(trusted: TrustedStatement): Promise<CatalogEntry> {
    return this.addTrusted(trusted, await readJsonFile(trusted.verificationKeyPath, 'verification key'));
  }

  private addTrusted(
    trusted: TrustedStatement,
    vkey: unknown,
    from: { namesFrom: 'statement' | 'chain-registry'; kind?: ServiceCircuitKind; pins?: Record<string, string> } = {
      namesFrom: 'statement',
    },
  ): CatalogEntry {
    const names = statementSignalNames(trusted.statement);
    try {
      assertVerificationKey(vkey);
    } catch (error) {
      throw new InputFileError(trusted.verificationKeyPath, error instanceof Error ? error.message : String(error));
    }
    if (vkey.nPublic !== names.length) {
      throw new InputFileError(
        trusted.source,
        `the statement describes ${describeStatement(trusted.statement)} with ${names.length} public signals (${names.join(', ')}), but the key ${trusted.verificationKeyPath} has ${vkey.nPublic}: it is not this statement's key`,
      );
    }
    const id = verificationKeyId(vkey as unknown as Groth16VerificationKey, trusted.verificationKeyPath);
    const existing = this.entries.get(id);
    if (existing?.namesKnown && existing.signalNames.join(',') !== names.join(',')) {
      throw new InputFileError(
        trusted.source,
        `the statement's layout (${names.join(', ')}) contradicts the compiled circuit ${existing.name} of the same key (${existing.signalNames.join(', ')})`,
      );
    }
    const entry: CatalogEntry = {
      id,
      name: existing?.name ?? trusted.name,
      kind: from.kind ?? serviceKindOf(trusted.statement),
      nPublic: vkey.nPublic,
      signalNames: names,
      namesKnown: true,
      namesFrom: from.namesFrom,
      pins: { ...statementPins(trusted.statement), ...from.pins },
      source: existing?.source ?? {
        type: from.namesFrom === 'chain-registry' ? 'chain' : 'file',
        path: trusted.verificationKeyPath,
      },
      ...(existing?.compiledId ? { compiledId: existing.compiledId } : {}),
      vkey,
    };
    this.entries.set(id, entry);
    return entry;
  }

  /**
   * Add a verification key. When the id is already known, the entry that knows its signal names is kept.
   * @throws {InputFileError} when the key is malformed.
   */
  add(
    vkey: unknown,
    info: {
      name: string;
      source: CatalogEntry['source'];
      signalNames?: readonly string[];
      compiledId?: string;
      zkaiCircuit?: boolean;
    },
  ): CatalogEntry {
    try {
      assertVerificationKey(vkey);
    } catch (error) {
      throw new InputFileError(info.source.path, error instanceof Error ? error.message : String(error));
    }
    const id = verificationKeyId(vkey as unknown as Groth16VerificationKey, info.source.path);
    const known = info.signalNames !== undefined && info.signalNames.length === vkey.nPublic;
    const signalNames = known ? [...(info.signalNames as string[])] : genericSignalNames(vkey.nPublic);
    const entry: CatalogEntry = {
      id,
      name: info.name,
      // A zkai kind (what the explorer and claims describe as a dataset, an inference...) only for circuits zkai made:
      // any other circuit could name its signals "class" or "count" and constrain nothing.
      kind: known && info.zkaiCircuit ? kindFromSignalNames(signalNames) : 'generic',
      nPublic: vkey.nPublic,
      signalNames,
      namesKnown: known,
      namesFrom: known ? 'compiled-circuit' : null,
      pins: {},
      source: info.source,
      ...(info.compiledId ? { compiledId: info.compiledId } : {}),
      vkey,
    };
    const existing = this.entries.get(id);
    if (existing?.namesKnown && !known) return existing;
    if (existing?.namesFrom === 'statement') return existing;
    this.entries.set(id, entry);
    return entry;
  }

  /** The circuit with this id (any case), if known. */
  get(id: string): CatalogEntry | undefined {
    return this.entries.get(id.toLowerCase());
  }

  /**
   * Learn what the chain registry says a key proves: its owner registered the kind, the layout and the policy or task
   * hash the circuit pins. The key is the catalog's, or one a request sent whose id is the registered one (the
   * registry reads the id from the verifier, which inlines the key). A key whose names the service already knows keeps
   * them.
   */
  trustRegistered(
    vkey: VerificationKey,
    registered: { kind: ServiceCircuitKind; signalNames: string[]; pins: Record<string, string>; source: string },
  ): CatalogEntry {
    const id = verificationKeyId(vkey as unknown as Groth16VerificationKey, registered.source);
    const existing = this.entries.get(id);
    if (existing?.namesKnown) return existing;
    return this.addTrusted(
      {
        statement: { kind: 'circuit', signalNames: registered.signalNames },
        verificationKeyPath: existing?.source.path ?? registered.source,
        name: existing?.name ?? `registered ${registered.kind} circuit`,
        source: registered.source,
      },
      vkey,
      {
        namesFrom: 'chain-registry',
        kind: registered.kind,
        pins: registered.pins,
      },
    );
  }

  /** Keys made for the compiled circuit `compiledId` (zkai proof files name it `circuitId`). */
  byCompiledId(compiledId: string): CatalogEntry[] {
    return [...this.entries.values()].filter((entry) => entry.compiledId === compiledId);
  }

  /** Every known circuit, by name then id. */
  list(): CatalogEntry[] {
    return [...this.entries.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  get size(): number {
    return this.entries.size;
  }

  private async addPath(path: string): Promise<void> {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new InputFileError(path, 'no such verification key file or folder');
    if (!info.isDirectory()) {
      this.add(await readJsonFile(path, 'verification key'), {
        name: basename(path).replace(/\.json$/, ''),
        source: { type: 'file', path },
      });
      return;
    }
    // A folder: every JSON file that is a Groth16 verification key (proof files and others beside them are skipped).
    for (const file of (await readdir(path)).filter((name) => name.endsWith('.json')).sort()) {
      const json = await readJsonFile(join(path, file), 'JSON file').catch(() => undefined);
      if (!isVerificationKey(json)) continue;
      this.add(json, { name: file.replace(/\.json$/, ''), source: { type: 'file', path: join(path, file) } });
    }
  }

  private async addCache(cacheDir: string): Promise<void> {
    const cache = new CacheLayout(cacheDir);
    // Compiled circuits only: not a build in progress nor its lock (`.lock-<name>-<id>` ends with the id too).
    const compiled = (await readdir(cache.circuitsDir).catch(() => [] as string[])).filter((name) => !isBuildDir(name));
    for (const dir of (await readdir(cache.keysDir).catch(() => [] as string[])).sort()) {
      if (isBuildDir(dir)) continue;
      const { vkeyPath, metaPath } = keyFiles(join(cache.keysDir, dir));
      // A ceremony-* folder holds a key imported from a --zkey handed over for proving (checked against the circuit,
      // not made here): the service trusts it only when this machine verified its ceremony with a contribution it
      // trusts (the trust store), as the CLI's verify verbs do.
      if (isCeremonyKeyDir(dir) && !(await vouchedCeremonyKey(cacheDir, vkeyPath))) continue;
      const meta = (await readJsonFile(metaPath, 'key metadata').catch(() => undefined)) as
        { circuitId?: unknown } | undefined;
      if (!existsSync(vkeyPath) || typeof meta?.circuitId !== 'string') continue;
      const compiledId = meta.circuitId;
      const circuitDir = compiled.find((name) => name.endsWith(`-${compiledId}`));
      const described = circuitDir ? await compiledSignalNames(join(cache.circuitsDir, circuitDir), cache) : undefined;
      const vkey = await readJsonFile(vkeyPath, 'verification key').catch(() => undefined);
      if (!isVerificationKey(vkey)) continue;
      // The circuits of private chunked proofs are verified together (a v2 file, against a dataset-private-chunks
      // statement: src/service/private-chunks.ts), never one proof at a time.
      if (isPrivateChunkCircuitName(described?.name ?? circuitNameOfDir(dir))) continue;
      this.add(vkey, {
        name: described?.name ?? dir,
        source: { type: 'cache', path: vkeyPath },
        compiledId,
        ...(described?.signalNames ? { signalNames: described.signalNames } : {}),
        zkaiCircuit: described?.zkaiCircuit ?? false,
      });
    }
  }
}

/** An entry as the API lists it. */
export function summarize(entry: CatalogEntry): CircuitSummary {
  return {
    id: entry.id,
    name: entry.name,
    kind: entry.kind,
    nPublic: entry.nPublic,
    namesKnown: entry.namesKnown,
    namesFrom: entry.namesFrom,
    pins: entry.pins,
    source: entry.source.type,
    compiledId: entry.compiledId ?? null,
    signals: describeSignals(entry.signalNames),
  };
}

function isVerificationKey(value: unknown): value is VerificationKey {
  try {
    assertVerificationKey(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The public signal names of a compiled circuit in the cache: from the `public signals:` comment zkai's generators
 * write into the main source, else from the symbol file (wires 1..nPublic are the public signals, outputs first).
 */
async function compiledSignalNames(
  dir: string,
  cache: CacheLayout,
): Promise<{ name: string; signalNames?: string[]; zkaiCircuit?: boolean } | undefined> {
  const meta = (await readJsonFile(metaPathOf(dir), 'circuit metadata').catch(() => undefined)) as
    { name?: unknown; sources?: unknown; info?: { publicInputs?: unknown; outputs?: unknown } } | undefined;
  if (typeof meta?.name !== 'string') return undefined;
  const nPublic = Number(meta.info?.publicInputs ?? Number.NaN) + Number(meta.info?.outputs ?? Number.NaN);
  if (!Number.isInteger(nPublic)) return { name: meta.name };
  const main = Array.isArray(meta.sources) && typeof meta.sources[0] === 'string' ? meta.sources[0] : undefined;
  const source = main ? await readFile(main, 'utf8').catch(() => '') : '';
  // Made by zkai: a generator's output in the cache's generated folder (with its header), or the built-in demo circuit.
  const zkaiCircuit =
    main !== undefined &&
    ((cache.isGeneratedSource(main) && GENERATED_HEADER_PATTERN.test(source)) || resolve(main) === DEMO_CIRCUIT_PATH);
  const comment = /^\s*\/\/.*public signals: ([^\n]+)$/m.exec(source);
  const fromComment = comment?.[1]?.split(',').map((name) => name.trim());
  if (fromComment && fromComment.length === nPublic) return { name: meta.name, signalNames: fromComment, zkaiCircuit };
  const sym = await readFile(circuitFiles(dir, meta.name).symPath, 'utf8').catch(() => '');
  const byWire = new Map<number, string>();
  for (const line of sym.split('\n')) {
    const [, wire, , name] = line.split(',');
    const index = Number(wire);
    if (name && index >= 1 && index <= nPublic && !byWire.has(index)) byWire.set(index, name.replace(/^main\./, ''));
  }
  if (byWire.size !== nPublic) return { name: meta.name };
  return {
    name: meta.name,
    signalNames: Array.from({ length: nPublic }, (_, i) => byWire.get(i + 1) as string),
    zkaiCircuit,
  };
}

/** True when the trust store records the key at `vkeyPath` as verified with a contribution this machine trusts. */
async function vouchedCeremonyKey(cacheDir: string, vkeyPath: string): Promise<boolean> {
  const vkey = await readJsonFile(vkeyPath, 'verification key').catch(() => undefined);
  if (!isVerificationKey(vkey)) return false;
  const entry = await verifiedCeremonyKey(
    cacheDir,
    verificationKeyId(vkey as unknown as Groth16VerificationKey, vkeyPath),
  ).catch(() => undefined);
  return entry !== undefined && (entry.ownContributions?.length ?? 0) + (entry.contributionsChecked?.length ?? 0) > 0;
}
