/**
 * `zkai serve`: the HTTP verification service (src/service) until SIGINT or SIGTERM. Structured logs (pino JSON) go to
 * stdout; the address it listens on goes to stderr.
 */
import { resolveCacheDir } from '../cache/cache-dir.ts';
import { ZkaiError } from '../errors.ts';
import { CircuitCatalog } from '../service/catalog.ts';
import { createVerificationServer } from '../service/server.ts';
import { DEFAULT_VERIFY_LIMITS } from '../service/verification.ts';
import type { ServeFlags } from './groups/serve.ts';

function integer(value: string | undefined, option: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new ZkaiError('BAD_OPTION', `${option} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** `zkai serve`: resolves when the server has been stopped by a signal. */
export async function serveCommand(flags: ServeFlags): Promise<void> {
  const port = integer(flags.port, '--port', 0, 65_535, 8080);
  const host = flags.host ?? '127.0.0.1';
  if (Boolean(flags.rpc) !== Boolean(flags.deployment)) {
    throw new ZkaiError(
      'BAD_OPTION',
      '--rpc URL and --deployment FILE go together: the node to read attestations from and the zkai deployment on it (zkai chain deploy writes the file)',
    );
  }
  const workers = flags.workers === undefined ? undefined : integer(flags.workers, '--workers', 1, 64, 1);
  const limits = {
    maxChunks: integer(flags.maxChunks, '--max-chunks', 1, 1_000_000, DEFAULT_VERIFY_LIMITS.maxChunks),
    deadlineMs: integer(flags.verifyDeadline, '--verify-deadline', 100, 3_600_000, DEFAULT_VERIFY_LIMITS.deadlineMs),
  };
  const catalog = await CircuitCatalog.load({
    keys: flags.vkey ?? [],
    statements: flags.statement ?? [],
    ...(flags.cacheKeys === false ? {} : { cacheDir: resolveCacheDir(flags.cacheDir) }),
  });
  const app = await createVerificationServer({
    catalog,
    ...(flags.rpc && flags.deployment ? { chain: { rpcUrl: flags.rpc, deploymentPath: flags.deployment } } : {}),
    limits,
    bodyLimit: integer(flags.bodyLimit, '--body-limit', 1024, 256 * 1024 * 1024, 1024 * 1024),
    verifier: {
      ...(workers === undefined ? {} : { workers }),
      timeoutMs: integer(flags.timeout, '--timeout', 0, 3_600_000, 10_000),
    },
    logger: { level: flags.logLevel ?? (flags.quiet ? 'warn' : 'info') },
    ...(flags.allowUnknownKeys ? { allowUnknownKeys: true } : {}),
  });
  let address: string;
  try {
    address = await app.listen({ host, port });
  } catch (error) {
    await app.close();
    throw new ZkaiError(
      'LISTEN_FAILED',
      `cannot listen on ${host}:${port}: ${error instanceof Error ? error.message : String(error)}`,
      { hint: 'choose another --port (0: any free port)' },
    );
  }
  process.stderr.write(
    `zkai serve: listening on ${address} (${catalog.size} known circuit(s), ${catalog.list().filter((e) => e.namesKnown).length} with trusted statements, chain ${flags.rpc ?? 'not configured'}; ${flags.allowUnknownKeys ? 'unknown keys get a pairing verdict' : 'unknown keys refused'}); explorer page at ${address}/; OpenAPI at ${address}/openapi.json\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void app.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
