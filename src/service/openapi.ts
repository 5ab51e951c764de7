/**
 * The service's OpenAPI 3.1 document, built from the same schemas the routes validate with (src/service/schemas.ts).
 * A copy is kept in docs/openapi.json; regenerate it with `npx tsx src/service/openapi.ts docs/openapi.json` (a test
 * checks that the served document and the committed one are the same).
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  attestationListSchema,
  attestationsQuerySchema,
  circuitDetailSchema,
  circuitListSchema,
  circuitParamsSchema,
  errorSchema,
  healthSchema,
  verifyBodySchema,
  verifyResponseSchema,
} from './schemas.ts';

/** Where the committed copy lives, from the repository root. */
export const OPENAPI_FILE = 'docs/openapi.json';

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json({ $ref: '#/components/schemas/Error' }, description);

/** The OpenAPI document (a plain JSON value). */
export function buildOpenApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'zkai verification service',
      version: '1',
      description:
        'Verify zkai Groth16 proofs (datasets, inclusion, inference, accuracy) off chain, list the circuits this service knows and what their public signals mean, and read attestations from the zkai registry on chain. Started with `zkai serve`.',
      license: { name: 'MIT' },
    },
    paths: {
      '/v1/verify': {
        post: {
          operationId: 'verify',
          summary: 'Verify a proof and decode what it claims',
          description:
            'A bare snarkjs proof with its public signals and a circuit id (or a verification key), or a proof file as `zkai` writes it, as it is. A rejected proof is a 200 with `valid: false` and a reason; a request the service cannot act on is a 4xx naming the field.',
          requestBody: { required: true, content: { 'application/json': { schema: verifyBodySchema } } },
          responses: {
            200: json(verifyResponseSchema, 'the verdict (valid or not, with the reason) and the decoded claims'),
            400: error(
              'malformed JSON, a wrong type, a value outside the BN254 field, or a missing field (named in `fields`)',
            ),
            403: error(
              "the verification key sent is not one the service trusts (not its own compiled circuit's, a statement or key file's, nor registered on its chain): refused with UNTRUSTED_KEY unless the service was started with --allow-unknown-keys",
            ),
            404: error("the circuit id (or the proof file's circuit) is not known"),
            413: error('the body is larger than the service accepts'),
            415: error('the body is not application/json'),
            422: error(
              'a private chunked dataset proof (zkai-chunked-dataset-proof-v2) the service cannot check with what it trusts: no dataset-private-chunks statement of its policy (UNKNOWN_CIRCUIT, also for a chunk shape the statement does not take), or no key in its cache made for one of the three circuits that statement generates (KEY_NOT_FOUND); the message says what is missing and how to configure it',
            ),
            503: error('the verifier is busy or timed out: retry later'),
          },
        },
      },
      '/v1/circuits': {
        get: {
          operationId: 'listCircuits',
          summary: 'The circuits this service knows, with their kind and the meaning of each public signal',
          responses: { 200: json(circuitListSchema, 'the known circuits') },
        },
      },
      '/v1/circuits/{id}': {
        get: {
          operationId: 'getCircuit',
          summary: 'One known circuit and its verification key',
          parameters: [
            {
              name: 'id',
              in: 'path',
              required: true,
              description: 'the circuit id, as the chain registry names it',
              schema: circuitParamsSchema.properties.id,
            },
          ],
          responses: {
            200: json(circuitDetailSchema, 'the circuit'),
            400: error('the id is not 0x and 64 hex digits'),
            404: error('no known circuit has this id'),
          },
        },
      },
      '/v1/attestations': {
        get: {
          operationId: 'listAttestations',
          summary: 'Attestations from the zkai registry on chain, with their revocation state',
          parameters: Object.entries(attestationsQuerySchema.properties).map(([name, schema]) => ({
            name,
            in: 'query',
            required: false,
            description: schema.description,
            schema,
          })),
          responses: {
            200: json(attestationListSchema, 'the attestations, oldest first'),
            400: error('a query value of the wrong form'),
            503: error('no chain is configured (start with --rpc and --deployment), or the node does not answer'),
          },
        },
      },
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Liveness, known circuits, verifier queue',
          responses: { 200: json(healthSchema, 'the service is up') },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          responses: { 200: { description: 'the OpenAPI document', content: { 'application/json': {} } } },
        },
      },
    },
    components: { schemas: { Error: errorSchema } },
  };
}

/** Write the document to `path` (pretty JSON, trailing newline). */
export async function writeOpenApiDocument(path: string): Promise<void> {
  await writeFile(path, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await writeOpenApiDocument(process.argv[2] ?? OPENAPI_FILE);
}
