import type { FastifyInstance } from 'fastify';
import type { VerifyBody } from '../proof-files.ts';
import { verifyBodySchema } from '../schemas.ts';
import { verifyRequest, type VerifyContext } from '../verification.ts';

/** `POST /v1/verify`. */
export function registerVerifyRoute(app: FastifyInstance, context: VerifyContext): void {
  app.post<{ Body: VerifyBody }>('/v1/verify', { schema: { body: verifyBodySchema } }, async (request) => {
    const result = await verifyRequest(request.body, context);
    request.log.info(
      { circuit: result.circuit.id, kind: result.circuit.kind, valid: result.valid, reason: result.reason },
      'verified',
    );
    return result;
  });
}
