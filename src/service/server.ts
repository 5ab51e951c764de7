/**
 * The verification service as a fastify instance, for `zkai serve` and for integrators who embed it:
 * `POST /v1/verify`, `GET /v1/circuits[/:id]`, `GET /v1/attestations`, `GET /health`, `GET /openapi.json`, and the
 * files of `publicDir` (when it holds an index.html) at `/`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { AttestationSource, type ChainSourceOptions } from './attestations.ts';
import { CircuitCatalog } from './catalog.ts';
import { errorBody, handleError } from './error-handler.ts';
import { FIELD_FORMATS } from './field-formats.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { registerAttestationRoute } from './routes/attestations.ts';
import { registerCircuitRoutes } from './routes/circuits.ts';
import { registerHealthRoute } from './routes/health.ts';
import { registerVerifyRoute } from './routes/verify.ts';
import type { VerifyLimits } from './verification.ts';
import { VerifierPool, type VerifierPoolOptions } from './verifier-pool.ts';

/** The folder of static files served at `/` by default (the explorer page will live there). */
export const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** Options of {@link createVerificationServer}. */
export interface VerificationServerOptions {
  /** The known circuits. Default: loaded from `keys` and `cacheDir`. */
  catalog?: CircuitCatalog;
  /** Verification key files or folders of them (ignored with `catalog`). */
  keys?: readonly string[];
  /** A zkai cache folder whose keys are known circuits (ignored with `catalog`). */
  cacheDir?: string;
  /** Statement files: keys with what the service trusts they prove (ignored with `catalog`). */
  statements?: readonly string[];
  /** Most chunk proofs per verify request and the longest a request may take; see {@link DEFAULT_VERIFY_LIMITS}. */
  limits?: Partial<VerifyLimits>;
  /** The registry to read attestations from; without it `GET /v1/attestations` answers 503. */
  chain?: ChainSourceOptions;
  /** The verifier pool's shape, queue and per-check timeout. */
  verifier?: VerifierPoolOptions;
  /** Largest body accepted, in bytes (larger: 413). Default 1 MiB. */
  bodyLimit?: number;
  /** A request must be received within this many ms (0: no limit). Default 30000. */
  requestTimeoutMs?: number;
  /** fastify's logger (pino): options, `true` (info level), or `false`. Default `false`. */
  logger?: FastifyServerOptions['logger'];
  /** Static files served at `/` when the folder holds an index.html; `false` for none. Default {@link DEFAULT_PUBLIC_DIR}. */
  publicDir?: string | false;
  /**
   * Answer a verification key the service does not know (sent in a request, not in the catalog nor registered on the
   * chain) with a pairing verdict that checks no claim. Default `false`: such a request is refused (403 `UNTRUSTED_KEY`).
   */
  allowUnknownKeys?: boolean;
}

/**
 * Build the service: load the catalog, start the verifier pool (worker threads), open the deployment file. Call
 * `listen()` to serve and `close()` to stop everything it started (the pool, the chain provider).
 *
 * @throws {InputFileError} for a key or deployment file that cannot be read; {@link ChainError} for a deployment file
 *   that is not one.
 */
export async function createVerificationServer(options: VerificationServerOptions = {}): Promise<FastifyInstance> {
  const catalog =
    options.catalog ??
    (await CircuitCatalog.load({
      keys: options.keys ?? [],
      statements: options.statements ?? [],
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    }));
  const chain = options.chain ? await AttestationSource.open(options.chain) : undefined;
  const pool = new VerifierPool(options.verifier);
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    connectionTimeout: options.requestTimeoutMs ?? 30_000,
    // Wrong types are refused, never coerced; nothing is silently dropped; formats check field ranges.
    ajv: {
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        allErrors: true,
        formats: FIELD_FORMATS,
      },
    },
  });
  app.addHook('onClose', async () => {
    await pool.close();
    chain?.close();
  });
  // Bodies are JSON only: anything else is a 415, not a string the schema then refuses.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(
      errorBody(404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`, {
        hint: 'GET /openapi.json describes the routes',
      }),
    ),
  );

  const openapi = buildOpenApiDocument();
  registerVerifyRoute(app, {
    catalog,
    pairing: pool.pairing,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.allowUnknownKeys ? { allowUnknownKeys: true } : {}),
    ...(chain
      ? {
          registry: {
            registeredCircuit: (id: string) => chain.registeredCircuit(id),
            describe: `chain registry ${chain.deployment.registry} (chain ${chain.deployment.chainId})`,
          },
        }
      : {}),
  });
  registerCircuitRoutes(app, catalog);
  registerAttestationRoute(app, chain, catalog);
  registerHealthRoute(app, { catalog, pool, chain });
  app.get('/openapi.json', async () => openapi);

  const publicDir = options.publicDir ?? DEFAULT_PUBLIC_DIR;
  if (publicDir && existsSync(join(publicDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: publicDir, prefix: '/', index: 'index.html', wildcard: true });
  }
  return app;
}
