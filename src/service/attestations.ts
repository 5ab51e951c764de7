/**
 * Attestations read from the zkai registry on chain, for `GET /v1/attestations`: a read-only connection (no signer
 * needed) to the node at `rpcUrl`, checked lazily against the deployment file's chain and registry.
 */
import { JsonRpcProvider, Network, VoidSigner, ZeroAddress } from 'ethers';
import { loadDeployment, type ZkaiDeployment } from '../chain/deployment.ts';
import {
  RegistryClient,
  signalNamesOfRegistration,
  type AccuracyResult,
  type RegisteredCircuit,
} from '../chain/registry.ts';
import { ServiceError, describeError } from '../errors.ts';
import type { CircuitCatalog } from './catalog.ts';
import { decodeClaims, kindFromSignalNames, type Claims } from './signals.ts';

/** One attestation, with its revocation state. */
export interface AttestationView {
  uid: string;
  kind: string;
  circuit: string;
  subject: string;
  attester: string;
  time: string;
  expirationTime: number;
  revocationTime: number;
  revocable: boolean;
  refUID: string;
  policyHash: string;
  status: 'valid' | 'revoked' | 'expired';
  revoked: boolean;
  revocationTxHash: string | null;
  valid: boolean;
  publicSignals: string[];
  /** Decoded when the circuit is a known one (GET /v1/circuits) with named signals. */
  claims: Claims | null;
  txHash: string;
  blockNumber: number;
  /** An accuracy attestation's result as the registry recorded it: `correct` of the test set's `total` records. */
  accuracy?: AccuracyResult;
}

/** Where the registry is. */
export interface ChainSourceOptions {
  rpcUrl: string;
  /** A deployment file written by `zkai chain deploy`. */
  deploymentPath: string;
}

/** A read-only view of one zkai deployment. */
export class AttestationSource {
  readonly rpcUrl: string;
  readonly deployment: ZkaiDeployment;
  private readonly provider: JsonRpcProvider;
  private client: Promise<RegistryClient> | undefined;

  private constructor(rpcUrl: string, deployment: ZkaiDeployment) {
    this.rpcUrl = rpcUrl;
    this.deployment = deployment;
    const network = Network.from(deployment.chainId);
    this.provider = new JsonRpcProvider(rpcUrl, network, { staticNetwork: network, cacheTimeout: -1 });
  }

  /**
   * Read the deployment file (a missing or wrong file fails here, when the service starts). The node is not contacted
   * until the first request, so the service starts even while the node is down.
   */
  static async open(options: ChainSourceOptions): Promise<AttestationSource> {
    return new AttestationSource(options.rpcUrl, await loadDeployment(options.deploymentPath));
  }

  /** The registry client, connected once the node answered with the deployment's chain id and the registry is there. */
  private registry(): Promise<RegistryClient> {
    this.client ??= (async () => {
      let chainId: number;
      try {
        chainId = Number(BigInt((await this.provider.send('eth_chainId', [])) as string));
      } catch (error) {
        throw new ServiceError(
          503,
          'CHAIN_UNAVAILABLE',
          `the chain node at ${this.rpcUrl} does not answer: ${describeError(error).split('\n')[0]}`,
          { cause: error, hint: 'retry later' },
        );
      }
      if (chainId !== this.deployment.chainId) {
        throw new ServiceError(
          503,
          'CHAIN_MISMATCH',
          `the deployment was made on chain ${this.deployment.chainId}, but the node at ${this.rpcUrl} is chain ${chainId}`,
          { hint: "start the service with the --rpc of the deployment's chain" },
        );
      }
      try {
        return await RegistryClient.at(this.deployment.registry, new VoidSigner(ZeroAddress, this.provider));
      } catch (error) {
        throw new ServiceError(
          503,
          'CHAIN_UNAVAILABLE',
          `the zkai registry ${this.deployment.registry} is not on the node at ${this.rpcUrl}: ${describeError(error)}`,
          { cause: error },
        );
      }
    })();
    // A failure is not remembered: the next request tries again.
    this.client.catch(() => (this.client = undefined));
    return this.client;
  }

  /**
   * The circuit registered under `id`, or undefined when the registry has none (a verifier at address zero). A node
   * that does not answer is a 503 {@link ServiceError}.
   */
  async registeredCircuit(id: string): Promise<RegisteredCircuit | undefined> {
    const registry = await this.registry();
    try {
      return await registry.registeredCircuit(id);
    } catch (error) {
      throw new ServiceError(
        503,
        'CHAIN_UNAVAILABLE',
        `reading circuit ${id} from the registry failed: ${describeError(error).split('\n')[0]}`,
        { cause: error, hint: 'retry later' },
      );
    }
  }

  /** Attestations (oldest first) by subject and/or attester, each with its state now and, when known, its claims. */
  async list(filter: { subject?: string; attester?: string }, catalog: CircuitCatalog): Promise<AttestationView[]> {
    const registry = await this.registry();
    try {
      const fromBlock = this.deployment.blockNumber;
      const [records, revocations, latest] = await Promise.all([
        registry.attestations({ ...filter, fromBlock }),
        registry.revocations(filter),
        this.provider.getBlock('latest'),
      ]);
      const now = latest?.timestamp ?? Math.floor(Date.now() / 1000);
      const revokedBy = new Map(revocations.map((r) => [r.uid.toLowerCase(), r.txHash]));
      const circuits = new Map<string, RegisteredCircuit | undefined>();
      const views: AttestationView[] = [];
      for (const a of records) {
        if (!circuits.has(a.circuit)) circuits.set(a.circuit, await this.registeredCircuit(a.circuit));
        const registered = circuits.get(a.circuit);
        // The names of the service's own compiled circuit or statement, else those of the circuit's registration.
        const entry = catalog.get(a.circuit);
        const names = entry?.namesKnown
          ? entry.signalNames
          : registered
            ? signalNamesOfRegistration(registered)
            : undefined;
        const kind = registered?.kind ?? (entry?.namesKnown ? kindFromSignalNames(entry.signalNames) : undefined);
        const claims =
          names && kind && names.length === a.publicSignals.length ? decodeClaims(kind, names, a.publicSignals) : null;
        const revoked = a.revocationTime !== 0;
        views.push({
          uid: a.uid,
          kind: registered?.kind ?? 'unknown',
          circuit: a.circuit,
          subject: a.subject,
          attester: a.attester,
          time: new Date(a.time * 1000).toISOString(),
          expirationTime: a.expirationTime,
          revocationTime: a.revocationTime,
          revocable: a.revocable,
          refUID: a.refUID,
          policyHash: a.policyHash,
          status: revoked ? 'revoked' : a.expirationTime !== 0 && a.expirationTime <= now ? 'expired' : 'valid',
          revoked,
          revocationTxHash: revokedBy.get(a.uid.toLowerCase()) ?? null,
          valid: a.valid,
          publicSignals: a.publicSignals,
          claims,
          txHash: a.txHash,
          blockNumber: a.blockNumber,
          ...(a.accuracy ? { accuracy: { ...a.accuracy } } : {}),
        });
      }
      return views;
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      this.client = undefined;
      throw new ServiceError(
        503,
        'CHAIN_UNAVAILABLE',
        `reading attestations from ${this.rpcUrl} failed: ${describeError(error).split('\n')[0]}`,
        { cause: error },
      );
    }
  }

  /** Stop the provider. */
  close(): void {
    this.provider.destroy();
  }
}
