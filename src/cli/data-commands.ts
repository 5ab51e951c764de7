import { lstat, readFile } from 'node:fs/promises';
import { parseProofFile, type ProofFile } from '../statement/index.ts';
import { resolve } from 'node:path';
import { InputFileError, WitnessError, ZkaiError } from '../errors.ts';
import { keyWarnings, type Phase2Trust } from '../setup/key-trust.ts';
import type { CircuitKeys } from '../setup/phase2.ts';
import type { PrepareOptions } from '../data/prepare-generated.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { createBundle, loadBundle, recommit, saveBundle, type DatasetBundle } from '../data/bundle.ts';
import { treeDepth, type DatasetCommitment } from '../data/commitment.ts';
import {
  policyRegistries,
  proveDataset,
  PolicyViolationError,
  trustedRegistryRoots,
  verifyDatasetProof,
  type DatasetProof,
  type RegistryRoot,
} from '../data/dataset-proof.ts';
import { buildRegistry, type Registry } from '../data/registry.ts';
import { loadRegistry, readIdList, saveRegistry } from '../data/registry-file.ts';
import { consentStatusLookup, type ConsentStatus } from '../data/consent-tree.ts';
import { encodeCell, formatAddress, listColumns } from '../data/encode.ts';
import { proveDatasetInChunks, publicPartialsRefusal, verifyChunkedDataset } from '../data/chunked.ts';
import {
  cacheKeySet,
  isPrivateChunkKeySet,
  parsePrivateChunkKeySet,
  PRIVATE_CHUNK_CIRCUITS,
  privateChunkKeySet,
  keySetText,
  type PrivateChunkCircuit,
} from '../data/private-chunk-keys.ts';
import { AGGREGATION_FAN_IN, provePrivateChunks, verifyPrivateChunks } from '../data/private-chunked.ts';
import { MAX_FAN_IN } from '../data/aggregation-gen.ts';
import { chunkPartials } from '../policy/chunks.ts';
import { readDataset } from '../data/ingest.ts';
import { proveInclusion, subjectColumn, verifyInclusion, type InclusionProof } from '../data/inclusion.ts';
import { evaluatePolicy, loadPolicy, registriesForPolicy, type Policy, type PolicyReport } from '../policy/policy.ts';
import {
  ADDRESS_BITS,
  DEFAULT_DATE_MIN,
  DEFAULT_DATETIME_MIN,
  formatScaledDecimal,
  loadSchema,
  parseDateDays,
  parseScaledDecimal,
} from '../data/schema.ts';
import type { Column, EncodedRecord, Schema } from '../data/types.ts';
import { formatIsoInstant, parseIsoInstant } from '../data/date-format.ts';
import type { VerificationResult } from '../verifier/verify.ts';
import { readJsonFile } from './io.ts';
import { emit, progressPrinter, seconds, type GlobalFlags } from './output.ts';
import { contextOption, positiveInteger } from './chain-commands.ts';
import {
  checkVerdictKey,
  keySourceLine,
  verifierKeyNote,
  verifierKeySource,
  type VerifierStatement,
} from './verify-key.ts';
import type { KeySource } from '../verifier/key-source.ts';
import type {
  DataCheckFlags,
  DataCommitFlags,
  DataIncludeFlags,
  DataProveFlags,
  DataRegistryFlags,
  DataVerifyFlags,
  DataVerifyIncludeFlags,
} from './groups/data.ts';

const DAY_MS = 86_400_000;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** The warning every bundle comes with. */
export const BUNDLE_PRIVATE_WARNING =
  'the bundle holds every record and its salt: keep it PRIVATE (anyone holding it can read the data and link it to the public root). Publish only the commitment.';

const bigintJson = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value);

/** Does anything exist at `path` (a file, a folder, a dangling link)? */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Refuse an output path that is one of the command's inputs (writing it would destroy that input). */
function refuseSamePath(output: string, outputOption: string, inputs: Record<string, string | undefined>): void {
  for (const [option, input] of Object.entries(inputs)) {
    if (input !== undefined && resolve(input) === resolve(output)) {
      throw new ZkaiError(
        'BAD_OPTION',
        `${outputOption} ${output} is also the ${option} file: writing it would destroy that input`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Hints: the commands printed for the next step (verify a proof, attest it), as text for people and as data for --json.

/**
 * A command the CLI prints for someone to run next. Placeholders (capitals, e.g. `COMMITMENT.json`) stand only for
 * what the command that printed the hint cannot supply, chiefly the values a verifier must bring from its own trusted
 * source (the published commitment, the registry roots it trusts); every other flag is written out with its real value.
 */
export interface CommandHint {
  /** The command as one line, each word quoted for a POSIX shell where it needs it. */
  command: string;
  /** Its words, `zkai` first, unquoted (a placeholder is a word, or the part of a word after `=`). */
  argv: string[];
  /** Each placeholder and what to put in its place. */
  placeholders: Record<string, string>;
}

/** The placeholder of a dataset's published commitment in a hint. */
const COMMITMENT_PLACEHOLDER = 'COMMITMENT.json';

/** A word as a POSIX shell reads it back unchanged: as it is when it holds only safe characters, else single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * A hint from its words (`zkai` first) and its placeholders. Throws when a placeholder does not occur in the words,
 * so no hint explains a placeholder it does not use.
 */
export function commandHint(argv: readonly string[], placeholders: Readonly<Record<string, string>> = {}): CommandHint {
  for (const name of Object.keys(placeholders)) {
    if (!argv.some((word) => word === name || word.endsWith(`=${name}`)))
      throw new ZkaiError('INTERNAL', `hint placeholder ${name} is not in the command ${argv.join(' ')}`);
  }
  return { command: argv.map(shellWord).join(' '), argv: [...argv], placeholders: { ...placeholders } };
}

/** The lines of a hint for people: `label: command`, then one line per placeholder saying what goes there. */
export function hintLines(label: string, hint: CommandHint, indent = '  '): string[] {
  return [
    `${indent}${label}: ${hint.command}`,
    ...Object.entries(hint.placeholders).map(([name, what]) => `${indent}  (${name}: ${what})`),
  ];
}

/** What a prove command's --json says about its key: single-party or not, its phase-2 trust, the ceremony's chain. */
export function keyJson(keys: CircuitKeys): {
  singleParty: boolean;
  phase2: Phase2Trust;
  ceremony?: { zkey: string; contributions: number; vkeyFromCeremony: boolean };
} {
  return {
    singleParty: keys.phase2.singleParty,
    phase2: keys.phase2,
    ...(keys.ceremony
      ? {
          ceremony: {
            zkey: keys.ceremony.zkeyPath,
            contributions: keys.ceremony.contributions.length,
            vkeyFromCeremony: keys.ceremony.vkeyFromCeremony,
          },
        }
      : {}),
  };
}

/** For a ceremony key (--zkey): a line naming it, its chain and what it was checked against. */
export function ceremonyKeyLines(keys: CircuitKeys): string[] {
  if (!keys.ceremony) return [];
  const steps = keys.ceremony.contributions;
  const names = steps
    .map((step) => (step.type === 'beacon' ? 'beacon' : step.name ? `"${step.name}"` : 'unnamed'))
    .join(', ');
  return [
    `  ceremony key  ${keys.ceremony.zkeyPath}: ${steps.length} step${steps.length === 1 ? '' : 's'} (${names}), ${keys.verified ? 'checked now' : 'checked earlier (remembered in the cache)'} against the circuit's r1cs and ${keys.ptau.path}; key trust ${keys.phase2.trust === 'production' ? 'PRODUCTION' : 'DEVELOPMENT-ONLY'}`,
    ...(keys.ceremony.vkeyFromCeremony
      ? []
      : [
          `  verification key exported from the zkey to ${keys.vkeyPath} (no ceremony verification key next to the zkey)`,
        ]),
  ];
}

/** The key options of a prove command: `--ptau`, and `--zkey` (a ceremony's key, checked against the circuit). */
export function keyOptions(flags: { ptau?: string; zkey?: string }): Pick<PrepareOptions, 'ptauPath' | 'zkeyPath'> {
  return { ...(flags.ptau ? { ptauPath: flags.ptau } : {}), ...(flags.zkey ? { zkeyPath: flags.zkey } : {}) };
}

/** The warning lines of a key (development ptau, single-party key, a ceremony key short of production). */
export function keyWarningLines(keys: CircuitKeys): string[] {
  return keyWarnings(keys).map((warning) => `  WARNING: ${warning}`);
}

/** The placeholder of a registry's trusted root (`CONSENT_ROOT` for registry `consent`), distinct from `taken`. */
function rootPlaceholder(name: string, taken: ReadonlySet<string>): string {
  const base = `${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_ROOT`;
  let placeholder = base;
  for (let n = 2; taken.has(placeholder); n += 1) placeholder = `${base}_${n}`;
  return placeholder;
}

/**
 * `zkai data verify` for a dataset proof (whole or chunked): the verifier brings the published commitment and the root
 * of every registry the policy checks ids against (both placeholders); the rest is this proof's.
 */
function datasetVerifyHint(
  files: { vkey: string; proof: string; schema: string; policy: string },
  registries: readonly RegistryRoot[],
  loaded: readonly Registry[],
  fanIn = AGGREGATION_FAN_IN,
): CommandHint {
  const placeholders: Record<string, string> = {
    [COMMITMENT_PLACEHOLDER]: 'the published commitment you trust, from zkai data commit --public',
  };
  const registryWords: string[] = [];
  for (const registry of registries) {
    const placeholder = rootPlaceholder(registry.name, new Set(Object.keys(placeholders)));
    const source = loaded.find((r) => r.name === registry.name)?.consent?.source;
    placeholders[placeholder] = source
      ? `the root you trust of consent purpose "${source.purpose}" on chain ${source.chainId}, from zkai chain consent tree`
      : `the root you trust of registry "${registry.name}", as its publisher printed it with zkai data registry`;
    registryWords.push('--registry', `${registry.name}=${placeholder}`);
  }
  return commandHint(
    [
      'zkai',
      'data',
      'verify',
      '--vkey',
      files.vkey,
      '--proof',
      files.proof,
      '--schema',
      files.schema,
      '--policy',
      files.policy,
      '--commitment',
      COMMITMENT_PLACEHOLDER,
      ...registryWords,
      ...(fanIn === AGGREGATION_FAN_IN ? [] : ['--fan-in', String(fanIn)]),
    ],
    placeholders,
  );
}

/** The `--fan-in` option: children per aggregation proof of a private chunked proof. */
function fanInOption(value: string | undefined): number {
  return positiveInteger(value ?? String(AGGREGATION_FAN_IN), '--fan-in', 2, MAX_FAN_IN);
}

/**
 * `zkai chain attest` for a proof just made: the cache the proving key is in, and for an inclusion proof the commitment
 * that registers its dataset. NONCE is the prover's own. The circuit must be registered first ({@link registerHint}).
 */
function attestHint(proofPath: string, flags: GlobalFlags, what: { commitment?: boolean }): CommandHint {
  const placeholders: Record<string, string> = { NONCE: 'the nonce zkai chain context made the context with' };
  if (what.commitment)
    placeholders[COMMITMENT_PLACEHOLDER] =
      'your commitment file from zkai data commit --public; it registers the dataset if it is not registered yet';
  return commandHint(
    [
      'zkai',
      ...(flags.cacheDir ? ['--cache-dir', flags.cacheDir] : []),
      'chain',
      'attest',
      proofPath,
      '--nonce',
      'NONCE',
      ...(what.commitment ? ['--commitment', COMMITMENT_PLACEHOLDER] : []),
    ],
    placeholders,
  );
}

/**
 * `zkai chain register` for the circuit of a proof just made, as the registry owner runs it once: from the schema and
 * policy (regenerated on the owner's machine), the key (a ceremony's --zkey and --ptau, or --development for this
 * machine's own single-party setup), the consent purpose of a consent registry and a curated list for every other.
 */
function registerHint(
  proofPath: string,
  flags: GlobalFlags,
  what: {
    schema: string;
    policy?: string;
    keys: CircuitKeys;
    registries?: readonly Registry[];
    fanIn?: number;
    /** A private chunked proof's aggregation circuits' keys: a ceremony key is named, the others are --development. */
    aggregation?: { node?: CircuitKeys; root: CircuitKeys };
  },
): CommandHint {
  const placeholders: Record<string, string> = {};
  const registryWords = (what.registries ?? []).flatMap((registry) => {
    if (registry.consent?.source)
      return ['--consent-registry', registry.name, '--purpose', registry.consent.source.purpose];
    placeholders[`LIST_${registry.name.toUpperCase()}`] =
      `the curated list (zkai chain list create) registry "${registry.name}" is checked against`;
    return ['--list', `${registry.name}=LIST_${registry.name.toUpperCase()}`];
  });
  const ceremony = (keys: CircuitKeys | undefined) => keys?.phase2.source === 'ceremony';
  const all = [what.keys, what.aggregation?.root, what.aggregation?.node].filter((k) => k !== undefined);
  const keyWords = all.some(ceremony)
    ? [
        ...(ceremony(what.keys) ? ['--zkey', what.keys.zkeyPath] : []),
        ...(ceremony(what.aggregation?.root) ? ['--root-zkey', what.aggregation!.root.zkeyPath] : []),
        ...(ceremony(what.aggregation?.node) ? ['--node-zkey', what.aggregation!.node!.zkeyPath] : []),
        '--ptau',
        all.find(ceremony)!.ptau.path,
        ...(all.every(ceremony) ? [] : ['--development']),
      ]
    : ['--development'];
  return commandHint(
    [
      'zkai',
      ...(flags.cacheDir ? ['--cache-dir', flags.cacheDir] : []),
      'chain',
      'register',
      proofPath,
      '--schema',
      what.schema,
      ...(what.policy ? ['--policy', what.policy] : []),
      ...keyWords,
      ...registryWords,
      ...(what.fanIn === undefined || what.fanIn === AGGREGATION_FAN_IN ? [] : ['--fan-in', String(what.fanIn)]),
    ],
    placeholders,
  );
}

/**
 * The lines on attesting a proof on chain: with a context, the context and the attest command; without one, when the
 * proof was made against a consent registry (made to be attested), how to make an attestable proof; else none.
 */
function attestLines(
  context: bigint | undefined,
  hint: CommandHint,
  consent: boolean,
  register?: CommandHint,
): string[] {
  const registerLines = register ? hintLines('the registry owner registers the circuit once with', register) : [];
  if (context) return [`  context            ${context}`, ...registerLines, ...hintLines('attest with', hint)];
  return consent
    ? [
        ...registerLines,
        ...hintLines('to attest it on chain, prove again with --context (zkai chain context prints one), then', hint),
      ]
    : [];
}

/**
 * Read a dataset file, with a progress line on stderr every 1000 records (unless --quiet), and one line naming the
 * columns it skipped (a schema with `"otherColumns": "ignore"`; even with --quiet: skipped data is never silent).
 */
async function ingest(path: string, schema: Schema, flags: GlobalFlags): Promise<EncodedRecord[]> {
  return readDataset(path, schema, {
    ...(flags.quiet
      ? {}
      : { onProgress: (rows: number) => process.stderr.write(`[ingest] ${rows} records read from ${path}\n`) }),
    onIgnoredColumns: (columns) =>
      process.stderr.write(
        `[ingest] skipped ${columns.length} column${columns.length === 1 ? '' : 's'} of ${path} that the schema does not list ("otherColumns": "ignore"): ${listColumns(columns)}\n`,
      ),
  });
}

/**
 * A record's value as people read it: integer = encoded + min, decimal with its scale, category name, date YYYY-MM-DD, datetime YYYY-MM-DDTHH:mm:ssZ,
 * boolean, `(hashed)` for strings (only their Poseidon hash is kept), an address in its EIP-55 checksummed form and
 * `null`.
 */
export function decodeValue(column: Column, encoded: string | bigint | null): string {
  if (encoded === null) return 'null';
  const value = BigInt(encoded);
  const spec = column.spec;
  switch (spec.type) {
    case 'integer':
      return (value + BigInt(spec.min)).toString();
    case 'decimal': {
      const min = parseScaledDecimal(spec.min, spec.scale);
      return typeof min === 'bigint' ? formatScaledDecimal(value + min, spec.scale) : `${value} (encoded)`;
    }
    case 'date': {
      const minDays = parseDateDays(spec.min ?? DEFAULT_DATE_MIN);
      if (typeof minDays !== 'number') return `${value} (encoded)`;
      const time = (Number(value) + minDays) * DAY_MS;
      return Number.isFinite(time) && Math.abs(time) <= 8.64e15
        ? new Date(time).toISOString().slice(0, 10)
        : `${value} (encoded)`;
    }
    case 'datetime': {
      const minSeconds = parseIsoInstant(spec.min ?? DEFAULT_DATETIME_MIN);
      if (typeof minSeconds !== 'number') return `${value} (encoded)`;
      return formatIsoInstant(Number(value) + minSeconds) ?? `${value} (encoded)`;
    }
    case 'boolean':
      return value === 1n ? 'true' : value === 0n ? 'false' : `${value} (encoded)`;
    case 'category':
      return spec.values[Number(value)] ?? `${value} (encoded, not a value of the category)`;
    case 'string':
      return '(hashed)';
    case 'address':
      return value >= 0n && value < 1n << BigInt(ADDRESS_BITS)
        ? formatAddress(value)
        : `${value} (encoded, not an address)`;
  }
}

/** A violation of the report with its value decoded. */
interface ShownViolation {
  row: number;
  rule: number;
  registry?: string;
  ruleText: string;
  field: string;
  value: string;
  encodedValue: string | null;
  /** For a consent tree registry: why the id is not a member (see `consentStatusLookup`). */
  consent?: ConsentStatus & { reason: string };
}

/**
 * Why a row's id is not in a consent tree registry, as a sentence: revoked, never granted, or live on chain but not
 * among the ids the registry file was made with. Also the id as written when the data holder's ids name it (a string
 * id is otherwise shown as "(hashed)").
 */
function consentExplainer(
  registries: readonly Registry[],
  schema: Schema,
): (violation: {
  registry?: string;
  field: string;
  encodedValue: string | null;
}) => { consent: ShownViolation['consent']; id?: string } | undefined {
  const lookups = new Map<
    string,
    { status: (value: bigint) => ConsentStatus; ids: Map<bigint, string>; where: string }
  >();
  for (const registry of registries) {
    if (!registry.leafIndex) continue;
    const column = schema.columns.find((c) => c.name === registry.field);
    if (!column) continue;
    const ids = new Map<bigint, string>();
    for (const id of registry.consent?.givenIds ?? []) {
      try {
        const { value } = encodeCell(column, id, 1);
        if (!ids.has(value)) ids.set(value, id);
      } catch {
        // the registry was built from these ids, so they encode; nothing to name otherwise
      }
    }
    const source = registry.consent?.source;
    const where = source
      ? ` (purpose "${source.purpose}" on chain ${source.chainId}, tree read at block ${source.blockNumber})`
      : '';
    lookups.set(registry.name, { status: consentStatusLookup(registry, column), ids, where });
  }
  return (violation) => {
    const lookup = violation.registry === undefined ? undefined : lookups.get(violation.registry);
    if (!lookup || violation.encodedValue === null) return undefined;
    const value = BigInt(violation.encodedValue);
    const status = lookup.status(value);
    const reason =
      status.state === 'revoked'
        ? `the subject REVOKED consent: leaf ${status.index} is revoked${lookup.where}`
        : status.state === 'none'
          ? `the subject has NOT CONSENTED: no grant for this id${lookup.where}`
          : status.state === 'unlisted'
            ? `consent is live at leaf ${status.index}${lookup.where}, but the id is not among the --ids the registry file was exported with: export it again with this id`
            : `consent is live at leaf ${status.index}${lookup.where}, but another listed id has the same key`;
    const id = lookup.ids.get(value);
    return { consent: { ...status, reason }, ...(id === undefined ? {} : { id }) };
  };
}

function showViolations(report: PolicyReport, schema: Schema, registries: readonly Registry[] = []): ShownViolation[] {
  const explain = consentExplainer(registries, schema);
  return report.violations.map((violation) => {
    const column = schema.columns.find((c) => c.name === violation.field);
    const shown: ShownViolation = {
      ...violation,
      value: column ? decodeValue(column, violation.encodedValue) : (violation.encodedValue ?? 'null'),
    };
    const consent = explain(violation);
    if (consent) {
      shown.consent = consent.consent;
      if (consent.id !== undefined) shown.value = consent.id;
    }
    return shown;
  });
}

function violationLine(v: ShownViolation): string {
  return `row ${v.row}: ${v.field} = ${v.value} breaks ${v.registry ? 'registry requirement' : `rule ${v.rule}`}: ${v.ruleText}${v.consent ? `: ${v.consent.reason}` : ''}`;
}

/** `actual` of an aggregate, with a decimal approximation for people when it is a fraction. */
function aggregateActual(aggregate: PolicyReport['aggregates'][number], schema: Schema): string {
  const match = /^(-?\d+)\/(\d+)( \(scaled units\))?$/.exec(aggregate.actual);
  if (!match || match[2] === '0') return aggregate.actual;
  let quotient = Number(match[1]) / Number(match[2]);
  if (match[3]) {
    // MEAN of a decimal column: scaled by 10^scale.
    const field = /^MEAN\(([A-Za-z0-9_]+)\)/.exec(aggregate.text)?.[1];
    const spec = schema.columns.find((c) => c.name === field)?.spec;
    if (spec?.type === 'decimal') quotient /= 10 ** spec.scale;
    if (spec?.type === 'date' || spec?.type === 'datetime') return aggregate.actual;
  }
  return `${aggregate.actual} = ${Number.isInteger(quotient) ? quotient : quotient.toFixed(4)}`;
}

/** Load the registry files given with --registry (none when the option is absent). */
async function loadRegistries(paths: readonly string[] | undefined, schema: Schema): Promise<Registry[]> {
  return Promise.all((paths ?? []).map((path) => loadRegistry(path, schema)));
}

/**
 * The registry roots a verifier trusts, from `--registry NAME=ROOT` or `--registry FILE` (a registry file, whose
 * root is recomputed from its ids), in the policy's order.
 */
async function trustedRoots(
  values: readonly string[] | undefined,
  schema: Schema,
  policy: Policy,
): Promise<RegistryRoot[]> {
  const given = new Map<string, string>();
  for (const value of values ?? []) {
    const match = /^([A-Za-z][A-Za-z0-9_-]{0,63})=(.*)$/.exec(value);
    let name: string;
    let root: string;
    if (match && DECIMAL.test(match[2] as string)) {
      [name, root] = [match[1] as string, match[2] as string];
    } else if (match && !(await exists(value))) {
      throw new ZkaiError('BAD_OPTION', `--registry ${value}: the root must be a decimal number`);
    } else {
      const registry = await loadRegistry(value, schema);
      // The file must be a registry of the column and depth the policy names, or its root checks something else.
      registriesForPolicy({ ...policy, registries: policy.registries.filter((r) => r.name === registry.name) }, [
        registry,
      ]);
      [name, root] = [registry.name, registry.root];
    }
    if (given.has(name)) throw new ZkaiError('BAD_OPTION', `--registry: registry "${name}" is given twice`);
    given.set(name, root);
  }
  return trustedRegistryRoots(policy, given);
}

// ---------------------------------------------------------------------------------------------------------------

/** `zkai data registry`: build a registry file from a list of ids. */
export async function dataRegistryCommand(flags: DataRegistryFlags): Promise<void> {
  refuseSamePath(flags.out, '--out', { ids: flags.ids, schema: flags.schema });
  const depth = Number(flags.depth);
  if (!/^[1-9][0-9]*$/.test(flags.depth) || !Number.isSafeInteger(depth))
    throw new ZkaiError('BAD_OPTION', `--depth must be a positive integer, got "${flags.depth}"`);
  const schema = await loadSchema(flags.schema);
  const { ids, positions } = await readIdList(flags.ids);
  const registry = buildRegistry(schema, {
    name: flags.name,
    field: flags.field,
    depth,
    ids,
    positions: positions.map((p) => `${flags.ids} ${p}`),
  });
  await saveRegistry(flags.out, registry);
  emit(
    flags,
    {
      name: registry.name,
      field: registry.field,
      depth: registry.depth,
      size: registry.ids.length,
      root: registry.root,
      schemaHash: registry.schemaHash,
      out: flags.out,
    },
    () =>
      [
        `registry "${registry.name}": ${registry.ids.length} ids of column ${registry.field}, tree depth ${registry.depth} (room for ${2 ** registry.depth - 1})`,
        `  root         ${registry.root}`,
        `  file         ${flags.out} (it lists the ids: share it with provers; verifiers need only the root)`,
        `  in a policy: { "kind": "MEMBER-OF" or "NOT-MEMBER-OF", "field": "${registry.field}", "registry": "${registry.name}", "depth": ${registry.depth} }`,
      ].join('\n'),
  );
}

/** `zkai data commit`. */
export async function dataCommitCommand(flags: DataCommitFlags): Promise<void> {
  refuseSamePath(flags.bundle, '--bundle', { data: flags.data, schema: flags.schema });
  if (flags.public)
    refuseSamePath(flags.public, '--public', { data: flags.data, schema: flags.schema, bundle: flags.bundle });
  const refuseExisting = async () => {
    if (!flags.force && (await exists(flags.bundle))) {
      throw new ZkaiError('BUNDLE_EXISTS', `${flags.bundle} already exists; it was not overwritten`, {
        hint: 'overwriting a bundle loses its salts, and with them the ability to prove anything about its published root: write to another path, or pass --force if that bundle is no longer needed',
      });
    }
  };
  await refuseExisting();
  const schema = await loadSchema(flags.schema);
  const records = await ingest(flags.data, schema, flags);
  const bundle = createBundle(schema, records);
  await refuseExisting(); // again: ingestion can take a while
  await saveBundle(flags.bundle, bundle);
  const commitment: DatasetCommitment = {
    root: bundle.commitment.root,
    count: bundle.commitment.count,
    depth: bundle.commitment.depth,
    schemaHash: bundle.commitment.schemaHash,
  };
  if (flags.public) await writeFileAtomic(flags.public, `${JSON.stringify(commitment, null, 2)}\n`);
  emit(
    flags,
    {
      ...commitment,
      schema: schema.spec.name,
      bundle: flags.bundle,
      ...(flags.public ? { public: flags.public } : {}),
      warning: BUNDLE_PRIVATE_WARNING,
    },
    () =>
      [
        `committed ${commitment.count} records of schema "${schema.spec.name}"`,
        `  root         ${commitment.root}`,
        `  count        ${commitment.count} (tree depth ${commitment.depth})`,
        `  schemaHash   ${commitment.schemaHash}`,
        `  bundle       ${flags.bundle} (mode 0600)`,
        flags.public
          ? `  commitment   ${flags.public} (public: publish this; verifiers check proofs against it with --commitment)`
          : '  commitment   not written (pass --public FILE to write it)',
        `  WARNING: ${BUNDLE_PRIVATE_WARNING}`,
      ].join('\n'),
  );
}

/** `zkai data check`. Sets the exit code to 1 when the dataset does not satisfy the policy. */
export async function dataCheckCommand(flags: DataCheckFlags): Promise<void> {
  if (Boolean(flags.data) === Boolean(flags.bundle))
    throw new ZkaiError('BAD_OPTION', 'give exactly one of --data FILE and --bundle FILE');
  const schema = await loadSchema(flags.schema);
  const policy = await loadPolicy(flags.policy, schema);
  let records: EncodedRecord[];
  if (flags.bundle) {
    const bundle = await loadBundle(flags.bundle);
    recommit(bundle, schema);
    records = bundle.records;
  } else {
    records = await ingest(flags.data as string, schema, flags);
  }
  const registries = policyRegistries(schema, policy, await loadRegistries(flags.registry, schema));
  const report = evaluatePolicy(policy, records, registries);
  const violations = showViolations(report, schema, registries);
  emit(
    flags,
    {
      ok: report.ok,
      policy: { name: policy.spec.name, hash: policy.hash },
      schemaHash: schema.hash,
      records: records.length,
      violations,
      aggregates: report.aggregates,
    },
    () =>
      [
        `${report.ok ? 'PASS' : 'FAIL'}: ${records.length} records ${report.ok ? 'satisfy' : 'do not satisfy'} policy "${policy.spec.name}" (${policy.rules.length} rules, ${policy.aggregates.length} aggregates${policy.registries.length > 0 ? `, ${policy.registries.length} registr${policy.registries.length > 1 ? 'ies' : 'y'}` : ''})`,
        `  record violations: ${violations.length}`,
        ...violations.map((v) => `    ${violationLine(v)}`),
        ...(report.aggregates.length > 0 ? ['  aggregates:'] : []),
        ...report.aggregates.map(
          (a) => `    ${a.ok ? 'ok  ' : 'FAIL'}  ${a.text}: actual ${aggregateActual(a, schema)}`,
        ),
        ...(report.ok ? [] : ['  no proof can be made for this dataset until it satisfies the policy']),
      ].join('\n'),
  );
  if (!report.ok) process.exitCode = 1;
}

/** `zkai data prove`. */
export async function dataProveCommand(flags: DataProveFlags): Promise<void> {
  if (flags.chunkDepth !== undefined) return dataProveChunkedCommand(flags);
  const context = contextOption(flags.context);
  refuseSamePath(flags.out, '--out', { bundle: flags.bundle, schema: flags.schema, policy: flags.policy });
  if (flags.vkeyOut)
    refuseSamePath(flags.vkeyOut, '--vkey-out', {
      bundle: flags.bundle,
      schema: flags.schema,
      policy: flags.policy,
      out: flags.out,
    });
  const progress = progressPrinter(flags);
  const schema = await loadSchema(flags.schema);
  const policy = await loadPolicy(flags.policy, schema);
  const bundle = await loadBundle(flags.bundle);
  const registries = await loadRegistries(flags.registry, schema);
  progress?.({
    stage: 'prove',
    message: `${bundle.records.length} records, policy "${policy.spec.name}": checking the policy, then generating, compiling and setting up the circuit (cached when possible)`,
  });
  const started = performance.now();
  let result: Awaited<ReturnType<typeof proveDataset>>;
  try {
    // proveDataset hands its options on to compileAndSetupGenerated, which takes the ceremony's key (zkeyPath).
    result = await proveDataset(bundle, schema, policy, {
      ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
      ...keyOptions(flags),
      ...(progress ? { onProgress: progress } : {}),
      ...(flags.forceViolating ? { force: true } : {}),
      ...(context !== undefined ? { context } : {}),
      registries,
    });
  } catch (error) {
    if (error instanceof PolicyViolationError) throw readableViolation(error, schema, policy, flags, registries);
    if (flags.forceViolating && error instanceof WitnessError) {
      const report = evaluatePolicy(policy, bundle.records, policyRegistries(schema, policy, registries));
      if (!report.ok) {
        throw new ZkaiError(
          'CIRCUIT_REFUSED',
          `--force-violating: the circuit refused the violating dataset, as it must (${report.violations.length} record violation(s), ${report.aggregates.filter((a) => !a.ok).length} aggregate failure(s)); no proof was written.\n  ${error.message}`,
        );
      }
    }
    throw error;
  }
  const { prepared, report, ...published } = result;
  if (!report.ok) {
    // Only with --force-violating: the circuit should have refused. Never publish such a proof.
    throw new ZkaiError(
      'INTERNAL',
      'SOUNDNESS BUG: the circuit accepted a dataset that violates the policy; the proof was not written',
    );
  }
  const proof: DatasetProof = published;
  await writeFileAtomic(flags.out, `${JSON.stringify(proof, bigintJson, 1)}\n`);
  if (flags.vkeyOut) await writeFileAtomic(flags.vkeyOut, await readFile(prepared.keys.vkeyPath));
  const vkey = flags.vkeyOut ?? prepared.keys.vkeyPath;
  const elapsed = (performance.now() - started) / 1000;
  const verifyWith = datasetVerifyHint(
    { vkey, proof: flags.out, schema: flags.schema, policy: flags.policy },
    proof.registries,
    registries,
  );
  const attestWith = attestHint(flags.out, flags, {});
  const registerWith = registerHint(flags.out, flags, {
    schema: flags.schema,
    policy: flags.policy,
    keys: prepared.keys,
    registries,
  });
  const consent = registries.some((registry) => registry.consent?.source !== undefined);
  emit(
    flags,
    {
      proof: flags.out,
      vkey: prepared.keys.vkeyPath,
      ...(flags.vkeyOut ? { vkeyOut: flags.vkeyOut } : {}),
      ...keyJson(prepared.keys),
      commitment: proof.commitment,
      policy: proof.policy,
      registries: proof.registries,
      context: (context ?? 0n).toString(),
      circuitId: proof.circuitId,
      constraints: prepared.circuit.info.constraints,
      capacity: prepared.generated.capacity,
      developmentPtau: prepared.keys.ptau.developmentOnly,
      seconds: elapsed,
      verifyWith,
      ...(context ? { registerWith, attestWith } : {}),
    },
    () =>
      [
        `proof written to ${flags.out}: the dataset of root ${proof.commitment.root} (${proof.commitment.count} records) satisfies policy "${proof.policy.name}"`,
        `  circuit            ${prepared.circuit.info.constraints} constraints, capacity ${prepared.generated.capacity} records (${prepared.circuit.cached ? 'compiled earlier' : 'compiled now'}, keys ${prepared.keys.cached ? 'from cache' : 'set up now'})`,
        `  verification key   ${prepared.keys.vkeyPath}${flags.vkeyOut ? ` (copied to ${flags.vkeyOut})` : ''}`,
        ...ceremonyKeyLines(prepared.keys),
        ...consentLines(registries),
        `  time               ${seconds(elapsed)}`,
        ...attestLines(context, attestWith, consent, registerWith),
        ...hintLines('verify with', verifyWith),
        verifierKeyNote(prepared.keys),
        ...keyWarningLines(prepared.keys),
      ].join('\n'),
  );
}

/** The published dataset commitment a verifier trusts: a commitment file, or --root and --count. */
export async function expectedCommitment(flags: {
  commitment?: string;
  root?: string;
  count?: string;
}): Promise<{ root: string; count: number; schemaHash?: string }> {
  if (flags.commitment) {
    if (flags.root !== undefined || flags.count !== undefined)
      throw new ZkaiError('BAD_OPTION', 'give either --commitment FILE or --root R --count N, not both');
    const path = flags.commitment;
    const c = await readJsonFile(path, 'commitment');
    if (typeof c !== 'object' || c === null || Array.isArray(c))
      throw new InputFileError(path, 'a commitment must be a JSON object {root, count, depth, schemaHash}');
    const { root, count, schemaHash } = c as Partial<Record<string, unknown>>;
    if (typeof root !== 'string' || !DECIMAL.test(root))
      throw new InputFileError(path, '"root" must be a decimal string');
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1)
      throw new InputFileError(path, '"count" must be a positive integer');
    if (typeof schemaHash !== 'string' || !DECIMAL.test(schemaHash))
      throw new InputFileError(path, '"schemaHash" must be a decimal string');
    return { root, count, schemaHash };
  }
  if (flags.root === undefined || flags.count === undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      'give the published commitment: --commitment FILE, or both --root R and --count N',
    );
  if (!DECIMAL.test(flags.root))
    throw new ZkaiError('BAD_OPTION', `--root must be a decimal number, got "${flags.root}"`);
  const count = Number(flags.count);
  if (!/^[1-9][0-9]*$/.test(flags.count) || !Number.isSafeInteger(count))
    throw new ZkaiError('BAD_OPTION', `--count must be a positive integer, got "${flags.count}"`);
  return { root: flags.root, count };
}

/** A policy violation, with values decoded for people, as the error `data prove` reports (whole or chunked). */
function readableViolation(
  error: PolicyViolationError,
  schema: Schema,
  policy: Policy,
  flags: { schema: string; policy: string; bundle: string },
  registries: readonly Registry[],
): ZkaiError {
  const violations = showViolations(error.report, schema, registries);
  const failed = error.report.aggregates.filter((a) => !a.ok);
  const lines = [
    ...violations.slice(0, 50).map((v) => `  ${violationLine(v)}`),
    ...(violations.length > 50 ? [`  ... and ${violations.length - 50} more`] : []),
    ...failed.map((a) => `  aggregate ${a.text} fails: actual ${aggregateActual(a, schema)}`),
  ];
  return new ZkaiError(
    'POLICY_VIOLATED',
    `the dataset does not satisfy policy "${policy.spec.name}" (${violations.length} record violation(s), ${failed.length} aggregate failure(s)); no proof was made:\n${lines.join('\n')}`,
    {
      hint: `fix or remove the listed records (zkai data check --schema ${flags.schema} --policy ${flags.policy} --bundle ${flags.bundle} lists them all), then commit again${violations.some((v) => v.consent) ? '; a record whose subject has not consented or revoked consent cannot be proven against the consent tree' : ''}`,
    },
  );
}

/** Lines for people on the consent registries a proof was made against: where their root was read. */
function consentLines(registries: readonly Registry[]): string[] {
  return registries.flatMap((registry) => {
    const source = registry.consent?.source;
    if (!source) return [];
    return [
      `  consent registry   ${registry.name}: the root of purpose "${source.purpose}" on chain ${source.chainId} at block ${source.blockNumber} (${new Date(source.blockTime * 1000).toISOString()}); the registry accepts it while it is current or replaced less than ${source.rootWindow} s ago`,
    ];
  });
}

/** `zkai data prove --chunk-depth N`: the dataset in chunks of 2^N records, proven in parallel in the pool. */
async function dataProveChunkedCommand(flags: DataProveFlags): Promise<void> {
  const context = contextOption(flags.context);
  refuseSamePath(flags.out, '--out', { bundle: flags.bundle, schema: flags.schema, policy: flags.policy });
  if (flags.vkeyOut)
    refuseSamePath(flags.vkeyOut, '--vkey-out', {
      bundle: flags.bundle,
      schema: flags.schema,
      policy: flags.policy,
      out: flags.out,
    });
  const chunkDepth = Number(flags.chunkDepth);
  if (!/^[0-9]+$/.test(flags.chunkDepth ?? '') || chunkDepth > 20)
    throw new ZkaiError('BAD_OPTION', `--chunk-depth must be an integer from 0 to 20, got "${flags.chunkDepth}"`);
  const subtrees = Number(flags.subtreesPerChunk ?? '1');
  if (!/^[1-9][0-9]*$/.test(flags.subtreesPerChunk ?? '1') || subtrees > 4096)
    throw new ZkaiError(
      'BAD_OPTION',
      `--subtrees-per-chunk must be an integer from 1 to 4096, got "${flags.subtreesPerChunk}"`,
    );
  const progress = progressPrinter(flags);
  const schema = await loadSchema(flags.schema);
  const policy = await loadPolicy(flags.policy, schema);
  const bundle = await loadBundle(flags.bundle);
  const registries = await loadRegistries(flags.registry, schema);
  const privateChunks = chunkPartials(policy).length > 0;
  if (!privateChunks && (flags.nodeZkey !== undefined || flags.rootZkey !== undefined))
    throw new ZkaiError(
      'BAD_OPTION',
      `--node-zkey and --root-zkey are the keys of private chunked proofs' aggregation circuits, which policy "${policy.spec.name}" (no aggregate over record values, no UNIQUE) does not use`,
    );
  if (!privateChunks && fanInOption(flags.fanIn) !== AGGREGATION_FAN_IN)
    throw new ZkaiError(
      'BAD_OPTION',
      `--fan-in shapes the aggregation proofs of private chunked proofs, which policy "${policy.spec.name}" (no aggregate over record values, no UNIQUE) does not use`,
    );
  if (privateChunks)
    return dataProvePrivateChunksCommand(flags, { schema, policy, bundle, registries, context, chunkDepth, subtrees });
  const started = performance.now();
  const result = await proveDatasetInChunks(
    bundle,
    schema,
    policy,
    chunkedProveOptions(flags, { registries, context, chunkDepth, subtrees }, progress),
  ).catch((error: unknown) => {
    if (error instanceof PolicyViolationError) throw readableViolation(error, schema, policy, flags, registries);
    throw error;
  });
  const { prepared, ...published } = result;
  await writeFileAtomic(flags.out, `${JSON.stringify(published, bigintJson, 1)}\n`);
  if (flags.vkeyOut) await writeFileAtomic(flags.vkeyOut, await readFile(prepared.keys.vkeyPath));
  const elapsed = (performance.now() - started) / 1000;
  const verifyWith = datasetVerifyHint(
    { vkey: flags.vkeyOut ?? prepared.keys.vkeyPath, proof: flags.out, schema: flags.schema, policy: flags.policy },
    published.registries,
    registries,
  );
  const attestWith = attestHint(flags.out, flags, {});
  const registerWith = registerHint(flags.out, flags, {
    schema: flags.schema,
    policy: flags.policy,
    keys: prepared.keys,
    registries,
  });
  const consent = registries.some((registry) => registry.consent?.source !== undefined);
  emit(
    flags,
    {
      proof: flags.out,
      vkey: prepared.keys.vkeyPath,
      ...(flags.vkeyOut ? { vkeyOut: flags.vkeyOut } : {}),
      ...keyJson(prepared.keys),
      chunks: published.chunks.length,
      chunkDepth,
      subtreesPerChunk: subtrees,
      recordsPerChunk: subtrees * 2 ** chunkDepth,
      constraintsPerChunk: prepared.circuit.info.constraints,
      commitment: published.commitment,
      policy: published.policy,
      registries: published.registries,
      context: (context ?? 0n).toString(),
      seconds: elapsed,
      verifyWith,
      ...(context ? { registerWith, attestWith } : {}),
    },
    () =>
      [
        `chunked proof written to ${flags.out}: ${published.chunks.length} chunks of up to ${subtrees * 2 ** chunkDepth} records${subtrees > 1 ? ` (${subtrees} subtrees of ${2 ** chunkDepth})` : ''} (${prepared.circuit.info.constraints} constraints each) for ${published.commitment.count} records, in ${seconds(elapsed)}`,
        `  verification key   ${prepared.keys.vkeyPath} (the chunk circuit's)`,
        ...ceremonyKeyLines(prepared.keys),
        ...consentLines(registries),
        ...attestLines(context, attestWith, consent, registerWith),
        ...hintLines('verify with', verifyWith),
        verifierKeyNote(prepared.keys),
        ...keyWarningLines(prepared.keys),
      ].join('\n'),
  );
}

/** What both chunked prove paths have read and checked. */
interface LoadedChunkedProve {
  schema: Schema;
  policy: Policy;
  bundle: DatasetBundle;
  registries: Registry[];
  context: bigint | undefined;
  chunkDepth: number;
  subtrees: number;
}

/** The options both chunked provers take from the command line: shape, registries, context, cache, keys, progress. */
function chunkedProveOptions(
  flags: DataProveFlags,
  loaded: Pick<LoadedChunkedProve, 'registries' | 'context' | 'chunkDepth' | 'subtrees'>,
  progress: ReturnType<typeof progressPrinter>,
): PrepareOptions & { chunkDepth: number; subtreesPerChunk: number; registries: Registry[]; context?: bigint } {
  return {
    chunkDepth: loaded.chunkDepth,
    subtreesPerChunk: loaded.subtrees,
    registries: loaded.registries,
    ...(loaded.context !== undefined ? { context: loaded.context } : {}),
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...keyOptions(flags),
    ...(progress ? { onProgress: progress } : {}),
  };
}

/**
 * `zkai data prove --chunk-depth N` for a policy with aggregates or UNIQUE: chunk proofs that publish one salted
 * commitment to their partials, and aggregation proofs up to a root that judges the whole dataset
 * (`src/data/private-chunked.ts`). Writes the proof and the key set its verifier needs (chunk, node and root keys).
 */
async function dataProvePrivateChunksCommand(flags: DataProveFlags, loaded: LoadedChunkedProve): Promise<void> {
  const { schema, policy, bundle, registries, context, chunkDepth, subtrees } = loaded;
  const progress = progressPrinter(flags);
  const started = performance.now();
  const fanIn = fanInOption(flags.fanIn);
  const result = await provePrivateChunks(bundle, schema, policy, {
    ...chunkedProveOptions(flags, loaded, progress),
    fanIn,
    ...(flags.nodeZkey ? { nodeZkeyPath: flags.nodeZkey } : {}),
    ...(flags.rootZkey ? { rootZkeyPath: flags.rootZkey } : {}),
  }).catch((error: unknown) => {
    if (error instanceof PolicyViolationError) throw readableViolation(error, schema, policy, flags, registries);
    throw error;
  });
  const { prepared, ...published } = result;
  const keySet = await privateChunkKeySet(prepared);
  await writeFileAtomic(flags.out, `${JSON.stringify(published, bigintJson, 1)}\n`);
  const keySetPath = flags.vkeyOut ?? (await cacheKeySet(keySet, flags.cacheDir));
  if (flags.vkeyOut) await writeFileAtomic(flags.vkeyOut, keySetText(keySet));
  const elapsed = (performance.now() - started) / 1000;
  const verifyWith = datasetVerifyHint(
    { vkey: keySetPath, proof: flags.out, schema: flags.schema, policy: flags.policy },
    published.registries,
    registries,
    fanIn,
  );
  const aggregationProofs = published.aggregation.reduce((sum, level) => sum + level.length, 0);
  const size = subtrees * 2 ** chunkDepth;
  // On chain: the registry owner registers the chunk, node and root circuits once (each its ceremony's key, or with
  // --development its own setup), then the prover attests with its nonce.
  const attestWith = attestHint(flags.out, flags, {});
  const registerWith = registerHint(flags.out, flags, {
    schema: flags.schema,
    policy: flags.policy,
    keys: prepared.chunk.keys,
    registries,
    fanIn,
    aggregation: { root: prepared.root.keys, ...(prepared.node ? { node: prepared.node.keys } : {}) },
  });
  const consent = registries.some((registry) => registry.consent?.source !== undefined);
  const circuits = PRIVATE_CHUNK_CIRCUITS.flatMap((c) => {
    const entry = prepared[c];
    return entry ? [[c, entry] as const] : [];
  });
  // The same warning for several keys (they share the ptau and the automatic setup) is printed once, naming them.
  const warnings = new Map<string, PrivateChunkCircuit[]>();
  for (const [c, entry] of circuits)
    for (const warning of keyWarnings(entry.keys)) warnings.set(warning, [...(warnings.get(warning) ?? []), c]);
  emit(
    flags,
    {
      proof: flags.out,
      format: published.format,
      vkey: keySetPath,
      keys: Object.fromEntries(circuits.map(([c, entry]) => [c, entry.keys.vkeyPath])),
      ...(flags.vkeyOut ? { vkeyOut: flags.vkeyOut } : {}),
      ...keyJson(prepared.chunk.keys),
      chunks: published.chunks.length,
      aggregationProofs,
      aggregationLevels: published.aggregation.length,
      fanIn,
      chunkDepth,
      subtreesPerChunk: subtrees,
      recordsPerChunk: size,
      constraintsPerChunk: prepared.chunk.circuit.info.constraints,
      constraints: Object.fromEntries(circuits.map(([c, entry]) => [c, entry.circuit.info.constraints])),
      commitment: published.commitment,
      policy: published.policy,
      registries: published.registries,
      context: (context ?? 0n).toString(),
      seconds: elapsed,
      verifyWith,
      ...(context ? { registerWith, attestWith } : {}),
    },
    () =>
      [
        `private chunked proof written to ${flags.out}: ${published.chunks.length} chunks of up to ${size} records${subtrees > 1 ? ` (${subtrees} subtrees of ${2 ** chunkDepth})` : ''} (${prepared.chunk.circuit.info.constraints} constraints each) and ${aggregationProofs} aggregation proof${aggregationProofs === 1 ? '' : 's'} (${prepared.node ? `${prepared.node.circuit.info.constraints} constraints per node, ` : ''}${prepared.root.circuit.info.constraints} for the root) for ${published.commitment.count} records, in ${seconds(elapsed)}`,
        `  published     the commitment, the policy's verdict and each chunk's subtree roots and salted commitment; no chunk's partials or keys`,
        `  key set       ${keySetPath} (the verification keys of the ${circuits
          .map(([c]) => c)
          .join(circuits.length > 2 ? ', ' : ' and ')
          .replace(/, (?=[^,]*$)/, ' and ')} circuits)`,
        ...circuits.flatMap(([c, entry]) =>
          ceremonyKeyLines(entry.keys).map((line) => line.replace(/^ {2}ceremony key {2}/, `  ${c} ceremony key `)),
        ),
        ...consentLines(registries),
        ...attestLines(context, attestWith, consent, registerWith),
        ...hintLines('verify with', verifyWith),
        // The single-party note unless every key came from a ceremony.
        verifierKeyNote(circuits.every(([, entry]) => entry.keys.ceremony) ? prepared.chunk.keys : {}),
        ...[...warnings].map(
          ([warning, keys]) =>
            `  WARNING (${keys.length === circuits.length ? 'every key' : `${keys.join(' and ')} key${keys.length > 1 ? 's' : ''}`}): ${warning}`,
        ),
      ].join('\n'),
  );
}

/** Read a zkai proof file of the given format, refusing anything else with the file named. */
/** Read a proof file with the statement module's one parser, and require one of the formats a verb verifies. */
async function readProofFile<F extends ProofFile['format']>(
  path: string,
  formats: readonly F[],
  what: string,
): Promise<Extract<ProofFile, { format: F }>> {
  const file = parseProofFile(await readJsonFile(path, what), path);
  if (!(formats as readonly string[]).includes(file.format)) {
    throw new InputFileError(
      path,
      file.format === 'plain'
        ? `a bare snarkjs proof, not a zkai ${what}: use zkai verify`
        : `a ${file.format} file, not a zkai ${what} (${formats.join(' or ')})`,
    );
  }
  return file as Extract<ProofFile, { format: F }>;
}

/** ", against registry NAME (root R), ..." for a verdict line, or nothing without registries. */
function againstRegistries(registries: readonly RegistryRoot[]): string {
  return registries.length > 0
    ? `, against registr${registries.length > 1 ? 'ies' : 'y'} ${registries.map((r) => `${r.name} (root ${r.root})`).join(', ')}`
    : '';
}

/** The --json fields every dataset verdict has: the verdict and what it was checked against. */
function datasetVerdictJson(
  result: VerificationResult,
  expected: { root: string; count: number },
  policy: Policy,
  schema: Schema,
  registries: readonly RegistryRoot[],
): Record<string, unknown> {
  return {
    ...result,
    root: expected.root,
    count: expected.count,
    policy: { name: policy.spec.name, hash: policy.hash },
    schemaHash: schema.hash,
    registries,
  };
}

/** A rejection when the published commitment was made under another schema than the verifier's schema file. */
function schemaMismatch(
  committed: string | undefined,
  actual: string,
  flags: { commitment?: string; schema: string },
): VerificationResult | undefined {
  if (committed === undefined || committed === actual) return undefined;
  return {
    valid: false,
    reason: 'claim-mismatch',
    detail: `the commitment ${flags.commitment} was made with schema hash ${committed}, but the schema file ${flags.schema} has hash ${actual}`,
  };
}

/** `zkai data verify`. Sets the exit code to 1 for an invalid proof; refuses a key the verifier does not trust (see verify-key.ts). */
export async function dataVerifyCommand(flags: DataVerifyFlags): Promise<void> {
  const expected = await expectedCommitment(flags);
  const schema = await loadSchema(flags.schema);
  const policy = await loadPolicy(flags.policy, schema);
  const registries = await trustedRoots(flags.registry, schema, policy);
  const [vkey, file] = await Promise.all([
    readJsonFile(flags.vkey, 'verification key'),
    readProofFile(
      flags.proof,
      ['zkai-dataset-proof-v1', 'zkai-chunked-dataset-proof-v1', 'zkai-chunked-dataset-proof-v2'],
      'dataset proof',
    ),
  ]);
  if (file.format === 'zkai-chunked-dataset-proof-v2')
    return verifyPrivateChunksCommand(flags, { expected, schema, policy, registries, keySet: vkey, file });
  if (isPrivateChunkKeySet(vkey))
    throw new InputFileError(
      flags.vkey,
      `a key set of private chunked proofs, but ${flags.proof} is a ${file.format} file: give the verification key of its circuit`,
    );
  // A chunked file of the earlier format made for a policy with aggregates published every chunk's partials.
  const refusal = file.format === 'zkai-chunked-dataset-proof-v1' ? publicPartialsRefusal(policy) : undefined;
  if (refusal) throw new InputFileError(flags.proof, refusal);
  // The key must be one the verifier trusts, made for the circuit its own schema and policy generate (the tree depth
  // from its count; a chunk circuit's shape from the file), before anything is checked.
  const keySource = await verifierKeySource(
    vkey,
    flags,
    file.format === 'zkai-chunked-dataset-proof-v1'
      ? { kind: 'dataset-chunk', schema, policy, chunkDepth: file.chunkDepth, subtrees: file.subtreesPerChunk }
      : { kind: 'dataset-policy', schema, policy, depth: treeDepth(expected.count) },
  );
  let result: VerificationResult;
  const mismatch = schemaMismatch(expected.schemaHash, schema.hash, flags);
  if (mismatch) {
    result = mismatch;
  } else if (file.format === 'zkai-chunked-dataset-proof-v1') {
    result = await verifyChunkedDataset(
      vkey,
      file,
      { root: expected.root, count: expected.count, schemaHash: schema.hash, registries },
      policy,
    );
  } else {
    result = await verifyDatasetProof(vkey, file.proof, file.publicSignals, {
      root: expected.root,
      count: expected.count,
      policyHash: policy.hash,
      schemaHash: schema.hash,
      registries,
    });
  }
  const against = againstRegistries(registries);
  checkVerdictKey(keySource, result, flags);
  emit(flags, { ...datasetVerdictJson(result, expected, policy, schema, registries), keySource }, () =>
    [
      result.valid
        ? `OK: the proof is valid: the ${expected.count} records committed as root ${expected.root} satisfy policy "${policy.spec.name}" (schema "${schema.spec.name}")${against}`
        : `INVALID (${result.reason}): ${result.detail}`,
      keySourceLine(keySource),
    ].join('\n'),
  );
  if (!result.valid) process.exitCode = 1;
}

/**
 * `zkai data verify` of a private chunked proof: each of the three keys of the key set must be one the verifier trusts,
 * made for the circuit its own schema, policy and fan-in generate (the chunk shape from the file: a wrong shape only
 * names another circuit); then every chunk proof, the recombined root and the aggregation tree the verifier derives
 * from the count are checked (`verifyPrivateChunks`).
 */
async function verifyPrivateChunksCommand(
  flags: DataVerifyFlags,
  loaded: {
    expected: { root: string; count: number; schemaHash?: string };
    schema: Schema;
    policy: Policy;
    registries: RegistryRoot[];
    keySet: unknown;
    file: Extract<ProofFile, { format: 'zkai-chunked-dataset-proof-v2' }>;
  },
): Promise<void> {
  const { expected, schema, policy, registries, file } = loaded;
  if (!isPrivateChunkKeySet(loaded.keySet))
    throw new InputFileError(
      flags.vkey,
      `a single verification key, but ${flags.proof} is a private chunked proof, checked with three keys: give the key set data prove wrote (--vkey-out; its output names it), which holds the chunk, aggregation node and root keys`,
    );
  const keySet = parsePrivateChunkKeySet(loaded.keySet, flags.vkey);
  const fanIn = fanInOption(flags.fanIn);
  const statements = {
    chunk: {
      kind: 'dataset-committed-chunk',
      schema,
      policy,
      chunkDepth: file.chunkDepth,
      subtrees: file.subtreesPerChunk,
    },
    node: { kind: 'dataset-aggregation', schema, policy, level: 'node', fanIn },
    root: { kind: 'dataset-aggregation', schema, policy, level: 'root', fanIn },
  } as const satisfies Record<PrivateChunkCircuit, VerifierStatement>;
  // The node key only when the set has one (a proof of at most fanIn chunks has no node level; verifyPrivateChunks
  // refuses a tree that needs one without it).
  const present = PRIVATE_CHUNK_CIRCUITS.filter((circuit) => keySet[circuit] !== undefined);
  const keySources: Partial<Record<PrivateChunkCircuit, KeySource>> = {};
  for (const circuit of present)
    keySources[circuit] = await verifierKeySource(
      keySet[circuit],
      { ...flags, vkey: `${flags.vkey} (${circuit} key)` },
      statements[circuit],
    );
  const mismatch = schemaMismatch(expected.schemaHash, schema.hash, flags);
  const result: VerificationResult =
    mismatch ??
    (await verifyPrivateChunks(
      keySet,
      file,
      { root: expected.root, count: expected.count, schemaHash: schema.hash, registries },
      policy,
      { fanIn },
    ));
  for (const circuit of present)
    checkVerdictKey(keySources[circuit]!, result, { ...flags, vkey: `${flags.vkey} (${circuit} key)` });
  const against = againstRegistries(registries);
  emit(
    flags,
    {
      ...datasetVerdictJson(result, expected, policy, schema, registries),
      format: file.format,
      keySource: keySources.chunk,
      keySources,
    },
    () =>
      [
        result.valid
          ? `OK: the proof is valid: the ${expected.count} records committed as root ${expected.root} satisfy policy "${policy.spec.name}" (schema "${schema.spec.name}")${against}; ${file.chunks.length} chunk proof${file.chunks.length === 1 ? '' : 's'} and ${file.aggregation.flat().length} aggregation proof${file.aggregation.flat().length === 1 ? '' : 's'} checked, and they publish no chunk's partials`
          : `INVALID (${result.reason}): ${result.detail}`,
        ...present.map((circuit) =>
          keySourceLine(keySources[circuit]!).replace(/^ {2}key {10}/, `  ${`${circuit} key`.padEnd(13)}`),
        ),
      ].join('\n'),
  );
  if (!result.valid) process.exitCode = 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Record inclusion: "was my record used?"

/** `zkai data include`: prove that one record (by subject id and/or source row) is in the committed dataset. */
export async function dataIncludeCommand(flags: DataIncludeFlags): Promise<void> {
  const context = contextOption(flags.context);
  if (flags.subject === undefined && flags.row === undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      "say which record: give --subject ID (the subject id column's value) or --row N (its row number in the source file)",
    );
  let row: number | undefined;
  if (flags.row !== undefined) {
    row = Number(flags.row);
    if (!/^[1-9][0-9]*$/.test(flags.row) || !Number.isSafeInteger(row))
      throw new ZkaiError(
        'BAD_OPTION',
        `--row must be a positive integer (a row number of the source file), got "${flags.row}"`,
      );
  }
  refuseSamePath(flags.out, '--out', { bundle: flags.bundle, schema: flags.schema });
  if (flags.vkeyOut)
    refuseSamePath(flags.vkeyOut, '--vkey-out', { bundle: flags.bundle, schema: flags.schema, out: flags.out });
  const progress = progressPrinter(flags);
  const schema = await loadSchema(flags.schema);
  const column = subjectColumn(schema);
  const bundle = await loadBundle(flags.bundle);
  progress?.({
    stage: 'include',
    message: `${bundle.records.length} records (tree depth ${bundle.commitment.depth}): generating, compiling and setting up the inclusion circuit (cached when possible)`,
  });
  const started = performance.now();
  // proveInclusion hands its options on to compileAndSetupGenerated, which takes the ceremony's key (zkeyPath).
  const result = await proveInclusion(bundle, schema, {
    ...(flags.subject !== undefined ? { subjectId: flags.subject } : {}),
    ...(row !== undefined ? { row } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...keyOptions(flags),
    ...(progress ? { onProgress: progress } : {}),
  });
  const { prepared, vkeyPath: _vkeyPath, row: recordRow, ...published } = result;
  const proof: InclusionProof = published;
  await writeFileAtomic(flags.out, `${JSON.stringify(proof, null, 1)}\n`);
  if (flags.vkeyOut) await writeFileAtomic(flags.vkeyOut, await readFile(prepared.keys.vkeyPath));
  const vkey = flags.vkeyOut ?? prepared.keys.vkeyPath;
  const elapsed = (performance.now() - started) / 1000;
  const subject =
    flags.subject !== undefined
      ? `${column.name} = ${JSON.stringify(flags.subject)}`
      : `${column.name} ${column.spec.type === 'string' ? `hash ${proof.subjectHash}` : `= ${decodeValue(column, proof.subjectHash)}`}`;
  // The subject id as the verifier writes it: the one given, else the record's (a string id is kept only as its hash).
  const decoded = column.spec.type === 'string' ? undefined : decodeValue(column, proof.subjectHash);
  const subjectId = flags.subject ?? (decoded === undefined || decoded.includes('(encoded') ? undefined : decoded);
  const verifyWith = commandHint(
    [
      'zkai',
      'data',
      'verify-include',
      '--vkey',
      vkey,
      '--proof',
      flags.out,
      '--schema',
      flags.schema,
      '--commitment',
      COMMITMENT_PLACEHOLDER,
      '--subject',
      subjectId ?? 'SUBJECT_ID',
    ],
    {
      [COMMITMENT_PLACEHOLDER]: 'the published commitment you trust, from zkai data commit --public',
      ...(subjectId === undefined
        ? { SUBJECT_ID: `the ${column.name} you ask about, as written in the data; the proof holds only its hash` }
        : {}),
    },
  );
  const attestWith = attestHint(flags.out, flags, { commitment: true });
  const registerWith = registerHint(flags.out, flags, { schema: flags.schema, keys: prepared.keys });
  emit(
    flags,
    {
      proof: flags.out,
      vkey: prepared.keys.vkeyPath,
      ...(flags.vkeyOut ? { vkeyOut: flags.vkeyOut } : {}),
      ...keyJson(prepared.keys),
      row: recordRow,
      subjectColumn: column.name,
      root: proof.root,
      subjectHash: proof.subjectHash,
      schemaHash: proof.schemaHash,
      depth: proof.depth,
      context: (context ?? 0n).toString(),
      circuitId: proof.circuitId,
      constraints: prepared.circuit.info.constraints,
      developmentPtau: prepared.keys.ptau.developmentOnly,
      seconds: elapsed,
      verifyWith,
      ...(context ? { registerWith, attestWith } : {}),
    },
    () =>
      [
        `proof written to ${flags.out}: the record with ${subject} (source row ${recordRow}) is in the dataset of root ${proof.root}`,
        `  the proof reveals the root, the subject hash ${proof.subjectHash} and the schema hash; no other value, no position, no other record`,
        `  circuit            ${prepared.circuit.info.constraints} constraints, tree depth ${proof.depth} (${prepared.circuit.cached ? 'compiled earlier' : 'compiled now'}, keys ${prepared.keys.cached ? 'from cache' : 'set up now'})`,
        `  verification key   ${prepared.keys.vkeyPath}${flags.vkeyOut ? ` (copied to ${flags.vkeyOut})` : ''}`,
        ...ceremonyKeyLines(prepared.keys),
        `  time               ${seconds(elapsed)}`,
        ...attestLines(context, attestWith, false, registerWith),
        ...hintLines('verify with', verifyWith),
        verifierKeyNote(prepared.keys),
        ...keyWarningLines(prepared.keys),
      ].join('\n'),
  );
}

/** The published root (and schema hash, from a commitment file) an inclusion proof is checked against. */
async function expectedRoot(flags: {
  commitment?: string;
  root?: string;
}): Promise<{ root: string; schemaHash?: string }> {
  if (flags.commitment !== undefined) {
    if (flags.root !== undefined)
      throw new ZkaiError('BAD_OPTION', 'give either --commitment FILE or --root R, not both');
    const path = flags.commitment;
    const c = await readJsonFile(path, 'commitment');
    if (typeof c !== 'object' || c === null || Array.isArray(c))
      throw new InputFileError(path, 'a commitment must be a JSON object {root, count, depth, schemaHash}');
    const { root, schemaHash } = c as Partial<Record<string, unknown>>;
    if (typeof root !== 'string' || !DECIMAL.test(root))
      throw new InputFileError(path, '"root" must be a decimal string');
    if (typeof schemaHash !== 'string' || !DECIMAL.test(schemaHash))
      throw new InputFileError(path, '"schemaHash" must be a decimal string');
    return { root, schemaHash };
  }
  if (flags.root === undefined)
    throw new ZkaiError('BAD_OPTION', 'give the published commitment: --commitment FILE, or --root R');
  if (!DECIMAL.test(flags.root))
    throw new ZkaiError('BAD_OPTION', `--root must be a decimal number, got "${flags.root}"`);
  return { root: flags.root };
}

/** `zkai data verify-include`. Sets the exit code to 1 for an invalid proof; refuses a key the verifier does not trust. */
export async function dataVerifyIncludeCommand(flags: DataVerifyIncludeFlags): Promise<void> {
  const expected = await expectedRoot(flags);
  const schema = await loadSchema(flags.schema);
  const column = subjectColumn(schema);
  const [vkey, inclusion] = await Promise.all([
    readJsonFile(flags.vkey, 'verification key'),
    readProofFile(flags.proof, ['zkai-inclusion-proof-v1'], 'inclusion proof'),
  ]);
  // The key must be one the verifier trusts, made for the inclusion circuit its own schema generates (the depth from
  // the file: another depth is another circuit, whose keys do not count; a file without one binds no key: depth 0 is
  // no circuit).
  const keySource = await verifierKeySource(vkey, flags, { kind: 'inclusion', schema, depth: inclusion.depth ?? 0 });
  let result: VerificationResult;
  const mismatch = schemaMismatch(expected.schemaHash, schema.hash, flags);
  if (mismatch) {
    result = mismatch;
  } else {
    result = await verifyInclusion(vkey, inclusion.proof, inclusion.publicSignals, {
      root: expected.root,
      schema,
      subjectId: flags.subject,
    });
  }
  const subject = `${column.name} = ${JSON.stringify(flags.subject)}`;
  checkVerdictKey(keySource, result, flags);
  emit(
    flags,
    {
      ...result,
      root: expected.root,
      subjectColumn: column.name,
      subject: flags.subject,
      schemaHash: schema.hash,
      keySource,
    },
    () =>
      [
        result.valid
          ? `OK: the proof is valid: a record with ${subject} is in the dataset committed as root ${expected.root} (schema "${schema.spec.name}")`
          : `INVALID (${result.reason}): ${result.detail}`,
        keySourceLine(keySource),
      ].join('\n'),
  );
  if (!result.valid) process.exitCode = 1;
}
