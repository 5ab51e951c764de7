/**
 * PLACEHOLDER: the HTTP service's requests/s.
 *
 * The service (src/service/, `zkai serve`) is being built separately; its requests/s are not measured yet. This
 * module should start the service on a free port with a warm pool, drive it with N concurrent clients (1, 2 .. cores
 * x 2) for a fixed number of requests per endpoint (POST /v1/verify of a 2^10 Poseidon-chain proof), and return one row per (endpoint, concurrency) with requests/s and
 * latency as min / median / max over repetitions. bench/main.ts already calls it, the results file has its section
 * (`service`), the report has its table and `--compare` reads its rows: only this function needs writing.
 */
import type { ServiceSection } from './results.ts';

export interface ServiceProfile {
  concurrency: number[];
  requests: number;
}

export function estimateService(_profile: ServiceProfile): number {
  return 0;
}

export async function runServiceBench(_profile: ServiceProfile, _options: { cacheDir: string }): Promise<ServiceSection> {
  return {
    status: 'not-built',
    note: 'Not measured yet: the HTTP service (src/service/, `zkai serve`) is being built separately; bench/service.ts is the placeholder to fill',
    rows: [],
  };
}
