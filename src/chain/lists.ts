/**
 * Curated lists on chain (`contracts/ListRegistry.sol`): public sets such as opt-out lists whose roots a curator named
 * by the registry owner publishes, with a root history and an expiry window. A dataset circuit's registry signal is
 * bound to one of them when the circuit is registered, so a data holder cannot prove against a list of its own.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Contract, id as keccakText, type ContractTransactionReceipt, type InterfaceAbi, type Signer } from 'ethers';
import { ChainError } from '../errors.ts';
import { deployCompiled } from './deploy-contract.ts';
import { decodeRegistryError } from './registry-errors.ts';
import { sendEstimated } from './send-transaction.ts';
import { compileSolidity } from './solidity-verifier.ts';
import type { CompiledContract } from './types.ts';

/** Path of the contract's source, inside the package. */
export const LIST_REGISTRY_SOURCE = fileURLToPath(new URL('../../contracts/ListRegistry.sol', import.meta.url));

let compiled: Promise<CompiledContract> | undefined;

/** Compile `contracts/ListRegistry.sol` (once per process). */
export function compileListRegistry(): Promise<CompiledContract> {
  compiled ??= (async () => compileSolidity(await readFile(LIST_REGISTRY_SOURCE, 'utf8'), 'ListRegistry'))();
  return compiled;
}

/** A list's id: keccak256 of its name (the contract's rule). */
export function listId(name: string): string {
  return keccakText(name);
}

/** A curated list as the chain records it. */
export interface CuratedList {
  id: string;
  name: string;
  curator: string;
  /** Seconds a replaced root stays valid. */
  window: number;
  /** Current root (decimal), or undefined before the first publication. */
  root?: string;
  /** When the current root was published (unix seconds), or undefined. */
  updated?: number;
}

/** A client of one ListRegistry; every refusal becomes a RegistryRevertError naming the contract's error in words. */
export class ListRegistryClient {
  readonly address: string;
  readonly contract: Contract;
  private readonly abi: readonly object[];

  private constructor(address: string, abi: readonly object[], runner: Signer) {
    this.address = address;
    this.abi = abi;
    this.contract = new Contract(address, abi as object[], runner);
  }

  /** Connect to the lists at `address`. */
  static async at(address: string, signer: Signer): Promise<ListRegistryClient> {
    const { abi } = await compileListRegistry();
    return new ListRegistryClient(address, abi, signer);
  }

  /** Deploy a ListRegistry owned by `signer`. */
  static async deploy(signer: Signer): Promise<{ client: ListRegistryClient; gasUsed: bigint }> {
    const { abi, bytecode } = await compileListRegistry();
    try {
      const { address, deployGas } = await deployCompiled(signer, { abi, bytecode }, []);
      return { client: new ListRegistryClient(address, abi, signer), gasUsed: deployGas };
    } catch (error) {
      throw decodeRegistryError(abi, 'deploying the curated lists', error);
    }
  }

  /** The same lists, as another signer. */
  connect(signer: Signer): ListRegistryClient {
    return new ListRegistryClient(this.address, this.abi, signer);
  }

  private send(action: string, method: string, args: unknown[]): Promise<ContractTransactionReceipt> {
    return sendEstimated(this.contract, this.abi as InterfaceAbi, action, method, args);
  }

  /** Create a list (the owner only) and name its curator; a replaced root stays valid `windowSeconds`. */
  async createList(name: string, curator: string, windowSeconds: number): Promise<{ id: string; gasUsed: bigint }> {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 0)
      throw new ChainError(`the window must be a whole number of seconds, got ${windowSeconds}`);
    const receipt = await this.send(`creating list "${name}"`, 'createList', [name, curator, windowSeconds]);
    return { id: listId(name), gasUsed: receipt.gasUsed };
  }

  /** Name another curator (the owner only). */
  async setCurator(name: string, curator: string): Promise<{ gasUsed: bigint }> {
    const receipt = await this.send(`naming the curator of list "${name}"`, 'setCurator', [listId(name), curator]);
    return { gasUsed: receipt.gasUsed };
  }

  /** Publish a list's new root (its curator or the owner). */
  async publishRoot(name: string, root: string | bigint): Promise<{ gasUsed: bigint; txHash: string }> {
    const receipt = await this.send(`publishing a root of list "${name}"`, 'publishRoot', [listId(name), BigInt(root)]);
    return { gasUsed: receipt.gasUsed, txHash: receipt.hash };
  }

  /** Is `root` the list's current root, or one replaced less than its window ago? */
  async isKnownRoot(name: string, root: string | bigint): Promise<boolean> {
    return Boolean(await this.contract.getFunction('isKnownRoot').staticCall(listId(name), BigInt(root)));
  }

  /** A list by name, or undefined when there is none. */
  async getList(name: string): Promise<CuratedList | undefined> {
    const id = listId(name);
    const raw = (await this.contract.getFunction('getList').staticCall(id)) as unknown as {
      curator: string;
      window: bigint;
      updated: bigint;
      root: bigint;
      name: string;
    };
    if (/^0x0{40}$/i.test(raw.curator)) return undefined;
    return {
      id,
      name: raw.name,
      curator: raw.curator,
      window: Number(raw.window),
      ...(raw.root === 0n ? {} : { root: raw.root.toString(), updated: Number(raw.updated) }),
    };
  }
}
