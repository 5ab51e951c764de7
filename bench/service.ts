/**
 * The HTTP verification service under load: the real service (`createVerificationServer`, the same fastify instance
 * `zkai serve` runs, with its worker pool of pairing checks) on 127.0.0.1 at a free port, knowing the key of the
 * 2^10 Poseidon chain; autocannon (as a library, in this process) opens N connections that post, in turn, a valid
 * proof and the same proof with a tampered public signal to `POST /v1/verify`, until the time or the request count
 * runs out. Every answer's body is checked: a valid proof must answer `valid: true`, the tampered one
 * `valid: false` with reason `invalid-proof`; anything else that is not a 5xx is a wrong answer, and 5xx are counted
 * apart (both goals: zero).
 *
 * Anchor, measured in the same run just before: a warm `snarkjs.groth16.verify` loop in this process on the same
 * proof (verifies/s). Ratio = service requests/s / single-process verifies/s.
 *
 * The load generator shares this process (and its event loop) with the server: on a small machine, its HTTP work is
 * counted against the service. The pairing checks, the bulk of the work, run in the service's worker threads.
 */
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import * as snarkjs from 'snarkjs';
import { verificationKeyId, type Groth16VerificationKey } from '../src/chain/groth16-template.ts';
import { createVerificationServer } from '../src/service/index.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { BN254_SCALAR_FIELD } from '../src/verifier/types.ts';
import { poseidonChainInput } from './circuits/poseidon_chain.ts';
import { progress, stats } from './common.ts';
import { preparePoseidonChain } from './proving.ts';
import type { ServiceAnchor, ServiceLoadRun, ServiceSection } from './results.ts';

/** Only the loopback interface: the load test never listens on or sends to any other address. */
const HOST = '127.0.0.1';
const ENDPOINT = 'POST /v1/verify';
const POWER = 10;
/** Wrong answers kept as examples in the results. */
const EXAMPLES = 5;

export interface ServiceProfile {
  /** Concurrent autocannon connections. */
  connections: number;
  /** The load stops after this many seconds... */
  durationSeconds: number;
  /** ...or this many requests, whichever comes first. */
  maxRequests: number;
  /** Warm `snarkjs.groth16.verify` calls timed for the single-process anchor. */
  anchorVerifies: number;
}

export function estimateService(profile: ServiceProfile): number {
  // one proof and the server start (circuit and keys cached by the proving part), the anchor loop, the load itself
  return 4 + profile.anchorVerifies * 0.02 + profile.durationSeconds;
}

export type ProofKind = 'valid' | 'tampered';

/**
 * What is wrong with an answer to a posted proof, or null when it is the expected one: HTTP 200 with `valid: true`
 * for the valid proof, `valid: false` and reason `invalid-proof` for the tampered one.
 */
export function checkAnswer(kind: ProofKind, status: number, body: string): string | null {
  if (status !== 200) return `${kind} proof: HTTP ${status} ${body.slice(0, 160)}`;
  let answer: { valid?: unknown; reason?: unknown };
  try {
    answer = JSON.parse(body) as typeof answer;
  } catch {
    return `${kind} proof: HTTP 200 with a body that is not JSON: ${body.slice(0, 160)}`;
  }
  if (kind === 'valid' && answer.valid !== true)
    return `valid proof answered valid: ${String(answer.valid)}, reason ${String(answer.reason)}`;
  if (kind === 'tampered' && (answer.valid !== false || answer.reason !== 'invalid-proof')) {
    return `tampered proof answered valid: ${String(answer.valid)}, reason ${String(answer.reason)} (expected false, invalid-proof)`;
  }
  return null;
}

/** Counts of the answers, filled by the requests' onResponse hooks: 5xx apart, any other unexpected answer wrong. */
export class AnswerLog {
  checked = 0;
  valid = 0;
  tampered = 0;
  status5xx = 0;
  wrong = 0;
  readonly examples: string[] = [];

  record(kind: ProofKind, status: number, body: string): void {
    this.checked += 1;
    if (kind === 'valid') this.valid += 1;
    else this.tampered += 1;
    const problem =
      status >= 500 ? `${kind} proof: HTTP ${status} ${body.slice(0, 160)}` : checkAnswer(kind, status, body);
    if (status >= 500) this.status5xx += 1;
    else if (problem) this.wrong += 1;
    if (problem && this.examples.length < EXAMPLES) this.examples.push(problem);
  }
}

/** The single-process anchor: warm `snarkjs.groth16.verify` on the same proof (the first call builds the curve). */
async function measureAnchor(
  vkey: unknown,
  proof: unknown,
  publicSignals: string[],
  repetitions: number,
): Promise<ServiceAnchor> {
  let valid = await snarkjs.groth16.verify(vkey as never, publicSignals, proof as never);
  const times: number[] = [];
  const started = performance.now();
  for (let i = 0; i < repetitions; i += 1) {
    const t = performance.now();
    valid = (await snarkjs.groth16.verify(vkey as never, publicSignals, proof as never)) && valid;
    times.push(performance.now() - t);
  }
  const seconds = (performance.now() - started) / 1000;
  return { verifies: repetitions, verifiesPerSecond: repetitions / seconds, warmMs: stats(times), valid };
}

/** Run autocannon against `url` with the given requests; resolves with its result, stopping it if it overruns. */
function runLoad(options: autocannon.Options, overrunSeconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error: unknown, result: autocannon.Result) => {
      clearTimeout(guard);
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve(result);
    });
    // autocannon stops itself at the duration or the request count; this is a second bound in case it does not.
    const guard = setTimeout(() => instance.stop(), overrunSeconds * 1000);
  });
}

export async function runServiceBench(profile: ServiceProfile, options: { cacheDir: string }): Promise<ServiceSection> {
  const prepared = await preparePoseidonChain(POWER, options.cacheDir);
  const circuit = `${prepared.label} Poseidon chain (${prepared.circuit.info.constraints.toLocaleString('en-US')} constraints, ${prepared.circuit.info.publicInputs} public input)`;
  const vkey = prepared.keys.vkey;
  const id = verificationKeyId(vkey as unknown as Groth16VerificationKey);
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(
    poseidonChainInput(0),
    prepared.circuit.wasmPath,
    prepared.keys.zkeyPath,
  );
  const tampered = [...publicSignals];
  tampered[0] = ((BigInt(publicSignals[0] as string) + 1n) % BN254_SCALAR_FIELD).toString();

  const anchor = await measureAnchor(vkey, proof, publicSignals, profile.anchorVerifies);
  await releaseCurves();
  progress(
    `service: anchor, warm snarkjs.groth16.verify in one process: ${anchor.verifiesPerSecond.toFixed(1)} verifies/s (median ${anchor.warmMs?.median.toFixed(1)} ms over ${anchor.verifies})`,
  );

  const scratch = await mkdtemp(join(os.tmpdir(), 'zkai-bench-service-'));
  let app: Awaited<ReturnType<typeof createVerificationServer>> | undefined;
  try {
    const keyPath = join(scratch, 'poseidon-chain.vkey.json');
    await writeFile(keyPath, JSON.stringify(vkey));
    app = await createVerificationServer({ keys: [keyPath], publicDir: false, logger: false });
    await app.listen({ host: HOST, port: 0 });
    const address = app.server.address() as AddressInfo;
    if (address.address !== HOST) throw new Error(`the service listens on ${address.address}, not ${HOST}`);
    const url = `http://${HOST}:${address.port}`;
    const health = (await (await fetch(`${url}/health`)).json()) as { verifier?: { workers?: number } };
    const verifierWorkers = health.verifier?.workers ?? 0;

    const bodies = {
      valid: JSON.stringify({ proof, publicSignals, circuit: id }),
      tampered: JSON.stringify({ proof, publicSignals: tampered, circuit: id }),
    };
    // Warm-up, not counted: every verifier worker builds its curve; and a first check that the answers are right.
    const warmup = await Promise.all(
      Array.from({ length: Math.max(2, verifierWorkers * 2) }, async (_, i) => {
        const kind = i % 2 === 0 ? 'valid' : 'tampered';
        const response = await fetch(`${url}/v1/verify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: bodies[kind],
        });
        return checkAnswer(kind, response.status, await response.text());
      }),
    );
    const warmupProblem = warmup.find((p) => p !== null);
    if (warmupProblem) throw new Error(`the service answered wrongly before the load: ${warmupProblem}`);

    progress(
      `service: ${profile.connections} connections posting valid and tampered proofs to ${url}/v1/verify for ${profile.durationSeconds} s (at most ${profile.maxRequests} requests); ${verifierWorkers} verifier worker(s)`,
    );
    const log = new AnswerLog();
    const request = (kind: ProofKind): autocannon.Request => ({
      method: 'POST',
      path: '/v1/verify',
      headers: { 'content-type': 'application/json' },
      body: bodies[kind],
      onResponse: (status: number, body: string) => log.record(kind, status, body),
    });
    const result = await runLoad(
      {
        url,
        connections: profile.connections,
        duration: profile.durationSeconds,
        maxOverallRequests: profile.maxRequests,
        pipelining: 1,
        timeout: 30,
        requests: [request('valid'), request('tampered')],
      },
      profile.durationSeconds + 60,
    );

    const statusCodes: Record<string, number> = {};
    for (const [code, entry] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = entry.count ?? 0;
    const requests = Object.values(statusCodes).reduce((a, b) => a + b, 0);
    const perSecond =
      result.requests.total > 0
        ? {
            n: Math.round(result.duration),
            min: result.requests.min,
            median: result.requests.p50,
            max: result.requests.max,
          }
        : null;
    const load: ServiceLoadRun = {
      endpoint: ENDPOINT,
      circuit,
      connections: profile.connections,
      durationSeconds: profile.durationSeconds,
      maxRequests: profile.maxRequests,
      elapsedSeconds: result.duration,
      requests,
      validRequests: log.valid,
      tamperedRequests: log.tampered,
      requestsPerSecond: result.duration > 0 ? requests / result.duration : 0,
      perSecond,
      latencyMs: {
        mean: result.latency.mean,
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
      },
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      status5xx: result['5xx'],
      statusCodes,
      checked: log.checked,
      wrongAnswers: log.wrong,
      wrongExamples: log.examples,
      verifierWorkers,
    };
    if (log.status5xx !== load.status5xx)
      load.wrongExamples.push(`autocannon counted ${load.status5xx} 5xx, the body check ${log.status5xx}`);
    const ratio = anchor.verifiesPerSecond > 0 ? load.requestsPerSecond / anchor.verifiesPerSecond : null;
    progress(
      `service: ${requests} answers in ${load.elapsedSeconds.toFixed(1)} s: ${load.requestsPerSecond.toFixed(1)} req/s (${ratio === null ? '–' : ratio.toFixed(2)}x the single-process verify rate), ` +
        `latency p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms; ${load.wrongAnswers} wrong answer(s), ${load.status5xx} 5xx, ${load.non2xx} non-2xx, ${load.errors} error(s) (${load.timeouts} timeouts)`,
    );
    return {
      status: 'ok',
      note: `${profile.connections} autocannon connections on ${HOST} (in the benchmark's process) posting, in turn, a valid ${prepared.label} proof and the same proof with a tampered public signal; every answer checked`,
      rows: [
        {
          endpoint: ENDPOINT,
          concurrency: profile.connections,
          requestsPerSecond: {
            n: 1,
            min: load.requestsPerSecond,
            median: load.requestsPerSecond,
            max: load.requestsPerSecond,
          },
          latencyMs: { n: requests, min: result.latency.min, median: result.latency.p50, max: result.latency.max },
        },
      ],
      load,
      anchor,
      ratioToSingleProcess: ratio,
    };
  } finally {
    await app?.close();
    await releaseCurves();
    await rm(scratch, { recursive: true, force: true });
  }
}
