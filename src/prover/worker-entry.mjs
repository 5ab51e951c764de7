// Entry of each prover pool worker thread: loads src/prover/worker (compiled, or its TypeScript source through tsx).
import { loadWorkerModule } from '../util/load-worker-module.mjs';

export default (await loadWorkerModule(import.meta.url, 'worker')).default;
