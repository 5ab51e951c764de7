import type { FastifyInstance } from 'fastify';
import { ServiceError } from '../../errors.ts';
import { summarize, type CircuitCatalog } from '../catalog.ts';
import { circuitParamsSchema } from '../schemas.ts';

/** `GET /v1/circuits` and `GET /v1/circuits/:id`. */
export function registerCircuitRoutes(app: FastifyInstance, catalog: CircuitCatalog): void {
  app.get('/v1/circuits', async () => ({ circuits: catalog.list().map(summarize) }));
  app.get<{ Params: { id: string } }>(
    '/v1/circuits/:id',
    { schema: { params: circuitParamsSchema } },
    async (request) => {
      const entry = catalog.get(request.params.id);
      if (!entry)
        throw new ServiceError(404, 'UNKNOWN_CIRCUIT', `no known circuit has id ${request.params.id}`, {
          hint: 'GET /v1/circuits lists the known circuits',
        });
      return { ...summarize(entry), verificationKey: entry.vkey };
    },
  );
}
