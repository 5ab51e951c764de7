import { getAddress } from 'ethers';
import type { FastifyInstance } from 'fastify';
import { ServiceError } from '../../errors.ts';
import type { AttestationSource } from '../attestations.ts';
import type { CircuitCatalog } from '../catalog.ts';
import { attestationsQuerySchema } from '../schemas.ts';

/** `GET /v1/attestations?subject=&attester=`: a 503 when the service was started without a chain. */
export function registerAttestationRoute(
  app: FastifyInstance,
  source: AttestationSource | undefined,
  catalog: CircuitCatalog,
): void {
  app.get<{ Querystring: { subject?: string; attester?: string } }>(
    '/v1/attestations',
    { schema: { querystring: attestationsQuerySchema } },
    async (request) => {
      if (!source) {
        throw new ServiceError(
          503,
          'CHAIN_NOT_CONFIGURED',
          'no chain is configured: this service reads no attestations',
          { hint: 'start it with zkai serve --rpc URL --deployment FILE' },
        );
      }
      const { subject, attester } = request.query;
      const attestations = await source.list(
        {
          ...(subject ? { subject: subject.toLowerCase() } : {}),
          ...(attester ? { attester: getAddress(attester.toLowerCase()) } : {}),
        },
        catalog,
      );
      return { chainId: source.deployment.chainId, registry: source.deployment.registry, attestations };
    },
  );
}
