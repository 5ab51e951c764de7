/**
 * `zkai chain` (with `chain list` and `chain consent`): its commands and options, declared once (`spec.ts`); the
 * actions (`../chain-commands.ts`, `../register-commands.ts`, `../consent-commands.ts`: ethers, anvil) load when one
 * runs.
 */
import type { Command } from 'commander';
import type { GlobalFlags } from '../output.ts';
import { addCommand, lazy, type CommandSpec, type FlagsOf, type GroupContext, type OptionsOf } from './spec.ts';

/** The options every `zkai chain` subcommand takes (first in its help). */
export const CHAIN_OPTIONS = [
  {
    flags: '--rpc <url>',
    help: "JSON-RPC URL of an EVM node; signer from ZKAI_PRIVATE_KEY or the node's first account (default: an embedded anvil whose state is kept in the cache)",
  },
  {
    flags: '--deployment <file>',
    help: "the deployment file (default: zkai-deployment.json with --rpc, else in the embedded chain's folder)",
  },
  {
    flags: '--chain-dir <dir>',
    help: "folder of the embedded chain's state and deployment (default: <cache dir>/chain/embedded)",
  },
] as const;
/** The options every `zkai chain` subcommand takes, with the global flags. */
export type ChainOptionFlags = OptionsOf<typeof CHAIN_OPTIONS> & GlobalFlags;

export const CHAIN_DEPLOY = {
  name: 'deploy',
  description:
    'deploy the zkai registry, the consent registry and Poseidon, and record them in the deployment file (kept when already deployed on this chain)',
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--force', help: 'deploy again even if the deployment file names a deployment on this chain' },
    { flags: '--fresh', help: 'embedded chain only: delete its state first (a new, empty chain)' },
  ],
} as const satisfies CommandSpec;
export type ChainDeployFlags = FlagsOf<typeof CHAIN_DEPLOY>;

export const CHAIN_CONTEXT = {
  name: 'context',
  description:
    'the context to prove with (--context) for this account, registry and a nonce; then attest with the same nonce',
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--nonce <hex32>', help: 'the nonce (0x and 64 hex digits; default: a random one)' },
  ],
} as const satisfies CommandSpec;
export type ChainContextFlags = FlagsOf<typeof CHAIN_CONTEXT>;

export const CHAIN_REGISTER = {
  name: 'register',
  arguments: [
    [
      '<proof.json>',
      "a proof of the circuit to register (it gives the circuit's shape only: kind, depth, chunk shape, visibility)",
    ],
  ],
  description:
    'register a circuit (registry owner), regenerated here from YOUR source (schema and policy, or model and task), with a key checked against it: a ceremony key (--zkey --ptau) holding your own contribution or with a transcript you verify (--transcript), or with --development your own single-party setup',
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--schema <file>', help: 'dataset, inclusion and accuracy circuits: the schema they are generated from' },
    {
      flags: '--policy <file>',
      help: 'dataset circuits: the policy they are generated from',
    },
    { flags: '--depth <n>', help: 'inclusion circuits: the tree depth, when the proof file does not say it' },
    { flags: '--model <file>', help: 'inference and accuracy circuits: the model (native JSON or ONNX)' },
    {
      flags: '--frac-bits <n>',
      help: 'with --model: the fractional bits it is quantized with (part of the model hash; no default)',
    },
    { flags: '--input-min <x>', help: 'ONNX models: the lowest input value' },
    { flags: '--input-max <x>', help: 'ONNX models: the highest input value' },
    { flags: '--label <column>', help: 'accuracy circuits: the label column (part of the task)' },
    {
      flags: '--features <columns>',
      help: "accuracy circuits: the model's input columns, comma-separated, in model input order",
    },
    {
      flags: '--all-features',
      help: 'accuracy circuits: every column but the label and the subject id, in schema order',
    },
    { flags: '--scale <x>', help: 'accuracy circuits: model input = column value x scale' },
    {
      flags: '--zkey <file>',
      help: "the final zkey of the circuit's ceremony (zkai ceremony); checked against the circuit regenerated here and --ptau",
    },
    {
      flags: '--ptau <file>',
      help: 'with --zkey: the ptau its ceremony started from (a published file, or one this machine generated)',
    },
    {
      flags: '--transcript <file>',
      help: 'with --zkey: the ceremony transcript, verified now (needed unless the chain holds a contribution of yours)',
    },
    {
      flags: '--contribution <hash...>',
      help: 'with --transcript: a contribution in the chain you trust (its hash, published by a party you trust); a transcript alone does not say who contributed',
    },
    {
      flags: '--node-zkey <file>',
      help: "a private chunked proof: the final zkey of the aggregation node circuit's ceremony (--zkey is the chunk circuit's; same --ptau)",
    },
    {
      flags: '--root-zkey <file>',
      help: "a private chunked proof: the final zkey of the aggregation root circuit's ceremony",
    },
    { flags: '--node-transcript <file>', help: "with --node-zkey: its ceremony's transcript, verified now" },
    { flags: '--root-transcript <file>', help: "with --root-zkey: its ceremony's transcript, verified now" },
    {
      flags: '--node-contribution <hash...>',
      help: 'with --node-transcript: a contribution in the node ceremony you trust',
    },
    {
      flags: '--root-contribution <hash...>',
      help: 'with --root-transcript: a contribution in the root ceremony you trust',
    },
    {
      flags: '--development',
      help: 'register your own automatic single-party setup (DEVELOPMENT-ONLY: you could forge proofs with it; the chain records it as such); a private chunked proof: for each of its circuits without a ceremony key',
    },
    {
      flags: '--fan-in <n>',
      help: "a private chunked proof: the children per aggregation proof of the aggregation circuits to register (2 to 64; the proof's must be the same: data prove --fan-in)",
      default: '16',
    },
    {
      flags: '--consent-registry <name>',
      help: 'the policy registry whose root is an on-chain consent root (with --purpose)',
    },
    {
      flags: '--purpose <name>',
      help: "the consent purpose (name or 0x id) that registry's root must be a recent root of",
    },
    {
      flags: '--list <registry=list...>',
      help: 'bind each other policy registry (an opt-out list) to a curated list: REGISTRY=LIST, or REGISTRY for a list of the same name',
    },
    { flags: '--uri <text>', help: "where the circuit's source and key are published" },
  ],
} as const satisfies CommandSpec;
export type ChainRegisterFlags = FlagsOf<typeof CHAIN_REGISTER>;

export const CHAIN_CHECK_CIRCUIT = {
  name: 'check-circuit',
  arguments: [['<circuit-id>', 'the registered circuit (its verification key id, 0x and 64 hex digits)']],
  description:
    're-check a registration, as anyone can: regenerate the circuit from YOUR source with the registered shape, compare it with the registered source descriptor, and check the published zkey (exit code 1 if it differs)',
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--schema <file>', help: 'dataset, inclusion and accuracy circuits: the schema you trust' },
    { flags: '--policy <file>', help: 'dataset circuits: the policy you trust' },
    { flags: '--model <file>', help: 'inference and accuracy circuits: the model you trust' },
    { flags: '--frac-bits <n>', help: 'with --model: its fractional bits (no default)' },
    { flags: '--input-min <x>', help: 'ONNX models: the lowest input value' },
    { flags: '--input-max <x>', help: 'ONNX models: the highest input value' },
    { flags: '--label <column>', help: 'accuracy circuits: the label column' },
    { flags: '--features <columns>', help: "accuracy circuits: the model's input columns, in model input order" },
    { flags: '--all-features', help: 'accuracy circuits: every column but the label and the subject id' },
    { flags: '--scale <x>', help: 'accuracy circuits: model input = column value x scale' },
    {
      flags: '--zkey <file>',
      help: 'the published zkey of the circuit: checked against the regenerated r1cs and --ptau, and against the registration',
    },
    { flags: '--ptau <file>', help: 'with --zkey: the ptau its chain started from' },
  ],
} as const satisfies CommandSpec;
export type ChainCheckCircuitFlags = FlagsOf<typeof CHAIN_CHECK_CIRCUIT>;

export const CHAIN_ATTEST = {
  name: 'attest',
  arguments: [
    ['<proof.json>', 'a dataset (whole or chunked), inference, inclusion or accuracy proof made with --context'],
  ],
  description:
    'attest a proof on the registry (its circuit registered by the owner with zkai chain register): registers its dataset or model when new, then verifies it on chain',
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--nonce <hex32>', help: "the nonce the proof's context was made with (zkai chain context)" },
    {
      flags: '--label <text>',
      help: "name of the dataset or model to register (at most 31 bytes; default: the model name, or data-<schema hash>); an existing version with the proof's fields is reused",
    },
    { flags: '--expires <when>', help: 'expiration: an ISO date (2027-01-31) or +SECONDS from now' },
    { flags: '--irrevocable', help: 'the attestation cannot be revoked' },
    { flags: '--ref <uid>', help: 'an earlier attestation this one refers to' },
    {
      flags: '--zkey <file>',
      help: "the proving key the proof was made with (default: found in the cache by the proof's circuit); it only names the circuit, whose registration decides",
    },
    {
      flags: '--subject <version>',
      help: 'attest about this dataset or model version id instead of finding or registering one',
    },
    {
      flags: '--commitment <file>',
      help: 'for an inclusion proof of a dataset not registered yet: its public commitment JSON (zkai data commit --public)',
    },
    {
      flags: '--test-set <version>',
      help: 'accuracy proofs: attest against this test-set (dataset) version id instead of finding or registering one',
    },
    {
      flags: '--test-set-label <text>',
      help: 'accuracy proofs: name of the test set to register (default: data-<schema hash>); an existing version with the same commitment is reused',
    },
  ],
} as const satisfies CommandSpec;
export type ChainAttestFlags = FlagsOf<typeof CHAIN_ATTEST>;

export const CHAIN_LIST_CREATE = {
  name: 'create',
  arguments: [['<name>', 'the list name (its id is the keccak256 of the name)']],
  description: 'create a curated list (registry owner) and name its curator',
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--curator <address>', help: "the account that publishes the list's roots", required: true },
    {
      flags: '--window <seconds>',
      help: 'how long a replaced root stays acceptable (0: only the current root)',
      required: true,
    },
  ],
} as const satisfies CommandSpec;
export type ChainListCreateFlags = FlagsOf<typeof CHAIN_LIST_CREATE>;

export const CHAIN_LIST_PUBLISH = {
  name: 'publish',
  arguments: [['<name>', 'the list name']],
  description: "publish a list's new root (its curator, or the registry owner)",
  options: [
    ...CHAIN_OPTIONS,
    {
      flags: '--registry <file>',
      help: 'the registry file (zkai data registry) whose root to publish; its root is rebuilt from its ids',
    },
    { flags: '--schema <file>', help: 'with --registry: the schema its ids are encoded with' },
    { flags: '--root <decimal>', help: 'the root itself, instead of --registry' },
  ],
} as const satisfies CommandSpec;
export type ChainListPublishFlags = FlagsOf<typeof CHAIN_LIST_PUBLISH>;

export const CHAIN_LIST_SHOW = {
  name: 'show',
  arguments: [['<name>', 'the list name']],
  description: 'a curated list: its curator, window and current root',
  options: CHAIN_OPTIONS,
} as const satisfies CommandSpec;
export type ChainListShowFlags = FlagsOf<typeof CHAIN_LIST_SHOW>;

export const CHAIN_REVOKE = {
  name: 'revoke',
  arguments: [['<uid>', 'the attestation uid']],
  description: 'revoke an attestation (its attester only)',
  options: CHAIN_OPTIONS,
} as const satisfies CommandSpec;
export type ChainRevokeFlags = FlagsOf<typeof CHAIN_REVOKE>;

export const CHAIN_ATTESTATIONS = {
  name: 'attestations',
  description: 'list attestations (uid, circuit kind, subject, attester, time, valid/revoked/expired)',
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--subject <version>', help: 'only those about this dataset or model version id' },
    { flags: '--attester <address>', help: 'only those made by this address' },
  ],
} as const satisfies CommandSpec;
export type ChainAttestationsFlags = FlagsOf<typeof CHAIN_ATTESTATIONS>;

export const CONSENT_CREATE = {
  name: 'create',
  description: 'create a consent purpose (you become its admin)',
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--purpose <name>', help: 'the purpose name (its id is the keccak256 of the name)', required: true },
    { flags: '--depth <n>', help: 'tree depth, 1 to 24: up to 2^n grants', required: true },
    {
      flags: '--window <seconds>',
      help: 'how long a replaced root stays acceptable to the registry (0: only the current root; at most 2592000, 30 days)',
      required: true,
    },
    { flags: '--description <text>', help: 'free text, emitted in the creation event' },
  ],
} as const satisfies CommandSpec;
export type ConsentCreateFlags = FlagsOf<typeof CONSENT_CREATE>;

export const CONSENT_GRANT = {
  name: 'grant',
  description:
    "grant consent as the signer (the data subject: an account), or with --for as the delegate that subject named; the contract derives the leaf from the subject's account",
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--purpose <name>', help: 'the purpose (name or 0x id)', required: true },
    {
      flags: '--for <address>',
      help: 'grant for this subject, as the delegate it named (zkai chain consent delegate)',
    },
  ],
} as const satisfies CommandSpec;
export type ConsentGrantFlags = FlagsOf<typeof CONSENT_GRANT>;

export const CONSENT_REVOKE = {
  name: 'revoke',
  description: 'revoke a grant (its subject or their delegate)',
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--purpose <name>', help: 'the purpose (name or 0x id)', required: true },
    { flags: '--index <n>', help: 'the leaf index the grant printed', required: true },
  ],
} as const satisfies CommandSpec;
export type ConsentRevokeFlags = FlagsOf<typeof CONSENT_REVOKE>;

export const CONSENT_DELEGATE = {
  name: 'delegate',
  description: 'name the one account that may grant and revoke consent for you (the signer), or remove it',
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--to <address>', help: 'the delegate' },
    { flags: '--clear', help: 'remove your delegate' },
  ],
} as const satisfies CommandSpec;
export type ConsentDelegateFlags = FlagsOf<typeof CONSENT_DELEGATE>;

export const CONSENT_SIGN = {
  name: 'sign',
  description:
    "sign a consent request as the subject (the signer), for anyone to send with relay: your account needs no ether (EIP-712; valid once, on this chain's consent registry only)",
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--out <file>', help: 'write the signed request here', required: true },
    { flags: '--purpose <name>', help: 'the purpose (name or 0x id), with --grant or --revoke' },
    { flags: '--grant', help: 'sign a grant' },
    { flags: '--revoke <index>', help: 'sign the revocation of this leaf (yours)' },
    { flags: '--delegate <address>', help: 'sign naming this delegate' },
    { flags: '--clear-delegate', help: 'sign removing your delegate' },
    { flags: '--valid <seconds>', help: 'how long the signature stays valid (default 86400: a day; at most 30 days)' },
    { flags: '--force', help: 'replace --out if it exists' },
  ],
} as const satisfies CommandSpec;
export type ConsentSignFlags = FlagsOf<typeof CONSENT_SIGN>;

export const CONSENT_CANCEL = {
  name: 'cancel',
  description:
    'cancel every consent request you (the signer) signed that nobody relayed yet (a revocation or a delegate change does it too)',
  options: CHAIN_OPTIONS,
} as const satisfies CommandSpec;
export type ConsentCancelFlags = FlagsOf<typeof CONSENT_CANCEL>;

export const CONSENT_RELAY = {
  name: 'relay',
  arguments: [['<file>', 'a signed consent request (zkai chain consent sign)']],
  description:
    'send a consent request a subject signed (you pay the gas; the contract checks the signature, its nonce and deadline)',
  options: CHAIN_OPTIONS,
} as const satisfies CommandSpec;
export type ConsentRelayFlags = FlagsOf<typeof CONSENT_RELAY>;

export const CONSENT_TREE = {
  name: 'tree',
  description:
    "a purpose's current root and leaves, rebuilt from the chain's events; with --out, a consent registry file to prove a policy's MEMBER-OF requirement against",
  options: [
    ...CHAIN_OPTIONS,
    { flags: '--purpose <name>', help: 'the purpose (name or 0x id)', required: true },
    {
      flags: '--out <file>',
      help: 'write a consent registry file (for zkai data check | prove | verify --registry FILE); needs --schema, --field, --name',
    },
    { flags: '--schema <file>', help: 'with --out: schema JSON (ids are encoded like the data)' },
    {
      flags: '--field <column>',
      help: "with --out: the address column holding each subject's account (the leaves are derived from accounts)",
    },
    { flags: '--name <name>', help: 'with --out: the registry name the policy uses' },
    {
      flags: '--ids <file>',
      help: "with --out: your subjects' accounts, one per line exactly as in the data or a .json array (as zkai data registry --ids); without it no account is a member",
    },
    { flags: '--block <n>', help: 'read the tree at this block (default: the latest)' },
  ],
  helpAfter:
    '\nProve a dataset against the on-chain consent tree:\n  zkai chain consent tree --purpose P --schema S --field account --name consent --ids ACCOUNTS --out consent-registry.json\n  zkai data prove --schema S --policy POLICY --bundle B --registry consent-registry.json --context CTX --out proof.json\n  zkai chain register proof.json --schema S --policy POLICY --development --consent-registry consent --purpose P   (registry owner, once)\n  zkai chain attest proof.json --nonce NONCE',
} as const satisfies CommandSpec;
export type ConsentTreeFlags = FlagsOf<typeof CONSENT_TREE>;

const chainActions = lazy(() => import('../chain-commands.ts'));
const registerActions = lazy(() => import('../register-commands.ts'));
const consentActions = lazy(() => import('../consent-commands.ts'));

/** Register `zkai chain` and its subcommands (`chain list ...`, `chain consent ...`) on the program. */
export function register(program: Command, context: GroupContext): void {
  const chain = program
    .command('chain')
    .description(
      'the zkai registry on an EVM chain: deploy, bind proofs to an attester (context), attest, revoke, list attestations, manage consent purposes (embedded development chain unless --rpc)',
    );
  addCommand(chain, CHAIN_DEPLOY, context, async (flags) => (await chainActions()).chainDeployCommand(flags));
  addCommand(chain, CHAIN_CONTEXT, context, async (flags) => (await chainActions()).chainContextCommand(flags));
  addCommand(chain, CHAIN_REGISTER, context, async (flags, proof) =>
    (await registerActions()).chainRegisterCommand(proof, flags),
  );
  addCommand(chain, CHAIN_CHECK_CIRCUIT, context, async (flags, id) =>
    (await registerActions()).chainCheckCircuitCommand(id, flags),
  );
  addCommand(chain, CHAIN_ATTEST, context, async (flags, proof) =>
    (await chainActions()).chainAttestCommand(proof, flags),
  );

  const list = chain
    .command('list')
    .description(
      'curated lists (opt-out lists): the registry owner creates one and names its curator, who publishes its roots',
    );
  addCommand(list, CHAIN_LIST_CREATE, context, async (flags, name) =>
    (await registerActions()).chainListCreateCommand(name, flags),
  );
  addCommand(list, CHAIN_LIST_PUBLISH, context, async (flags, name) =>
    (await registerActions()).chainListPublishCommand(name, flags),
  );
  addCommand(list, CHAIN_LIST_SHOW, context, async (flags, name) =>
    (await registerActions()).chainListShowCommand(name, flags),
  );

  addCommand(chain, CHAIN_REVOKE, context, async (flags, uid) => (await chainActions()).chainRevokeCommand(uid, flags));
  addCommand(chain, CHAIN_ATTESTATIONS, context, async (flags) =>
    (await chainActions()).chainAttestationsCommand(flags),
  );

  const consent = chain
    .command('consent')
    .description('on-chain consent purposes: create one, grant and revoke consent, read its tree');
  addCommand(consent, CONSENT_CREATE, context, async (flags) =>
    (await consentActions()).chainConsentCreateCommand(flags),
  );
  addCommand(consent, CONSENT_GRANT, context, async (flags) =>
    (await consentActions()).chainConsentGrantCommand(flags),
  );
  addCommand(consent, CONSENT_REVOKE, context, async (flags) =>
    (await consentActions()).chainConsentRevokeCommand(flags),
  );
  addCommand(consent, CONSENT_DELEGATE, context, async (flags) =>
    (await consentActions()).chainConsentDelegateCommand(flags),
  );
  addCommand(consent, CONSENT_SIGN, context, async (flags) => (await consentActions()).chainConsentSignCommand(flags));
  addCommand(consent, CONSENT_CANCEL, context, async (flags) =>
    (await consentActions()).chainConsentCancelCommand(flags),
  );
  addCommand(consent, CONSENT_RELAY, context, async (flags, file) =>
    (await consentActions()).chainConsentRelayCommand({ ...flags, file }),
  );
  addCommand(consent, CONSENT_TREE, context, async (flags) => (await consentActions()).chainConsentTreeCommand(flags));
}
