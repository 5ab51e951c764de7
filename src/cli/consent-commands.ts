/**
 * `zkai chain consent create | grant | revoke | delegate | sign | relay | tree`: consent purposes of the on-chain
 * consent registry (contracts/ConsentRegistry.sol). A data subject is an account: it grants and revokes itself, through
 * the one delegate it named, or by signing a request (EIP-712) that anyone relays, so the account needs no ether.
 */
import { existsSync } from 'node:fs';
import { ZeroAddress, getAddress, isAddress } from 'ethers';
import {
  MAX_ROOT_WINDOW,
  accountLeaf,
  signDelegate,
  signGrant,
  signRevoke,
  type ConsentRegistryClient,
  type ConsentSignature,
  type DelegateRequest,
  type GrantRequest,
  type RevokeRequest,
  type SignedConsentRequest,
} from '../chain/consent.ts';
import { consentRegistry, consentStatusLookup } from '../data/consent-tree.ts';
import { encodeCell } from '../data/encode.ts';
import { readIdList, saveRegistry } from '../data/registry-file.ts';
import type { Column } from '../data/types.ts';
import { loadSchema } from '../data/schema.ts';
import { InputFileError, ZkaiError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { deploymentOf, positiveInteger, purposeOf, withSession } from './chain-commands.ts';
import { readJsonFile } from './io.ts';
import { emit } from './output.ts';
import type {
  ConsentCancelFlags,
  ConsentCreateFlags,
  ConsentDelegateFlags,
  ConsentGrantFlags,
  ConsentRelayFlags,
  ConsentRevokeFlags,
  ConsentSignFlags,
  ConsentTreeFlags,
} from './groups/chain.ts';

/** `zkai chain consent create`. */
export async function chainConsentCreateCommand(flags: ConsentCreateFlags): Promise<void> {
  const depth = positiveInteger(flags.depth, '--depth', 1, 24);
  const window = positiveInteger(flags.window, '--window', 0, MAX_ROOT_WINDOW);
  const purpose = purposeOf(flags.purpose);
  const result = await withSession(flags, async (session) => {
    const { consent } = await deploymentOf(session);
    const tx = await consent.createPurpose(purpose, {
      depth,
      rootWindow: window,
      ...(flags.description ? { description: flags.description } : {}),
    });
    return {
      purpose: flags.purpose,
      purposeId: purpose,
      depth,
      rootWindow: window,
      admin: await session.chain.signer.getAddress(),
      gas: tx.gasUsed.toString(),
      txHash: tx.txHash,
    };
  });
  emit(flags, result, () =>
    [
      `consent purpose "${result.purpose}" created: id ${result.purposeId}`,
      `  tree depth ${depth} (up to ${2 ** depth} grants); a replaced root stays acceptable for ${window} s; admin ${result.admin}; ${result.gas} gas`,
    ].join('\n'),
  );
}

/** An account given as an option: checksummed, or a clear error. */
function accountOption(value: string, option: string): string {
  if (!isAddress(value))
    throw new ZkaiError(
      'BAD_OPTION',
      `${option} must be an account address (0x and 40 hex digits, EIP-55 checksum when mixed case), got "${value}"`,
    );
  return getAddress(value);
}

/**
 * `zkai chain consent grant`: the signer grants consent as itself, or with --for as the delegate that SUBJECT named.
 * The contract derives the leaf from the subject's account: nobody can grant for an account it does not control.
 */
export async function chainConsentGrantCommand(flags: ConsentGrantFlags): Promise<void> {
  const purpose = purposeOf(flags.purpose);
  const subjectFlag = flags.for === undefined ? undefined : accountOption(flags.for, '--for');
  const result = await withSession(flags, async (session) => {
    const { consent } = await deploymentOf(session);
    const me = await session.chain.signer.getAddress();
    const subject = subjectFlag ?? me;
    const granted = subjectFlag === undefined ? await consent.grant(purpose) : await consent.grantFor(subject, purpose);
    return {
      purpose: flags.purpose,
      purposeId: purpose,
      index: granted.index,
      subject,
      by: me,
      leaf: accountLeaf(subject).toString(),
      root: granted.root.toString(),
      gas: granted.gasUsed.toString(),
      txHash: granted.txHash,
    };
  });
  emit(flags, result, () =>
    [
      `consent granted for purpose "${result.purpose}": leaf index ${result.index} (revoking names it)`,
      `  subject  ${result.subject}${result.by === result.subject ? '' : ` (granted by its delegate ${result.by})`}`,
      `  root     ${result.root}; ${result.gas} gas`,
      `  the data holder's record for this subject must hold ${result.subject} in the address column its policy checks against this purpose`,
      '  note: which account consented to which purpose is public; use a fresh account per purpose (zkai chain consent sign lets it hold no ether)',
    ].join('\n'),
  );
}

/** `zkai chain consent revoke`: the leaf's subject, or its delegate, takes consent back. */
export async function chainConsentRevokeCommand(flags: ConsentRevokeFlags): Promise<void> {
  const index = positiveInteger(flags.index, '--index', 0, 2 ** 24 - 1);
  const purpose = purposeOf(flags.purpose);
  const result = await withSession(flags, async (session) => {
    const { consent } = await deploymentOf(session);
    const revoked = await consent.revoke(purpose, index);
    return {
      purpose: flags.purpose,
      purposeId: purpose,
      index,
      root: revoked.root.toString(),
      gas: revoked.gasUsed.toString(),
      txHash: revoked.txHash,
    };
  });
  emit(
    flags,
    result,
    () =>
      `consent revoked: leaf ${result.index} of purpose "${result.purpose}"; new root ${result.root} (${result.gas} gas)`,
  );
}

/** `zkai chain consent delegate --to ADDRESS | --clear`: name (or remove) the one account that may act for the signer. */
export async function chainConsentDelegateCommand(flags: ConsentDelegateFlags): Promise<void> {
  if ((flags.to === undefined) === (flags.clear !== true))
    throw new ZkaiError('BAD_OPTION', 'give exactly one of --to ADDRESS (name a delegate) and --clear (remove yours)');
  const delegate = flags.to === undefined ? undefined : accountOption(flags.to, '--to');
  const result = await withSession(flags, async (session) => {
    const { consent } = await deploymentOf(session);
    const tx = delegate === undefined ? await consent.clearDelegate() : await consent.setDelegate(delegate);
    return {
      subject: await session.chain.signer.getAddress(),
      delegate: delegate ?? null,
      gas: tx.gasUsed.toString(),
      txHash: tx.txHash,
    };
  });
  emit(flags, result, () =>
    result.delegate === null
      ? `${result.subject} has no delegate now (${result.gas} gas)`
      : `${result.delegate} may now grant and revoke consent for ${result.subject} (${result.gas} gas)`,
  );
}

/** `zkai chain consent cancel`: cancel every request the signer signed that nobody relayed yet. */
export async function chainConsentCancelCommand(flags: ConsentCancelFlags): Promise<void> {
  const result = await withSession(flags, async (session) => {
    const { consent } = await deploymentOf(session);
    const tx = await consent.cancelSignatures();
    const subject = await session.chain.signer.getAddress();
    return {
      subject,
      nextNonce: (await consent.nonceOf(subject)).toString(),
      gas: tx.gasUsed.toString(),
      txHash: tx.txHash,
    };
  });
  emit(
    flags,
    result,
    () =>
      `cancelled every unrelayed request ${result.subject} signed; the next signature carries nonce ${result.nextNonce} (${result.gas} gas)`,
  );
}

/** Format tag of a signed consent request file. */
export const CONSENT_REQUEST_FORMAT = 'zkai-consent-request-v1';

/** A signed consent request, as `zkai chain consent sign` writes it and `relay` reads it. */
interface ConsentRequestFile {
  format: typeof CONSENT_REQUEST_FORMAT;
  action: 'grant' | 'revoke' | 'delegate';
  chainId: number;
  /** The consent registry the signature is for. */
  registry: string;
  request: Record<string, string | number>;
  signature: ConsentSignature;
}

/** Default validity of a signed request: a day. */
const DEFAULT_VALID_SECONDS = 86_400;
/** Longest validity of a signed request: 30 days (a kept signature is a standing permission until then). */
const MAX_VALID_SECONDS = 30 * 86_400;

/**
 * `zkai chain consent sign`: the subject (the signer) signs a grant, a revocation or a delegate change for this chain's
 * consent registry and writes it to a file; anyone can send it with `relay`, so the subject's account needs no ether.
 * It is valid once (its nonce) and until its deadline.
 */
export async function chainConsentSignCommand(flags: ConsentSignFlags): Promise<void> {
  const chosen = [
    flags.grant === true,
    flags.revoke !== undefined,
    flags.delegate !== undefined,
    flags.clearDelegate === true,
  ].filter(Boolean).length;
  if (chosen !== 1)
    throw new ZkaiError(
      'BAD_OPTION',
      'give exactly one of --grant, --revoke INDEX, --delegate ADDRESS and --clear-delegate',
    );
  const action: ConsentRequestFile['action'] = flags.grant
    ? 'grant'
    : flags.revoke !== undefined
      ? 'revoke'
      : 'delegate';
  if (action !== 'delegate' && flags.purpose === undefined)
    throw new ZkaiError('BAD_OPTION', `--${action} needs --purpose`);
  if (action === 'delegate' && flags.purpose !== undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      '--purpose does not go with a delegate change (a delegate acts for every purpose)',
    );
  const index = flags.revoke === undefined ? undefined : positiveInteger(flags.revoke, '--revoke', 0, 2 ** 24 - 1);
  const delegate = flags.delegate !== undefined ? accountOption(flags.delegate, '--delegate') : ZeroAddress;
  const valid = positiveInteger(flags.valid ?? String(DEFAULT_VALID_SECONDS), '--valid', 1, MAX_VALID_SECONDS);
  if (!flags.force && existsSync(flags.out))
    throw new ZkaiError('BAD_OPTION', `${flags.out} exists; pass --force to replace it`);
  const purpose = flags.purpose === undefined ? undefined : purposeOf(flags.purpose);
  const file = await withSession(flags, async (session) => {
    const { deployment, consent } = await deploymentOf(session);
    const signer = session.chain.signer;
    const subject = await signer.getAddress();
    const domain = await consent.domain();
    const nonce = await consent.nonceOf(subject);
    const now = (await session.chain.provider.getBlock('latest'))?.timestamp ?? Math.floor(Date.now() / 1000);
    const deadline = BigInt(now + valid);
    let signed: SignedConsentRequest<GrantRequest | RevokeRequest | DelegateRequest>;
    switch (action) {
      case 'grant':
        signed = await signGrant(signer, domain, { subject, purpose: purpose as string, nonce, deadline });
        break;
      case 'revoke':
        signed = await signRevoke(signer, domain, {
          subject,
          purpose: purpose as string,
          index: index as number,
          nonce,
          deadline,
        });
        break;
      case 'delegate':
        signed = await signDelegate(signer, domain, { subject, delegate, nonce, deadline });
        break;
    }
    const request = Object.fromEntries(
      Object.entries(signed.request).map(([key, value]) => [
        key,
        typeof value === 'bigint' ? value.toString() : (value as string | number),
      ]),
    );
    const out: ConsentRequestFile = {
      format: CONSENT_REQUEST_FORMAT,
      action,
      chainId: deployment.chainId,
      registry: deployment.consent,
      request,
      signature: signed.signature,
    };
    return out;
  });
  await writeFileAtomic(flags.out, `${JSON.stringify(file, null, 2)}\n`);
  emit(flags, { out: flags.out, ...file }, () =>
    [
      `signed ${action === 'grant' ? `a grant for purpose "${flags.purpose}"` : action === 'revoke' ? `the revocation of leaf ${index} of purpose "${flags.purpose}"` : delegate === ZeroAddress ? 'removing your delegate' : `naming ${delegate} your delegate`} as ${file.request.subject}: ${flags.out}`,
      `  valid once, until ${new Date(Number(file.request.deadline) * 1000).toISOString()}, on chain ${file.chainId} at consent registry ${file.registry}`,
      `  anyone may send it: zkai chain consent relay ${flags.out}`,
    ].join('\n'),
  );
}

const DECIMAL_TEXT = /^(0|[1-9][0-9]*)$/;

/** Read and check a signed request file (every field, with the field named when wrong). */
async function readConsentRequest(path: string): Promise<ConsentRequestFile> {
  const json = (await readJsonFile(path, 'signed consent request')) as Partial<ConsentRequestFile> | null;
  const bad = (what: string) =>
    new InputFileError(path, `not a signed consent request: ${what}`, { hint: 'zkai chain consent sign writes one' });
  if (!json || typeof json !== 'object' || json.format !== CONSENT_REQUEST_FORMAT)
    throw bad(`"format" must be "${CONSENT_REQUEST_FORMAT}"`);
  if (json.action !== 'grant' && json.action !== 'revoke' && json.action !== 'delegate')
    throw bad('"action" must be grant, revoke or delegate');
  if (!Number.isSafeInteger(json.chainId)) throw bad('"chainId" must be an integer');
  if (typeof json.registry !== 'string' || !isAddress(json.registry)) throw bad('"registry" must be an address');
  const request = json.request;
  if (!request || typeof request !== 'object') throw bad('"request" is missing');
  const need =
    json.action === 'delegate'
      ? ['subject', 'delegate', 'nonce', 'deadline']
      : json.action === 'revoke'
        ? ['subject', 'purpose', 'index', 'nonce', 'deadline']
        : ['subject', 'purpose', 'nonce', 'deadline'];
  for (const key of need) if (request[key] === undefined) throw bad(`"request.${key}" is missing`);
  for (const key of ['subject', 'delegate'])
    if (need.includes(key) && !isAddress(String(request[key]))) throw bad(`"request.${key}" must be an address`);
  for (const key of ['nonce', 'deadline']) {
    if (!DECIMAL_TEXT.test(String(request[key])) || BigInt(String(request[key])) >= 2n ** 256n)
      throw bad(`"request.${key}" must be a decimal integer below 2^256`);
  }
  if (need.includes('purpose') && !/^0x[0-9a-fA-F]{64}$/.test(String(request.purpose)))
    throw bad('"request.purpose" must be a 0x purpose id');
  if (
    need.includes('index') &&
    (!Number.isSafeInteger(request.index) || (request.index as number) < 0 || (request.index as number) >= 2 ** 24)
  )
    throw bad('"request.index" must be a leaf index, an integer from 0 to 2^24 - 1');
  const sig = json.signature;
  if (
    !sig ||
    typeof sig !== 'object' ||
    (sig.v !== 27 && sig.v !== 28) ||
    !/^0x[0-9a-fA-F]{64}$/.test(String(sig.r)) ||
    !/^0x[0-9a-fA-F]{64}$/.test(String(sig.s))
  )
    throw bad('"signature" must be { v: 27 or 28, r, s: 0x and 64 hex digits }');
  return json as ConsentRequestFile;
}

/**
 * `zkai chain consent relay FILE`: send a signed consent request (anyone may, paying the gas). The contract checks the
 * subject's signature, its nonce (once), its deadline, and that it was made for this chain and this registry.
 */
export async function chainConsentRelayCommand(flags: ConsentRelayFlags & { file: string }): Promise<void> {
  const file = await readConsentRequest(flags.file);
  const result = await withSession(flags, async (session) => {
    const { deployment, consent } = await deploymentOf(session);
    if (file.chainId !== deployment.chainId || getAddress(file.registry) !== getAddress(deployment.consent)) {
      throw new ZkaiError(
        'BAD_OPTION',
        `${flags.file} was signed for consent registry ${file.registry} on chain ${file.chainId}, but this deployment's is ${deployment.consent} on chain ${deployment.chainId}: the contract would refuse it`,
        {
          hint: 'relay it with the --rpc and --deployment of the chain it was signed for',
        },
      );
    }
    // Say plainly why the contract would refuse a used or out-of-order nonce (it only says BadSignature).
    const subject = getAddress(String(file.request.subject));
    const next = await consent.nonceOf(subject);
    const given = BigInt(String(file.request.nonce));
    if (given < next)
      throw new ZkaiError(
        'BAD_OPTION',
        `${flags.file} carries nonce ${given} of ${subject}, which is used up (the next is ${next}): it was relayed already, or cancelled by a revocation, a delegate change or cancelSignatures`,
        { hint: 'the subject signs a new request: zkai chain consent sign' },
      );
    if (given > next)
      throw new ZkaiError(
        'BAD_OPTION',
        `${flags.file} carries nonce ${given} of ${subject}, but the next one the registry accepts is ${next}: relay the subject's earlier signed requests first`,
      );
    return relay(consent, file);
  });
  emit(flags, result, () =>
    [
      `relayed the ${result.action} of ${result.subject}${result.index === undefined ? '' : `: leaf index ${result.index}`} (${result.gas} gas)`,
      ...(result.root === undefined ? [] : [`  root     ${result.root}`]),
    ].join('\n'),
  );
}

async function relay(
  consent: ConsentRegistryClient,
  file: ConsentRequestFile,
): Promise<{ action: string; subject: string; index?: number; root?: string; gas: string; txHash: string }> {
  const r = file.request;
  const subject = getAddress(String(r.subject));
  const common = { nonce: BigInt(String(r.nonce)), deadline: BigInt(String(r.deadline)) };
  switch (file.action) {
    case 'grant': {
      const granted = await consent.grantBySig({
        request: { subject, purpose: String(r.purpose), ...common },
        signature: file.signature,
      });
      return {
        action: 'grant',
        subject,
        index: granted.index,
        root: granted.root.toString(),
        gas: granted.gasUsed.toString(),
        txHash: granted.txHash,
      };
    }
    case 'revoke': {
      const index = Number(r.index);
      const revoked = await consent.revokeBySig({
        request: { subject, purpose: String(r.purpose), index, ...common },
        signature: file.signature,
      });
      return {
        action: 'revoke',
        subject,
        index,
        root: revoked.root.toString(),
        gas: revoked.gasUsed.toString(),
        txHash: revoked.txHash,
      };
    }
    case 'delegate': {
      const tx = await consent.setDelegateBySig({
        request: { subject, delegate: getAddress(String(r.delegate)), ...common },
        signature: file.signature,
      });
      return { action: 'delegate change', subject, gas: tx.gasUsed.toString(), txHash: tx.txHash };
    }
  }
}

/**
 * `zkai chain consent tree`: a purpose's tree, rebuilt from the contract's events. With --out it also writes a
 * consent registry file (kind "consent": the leaves, the block and root they were read at, the data holder's ids),
 * which `zkai data check | prove | verify --registry FILE` load like a sorted registry file.
 */
export async function chainConsentTreeCommand(flags: ConsentTreeFlags): Promise<void> {
  const purpose = purposeOf(flags.purpose);
  const exporting = flags.out !== undefined;
  const needed = (['schema', 'field', 'name'] as const)
    .filter((option) => flags[option] === undefined)
    .map((option) => `--${option}`);
  if (exporting && needed.length > 0)
    throw new ZkaiError(
      'BAD_OPTION',
      `--out writes a consent registry file: it also needs ${needed.join(', ')} (the schema, the id column the leaves hash, and the registry name the policy uses)`,
    );
  if (!exporting) {
    const extra = (['schema', 'field', 'name', 'ids'] as const)
      .filter((option) => flags[option] !== undefined)
      .map((option) => `--${option}`);
    if (extra.length > 0)
      throw new ZkaiError(
        'BAD_OPTION',
        `${extra.join(', ')} only go with --out FILE (writing a consent registry file)`,
      );
  }
  const block =
    flags.block === undefined ? undefined : positiveInteger(flags.block, '--block', 0, Number.MAX_SAFE_INTEGER);
  // Everything that can be checked off chain is checked before the chain starts: the schema, the column, the ids.
  const schema = exporting ? await loadSchema(flags.schema as string) : undefined;
  const idList = exporting && flags.ids !== undefined ? await readIdList(flags.ids) : { ids: [], positions: [] };
  const positions = idList.positions.map((p) => `${flags.ids} ${p}`);
  if (schema)
    consentRegistry(schema, {
      name: flags.name as string,
      field: flags.field as string,
      depth: 1,
      leaves: [],
      ids: idList.ids,
      positions,
    });
  const result = await withSession(flags, async (session) => {
    const { deployment, consent } = await deploymentOf(session);
    const tree = await consent.readConsentTree(purpose, block);
    const info = await consent.purposeInfo(purpose, tree.blockNumber);
    const blockTime = (await session.chain.provider.getBlock(tree.blockNumber))?.timestamp ?? 0;
    // The leaf each revoked grant had: the grant events keep it (the tree holds 0 there).
    const revoked = new Map<number, bigint>();
    if (exporting && tree.leaves.some((leaf) => leaf === 0n)) {
      const { grants } = await consent.consentEvents(purpose, tree.blockNumber);
      for (const grant of grants) if (tree.leaves[grant.index] === 0n) revoked.set(grant.index, grant.leaf);
    }
    return {
      purpose: flags.purpose,
      purposeId: purpose,
      chainId: deployment.chainId,
      contract: deployment.consent,
      admin: info.admin,
      depth: tree.depth,
      rootWindow: info.rootWindow,
      root: tree.root.toString(),
      blockNumber: tree.blockNumber,
      blockTime,
      leaves: tree.leaves.map((leaf, index) => ({
        index,
        leaf: leaf.toString(),
        subject: tree.subjects[index] ?? '',
        revoked: leaf === 0n,
      })),
      chainLeaves: tree.leaves,
      revoked,
    };
  });
  const { chainLeaves, revoked, ...shown } = result;
  let exported:
    | {
        out: string;
        name: string;
        field: string;
        root: string;
        ids: number;
        live: number;
        revoked: number;
        none: number;
      }
    | undefined;
  if (schema && flags.out) {
    const registry = consentRegistry(schema, {
      name: flags.name as string,
      field: flags.field as string,
      depth: result.depth,
      leaves: chainLeaves,
      ids: idList.ids,
      positions,
      revoked,
      source: {
        chainId: result.chainId,
        contract: result.contract,
        purpose: result.purpose,
        purposeId: result.purposeId,
        blockNumber: result.blockNumber,
        blockTime: result.blockTime,
        rootWindow: result.rootWindow,
      },
    });
    if (registry.root !== result.root)
      throw new ZkaiError(
        'INTERNAL',
        `the consent registry's root ${registry.root} is not the chain's root ${result.root}`,
      );
    await saveRegistry(flags.out, registry);
    const column = schema.columns.find((c) => c.name === registry.field) as Column;
    const status = consentStatusLookup(registry, column);
    const counts = { revoked: 0, none: 0 };
    const values = new Set<bigint>();
    for (const id of idList.ids) {
      const value = encodeCell(column, id, 1).value;
      if (values.has(value)) continue;
      values.add(value);
      const state = status(value).state;
      if (state === 'revoked' || state === 'none') counts[state] += 1;
    }
    exported = {
      out: flags.out,
      name: registry.name,
      field: registry.field,
      root: registry.root,
      ids: values.size,
      live: registry.ids.length,
      revoked: counts.revoked,
      none: counts.none,
    };
  }
  const live = shown.leaves.filter((l) => !l.revoked).length;
  emit(flags, exported ? { ...shown, registryFile: exported } : shown, () =>
    [
      `consent purpose "${shown.purpose}" (${shown.purposeId}) at block ${shown.blockNumber}`,
      `  root     ${shown.root}`,
      `  tree     depth ${shown.depth}, ${shown.leaves.length} leaves (${live} live, ${shown.leaves.length - live} revoked); replaced roots acceptable for ${shown.rootWindow} s`,
      ...(exported
        ? [
            `  registry file ${exported.out}: registry "${exported.name}" of column ${exported.field}; your ${exported.ids} ids: ${exported.live} with live consent, ${exported.revoked} revoked, ${exported.none} never granted`,
            `    use it: zkai data check | prove ... --registry ${exported.out}   (a policy's { "kind": "MEMBER-OF", "field": "${exported.field}", "registry": "${exported.name}", "depth": ${shown.depth} })`,
            `    the root is the chain's at block ${shown.blockNumber}: the registry accepts proofs with it while it is current or replaced less than ${shown.rootWindow} s ago`,
            ...(flags.ids
              ? [
                  '    the file lists your ids: keep it private; verifiers trust the root (zkai data verify --registry NAME=ROOT)',
                ]
              : [
                  '    no --ids: no id is a member (enough for a verifier to check the root; a data holder gives its ids)',
                ]),
          ]
        : []),
      ...(shown.leaves.length > 0 ? ['  index  status   subject                                     leaf'] : []),
      ...shown.leaves.map(
        (l) =>
          `  ${String(l.index).padStart(5)}  ${l.revoked ? 'revoked' : 'live   '}  ${l.subject}  ${l.revoked ? '0' : l.leaf}`,
      ),
    ].join('\n'),
  );
}
