import type { FastifyInstance } from 'fastify';
import type { AttestationSource } from '../attestations.ts';
import type { CircuitCatalog } from '../catalog.ts';
import type { VerifierPool } from '../verifier-pool.ts';

/** `GET /health`: answered on the event loop, never waiting for the verifier pool. */
export function registerHealthRoute(
  app: FastifyInstance,
  state: { catalog: CircuitCatalog; pool: VerifierPool; chain: AttestationSource | undefined },
): void {
  app.get('/health', async () => ({
    status: 'ok',
    circuits: state.catalog.size,
    verifier: state.pool.stats(),
    chain: {
      configured: state.chain !== undefined,
      rpc: state.chain?.rpcUrl ?? null,
      registry: state.chain?.deployment.registry ?? null,
    },
  }));
}
