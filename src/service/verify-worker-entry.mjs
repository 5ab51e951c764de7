// Entry of each verification worker thread (src/service/verifier-pool.ts): loads src/service/verify-worker (compiled,
// or its TypeScript source through tsx).
import { loadWorkerModule } from '../util/load-worker-module.mjs';

export default (await loadWorkerModule(import.meta.url, 'verify-worker')).default;
