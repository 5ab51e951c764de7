/**
 * `zkai data`: its commands and options, declared once (`spec.ts`); the actions (`../data-commands.ts`) load when one
 * runs.
 */
import type { Command } from 'commander';
import { addCommand, lazy, type CommandSpec, type FlagsOf, type GroupContext } from './spec.ts';
import { CONTEXT, PTAU, TRUST_KEY, VKEY_OUT, ZKEY, ZKEY_OPTION_HELP } from './shared.ts';

const SCHEMA = { flags: '--schema <file>', help: 'schema JSON', required: true } as const;
const REGISTRY_FILES = {
  flags: '--registry <file...>',
  help: 'registry files the policy checks ids against (zkai data registry makes them)',
} as const;

export const DATA_COMMIT = {
  name: 'commit',
  description: 'ingest a dataset, commit to it with fresh salts: writes the PRIVATE bundle and the public commitment',
  options: [
    SCHEMA,
    { flags: '--data <file>', help: 'the dataset: .csv, .json or .ndjson', required: true },
    {
      flags: '--bundle <file>',
      help: 'where to write the private bundle (records + salts; mode 0600)',
      required: true,
    },
    { flags: '--public <file>', help: 'where to write the public commitment JSON {root, count, depth, schemaHash}' },
    {
      flags: '--force',
      help: 'overwrite an existing bundle (its salts are lost: proofs about its root can no longer be made)',
    },
  ],
} as const satisfies CommandSpec;
export type DataCommitFlags = FlagsOf<typeof DATA_COMMIT>;

export const DATA_CHECK = {
  name: 'check',
  description:
    'pre-flight: evaluate a policy on a dataset or a bundle and list every violation (exit code 1 if it fails)',
  options: [
    SCHEMA,
    { flags: '--policy <file>', help: 'policy JSON', required: true },
    { flags: '--data <file>', help: 'a dataset file (.csv, .json, .ndjson)' },
    { flags: '--bundle <file>', help: 'a bundle written by zkai data commit' },
    REGISTRY_FILES,
  ],
} as const satisfies CommandSpec;
export type DataCheckFlags = FlagsOf<typeof DATA_CHECK>;

export const DATA_PROVE = {
  name: 'prove',
  description:
    'prove that a committed dataset satisfies a policy (generates, compiles and sets up its circuit, cached)',
  options: [
    SCHEMA,
    { flags: '--policy <file>', help: 'policy JSON', required: true },
    { flags: '--bundle <file>', help: 'the private bundle written by zkai data commit', required: true },
    { flags: '--out <file>', help: 'where to write the dataset proof JSON', required: true },
    PTAU,
    VKEY_OUT,
    { flags: '--zkey <file>', help: `${ZKEY_OPTION_HELP}; with --chunk-depth, the chunk circuit's key` },
    {
      flags: '--chunk-depth <n>',
      help: 'prove in chunks of aligned subtrees of 2^n records, in parallel (for datasets larger than one circuit); with aggregates or UNIQUE, chunk proofs publish only a salted commitment to their partials and aggregation proofs judge the policy; verify takes the key set it writes (--vkey-out)',
    },
    {
      flags: '--subtrees-per-chunk <k>',
      help: 'with --chunk-depth: each chunk proof covers k consecutive subtrees (fills a proof better; the README lists shapes that fit a 2^14 ptau)',
      default: '1',
    },
    {
      flags: '--fan-in <n>',
      help: 'with --chunk-depth, private chunks: children per aggregation proof, 2 to 64 (fewer make a smaller root circuit for small datasets); the verifier gives the same (the verify hint names it)',
      default: '16',
    },
    {
      flags: '--node-zkey <file>',
      help: "with --chunk-depth, private chunks: a ceremony's proving key for the aggregation node circuit (otherwise zkai's single-party setup makes it)",
    },
    {
      flags: '--root-zkey <file>',
      help: "with --chunk-depth, private chunks: a ceremony's proving key for the aggregation root circuit (otherwise zkai's single-party setup makes it)",
    },
    CONTEXT,
    REGISTRY_FILES,
    {
      flags: '--force-violating',
      help: 'DANGEROUS, for demonstrations only: skip the pre-flight check to show that the circuit itself refuses a violating dataset',
      hidden: true,
    },
  ],
} as const satisfies CommandSpec;
export type DataProveFlags = FlagsOf<typeof DATA_PROVE>;

export const DATA_VERIFY = {
  name: 'verify',
  description:
    'verify a dataset proof against the schema, the policy and the published commitment you trust (exit code 1 if invalid)',
  options: [
    {
      flags: '--vkey <file>',
      help: 'verification key of the policy circuit (a private chunked proof: the key set data prove wrote, the chunk, aggregation node and root keys)',
      required: true,
    },
    TRUST_KEY,
    { flags: '--proof <file>', help: 'dataset proof JSON written by zkai data prove', required: true },
    SCHEMA,
    { flags: '--policy <file>', help: 'policy JSON', required: true },
    { flags: '--commitment <file>', help: 'the published commitment JSON' },
    { flags: '--root <decimal>', help: 'the published root (with --count, instead of --commitment)' },
    { flags: '--count <n>', help: 'the published record count' },
    {
      flags: '--registry <name=root|file...>',
      help: 'for a policy with registries: the root you trust for each, as NAME=ROOT or a registry file',
    },
    {
      flags: '--fan-in <n>',
      help: 'a private chunked proof: the children per aggregation proof you verify with (2 to 64; the circuits you trust are generated with it)',
      default: '16',
    },
  ],
} as const satisfies CommandSpec;
export type DataVerifyFlags = FlagsOf<typeof DATA_VERIFY>;

export const DATA_REGISTRY = {
  name: 'registry',
  description:
    'build a registry (a consent set, an opt-out list) from a list of ids: writes the registry file and prints its root, which verifiers trust',
  options: [
    { flags: '--schema <file>', help: 'schema JSON (ids are encoded like the data)', required: true },
    {
      flags: '--field <column>',
      help: 'the column whose values the registry lists (usually the subject id)',
      required: true,
    },
    { flags: '--ids <file>', help: 'the ids: one per line exactly as in the data, or a .json array', required: true },
    { flags: '--name <name>', help: 'the registry name the policy uses', required: true },
    {
      flags: '--depth <n>',
      help: 'tree depth: holds up to 2^n - 1 ids; the policy names the same depth (each level costs about 240 constraints per record)',
      required: true,
    },
    { flags: '--out <file>', help: 'where to write the registry file', required: true },
  ],
} as const satisfies CommandSpec;
export type DataRegistryFlags = FlagsOf<typeof DATA_REGISTRY>;

export const DATA_INCLUDE = {
  name: 'include',
  description:
    'prove that one record is in the committed dataset (public: root, subject hash, schema hash; nothing else), for a data subject asking "was my record used?"',
  options: [
    { flags: '--schema <file>', help: 'schema JSON (it must name a non-nullable "subjectId" column)', required: true },
    { flags: '--bundle <file>', help: 'the private bundle written by zkai data commit', required: true },
    { flags: '--subject <id>', help: "the record's subject id, written as in the data" },
    {
      flags: '--row <n>',
      help: "the record's row number in the source file (alone, or with --subject when several records share the id)",
    },
    CONTEXT,
    { flags: '--out <file>', help: 'where to write the inclusion proof JSON', required: true },
    VKEY_OUT,
    PTAU,
    ZKEY,
  ],
  helpAfter:
    '\nThe data subject verifies the proof with their own id and the published commitment:\n  zkai data verify-include --vkey VKEY.json --proof PROOF.json --schema SCHEMA.json --commitment COMMITMENT.json --subject ID',
} as const satisfies CommandSpec;
export type DataIncludeFlags = FlagsOf<typeof DATA_INCLUDE>;

export const DATA_VERIFY_INCLUDE = {
  name: 'verify-include',
  description:
    'verify an inclusion proof: a record with this subject id is in the dataset of the published commitment (exit code 1 if invalid)',
  options: [
    { flags: '--vkey <file>', help: 'verification key of the inclusion circuit', required: true },
    TRUST_KEY,
    { flags: '--proof <file>', help: 'inclusion proof JSON written by zkai data include', required: true },
    SCHEMA,
    { flags: '--subject <id>', help: 'the subject id to check, written as in the data', required: true },
    { flags: '--commitment <file>', help: 'the published commitment JSON' },
    { flags: '--root <decimal>', help: 'the published root (instead of --commitment)' },
  ],
} as const satisfies CommandSpec;
export type DataVerifyIncludeFlags = FlagsOf<typeof DATA_VERIFY_INCLUDE>;

const actions = lazy(() => import('../data-commands.ts'));

/** Register `zkai data` and its commands on the program. */
export function register(program: Command, context: GroupContext): void {
  const data = program
    .command('data')
    .description(
      'private datasets: commit (public root + private bundle), check against a policy, prove the policy holds, verify such a proof, prove one record is included (include, verify-include)',
    );
  addCommand(data, DATA_COMMIT, context, async (flags) => (await actions()).dataCommitCommand(flags));
  addCommand(data, DATA_CHECK, context, async (flags) => (await actions()).dataCheckCommand(flags));
  addCommand(data, DATA_PROVE, context, async (flags) => (await actions()).dataProveCommand(flags));
  addCommand(data, DATA_VERIFY, context, async (flags) => (await actions()).dataVerifyCommand(flags));
  addCommand(data, DATA_REGISTRY, context, async (flags) => (await actions()).dataRegistryCommand(flags));
  addCommand(data, DATA_INCLUDE, context, async (flags) => (await actions()).dataIncludeCommand(flags));
  addCommand(data, DATA_VERIFY_INCLUDE, context, async (flags) => (await actions()).dataVerifyIncludeCommand(flags));
}
