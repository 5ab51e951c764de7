/**
 * One zkai deployment: circomlibjs's Poseidon(2), the consent registry, the curated lists and the zkai registry,
 * deployed together and recorded in a small JSON file so later commands find them.
 */
import type { Signer } from 'ethers';
import { ChainError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { readJsonFile } from '../util/json-file.ts';
import { ConsentRegistryClient, deployConsentRegistry } from './consent.ts';
import { deployPoseidon } from './poseidon.ts';
import { RegistryClient } from './registry.ts';
import { ListRegistryClient } from './lists.ts';

/** A deployment file of an older zkai, whose contracts lack what this version relies on: deploy again. */
export class OutdatedDeploymentError extends ChainError {}

/** Format tag of a deployment file. */
export const DEPLOYMENT_FORMAT = 'zkai-deployment-v2';

/** Where a zkai deployment lives. */
export interface ZkaiDeployment {
  format: typeof DEPLOYMENT_FORMAT;
  chainId: number;
  registry: string;
  consent: string;
  /** The curated lists (contracts/ListRegistry.sol): opt-out lists and the like, whose roots their curators publish. */
  lists: string;
  poseidon: string;
  /** circomlibjs's Poseidon(3): the consent registry derives each subject's leaf with it. */
  poseidon3: string;
  /** The account that deployed (the registry's owner at deployment). */
  owner: string;
  /** Block of the registry's deployment: where event scans start. */
  blockNumber: number;
  /** Gas of each deployment transaction, as decimal strings. */
  gas: { poseidon: string; poseidon3: string; consent: string; lists: string; registry: string };
}

/** A deployment and clients connected to it. */
export interface ConnectedDeployment {
  deployment: ZkaiDeployment;
  registry: RegistryClient;
  consent: ConsentRegistryClient;
  lists: ListRegistryClient;
}

/**
 * Deploy Poseidon, the consent registry and the zkai registry (owned by `signer`).
 *
 * @throws {ChainError} when a deployment fails.
 */
export async function deployZkai(signer: Signer): Promise<ConnectedDeployment> {
  const provider = signer.provider;
  if (!provider) throw new ChainError('the signer has no provider');
  const chainId = Number((await provider.getNetwork()).chainId);
  const poseidon = await deployPoseidon(signer);
  const poseidon3 = await deployPoseidon(signer, 3);
  const consent = await deployConsentRegistry(signer, poseidon.address, poseidon3.address);
  const lists = await ListRegistryClient.deploy(signer);
  const { client: registry, gasUsed } = await RegistryClient.deploy(
    signer,
    poseidon.address,
    consent.address,
    lists.client.address,
  );
  const deployment: ZkaiDeployment = {
    format: DEPLOYMENT_FORMAT,
    chainId,
    registry: registry.address,
    consent: consent.address,
    lists: lists.client.address,
    poseidon: poseidon.address,
    poseidon3: poseidon3.address,
    owner: await signer.getAddress(),
    blockNumber: await provider.getBlockNumber(),
    gas: {
      poseidon: poseidon.deployGas.toString(),
      poseidon3: poseidon3.deployGas.toString(),
      consent: consent.deployGas.toString(),
      lists: lists.gasUsed.toString(),
      registry: gasUsed.toString(),
    },
  };
  return { deployment, registry, consent: consent.client, lists: lists.client };
}

/**
 * Connect to a recorded deployment, checking that the chain is the one it was made on and that the registry is there.
 *
 * @throws {ChainError} on another chain, or when the contracts are missing (e.g. a restarted development node).
 */
export async function connectDeployment(deployment: ZkaiDeployment, signer: Signer): Promise<ConnectedDeployment> {
  const provider = signer.provider;
  if (!provider) throw new ChainError('the signer has no provider');
  const chainId = Number((await provider.getNetwork()).chainId);
  if (chainId !== deployment.chainId) {
    throw new ChainError(`the deployment was made on chain ${deployment.chainId}, but the node is chain ${chainId}`, {
      hint: 'pass the --rpc of the chain it was deployed on, or deploy again',
    });
  }
  const registry = await RegistryClient.at(deployment.registry, signer).catch((error: unknown) => {
    throw new ChainError(`the zkai registry of the deployment is not on this node (${deployment.registry})`, {
      cause: error,
      hint: 'a development node loses its contracts when restarted without its state: deploy again',
    });
  });
  return {
    deployment,
    registry,
    consent: new ConsentRegistryClient(deployment.consent, signer, {
      fromBlock: Math.max(0, deployment.blockNumber - 5),
    }),
    lists: await ListRegistryClient.at(deployment.lists, signer),
  };
}

/** Write a deployment file atomically. */
export async function saveDeployment(path: string, deployment: ZkaiDeployment): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(deployment, null, 2)}\n`);
}

/**
 * Read a deployment file.
 *
 * @throws {InputFileError} when it is missing or not JSON; {@link ChainError} when it is not a zkai deployment.
 */
export async function loadDeployment(path: string): Promise<ZkaiDeployment> {
  const json = (await readJsonFile(path, 'deployment file')) as Partial<ZkaiDeployment> | null;
  const address = /^0x[0-9a-fA-F]{40}$/;
  if (json && (json.format as string) === 'zkai-deployment-v1') {
    throw new OutdatedDeploymentError(
      `${path} is a deployment made before consent belonged to its subject (format zkai-deployment-v1): its consent registry lets anyone grant any leaf`,
      { hint: 'deploy again: zkai chain deploy replaces it' },
    );
  }
  if (
    !json ||
    json.format !== DEPLOYMENT_FORMAT ||
    !Number.isInteger(json.chainId) ||
    ![json.registry, json.consent, json.poseidon, json.poseidon3].every((a) => typeof a === 'string' && address.test(a))
  ) {
    throw new ChainError(
      `${path} is not a zkai deployment file (format ${DEPLOYMENT_FORMAT} with chainId and registry, consent, lists, poseidon and poseidon3 addresses)`,
    );
  }
  if (typeof json.lists !== 'string' || !address.test(json.lists)) {
    throw new OutdatedDeploymentError(
      `${path} is a deployment made before curated lists existed (it has no lists address): its registry cannot bind opt-out lists`,
      { hint: 'deploy again: zkai chain deploy replaces it' },
    );
  }
  return json as ZkaiDeployment;
}
