import { createRequire, Module } from 'node:module';
import { Worker as ThreadWorker } from 'node:worker_threads';

/**
 * snarkjs's multithreaded curve (ffjavascript) starts its helper threads with the `web-worker` package. Inside a
 * Node worker thread that package exports no `Worker` ("Worker is not a constructor"), and merely loading it there
 * turns the thread's global into a fake WorkerGlobalScope listening on the thread's parentPort, which would steal
 * the pool's messages. This module puts a small Web-Worker-compatible class into the CommonJS require cache under
 * `web-worker`'s path before snarkjs is loaded, so ffjavascript can start its helper threads from inside a pool
 * worker. The helper threads still run `web-worker`'s own worker-side code, so they behave exactly as in a main thread.
 */

type MessageListener = (event: { data: unknown }) => void;

/** Install the shim and return the CommonJS `require` to load snarkjs with. Idempotent. */
export function installWebWorkerShim(): NodeJS.Require {
  const require = createRequire(import.meta.url);
  const snarkjsMain = require.resolve('snarkjs');
  const ffjavascriptMain = createRequire(snarkjsMain).resolve('ffjavascript');
  const webWorkerPath = createRequire(ffjavascriptMain).resolve('web-worker');
  if ((require.cache[webWorkerPath]?.exports as { zkaiShim?: boolean } | undefined)?.zkaiShim)
    return createRequire(snarkjsMain);

  class WebWorkerShim {
    static readonly zkaiShim = true;
    readonly #thread: ThreadWorker;
    readonly #listeners: MessageListener[] = [];

    constructor(url: string | URL, options: { name?: string; type?: string } = {}) {
      this.#thread = new ThreadWorker(webWorkerPath, {
        workerData: { mod: String(url), name: options.name, type: options.type },
      });
      this.#thread.on('message', (data: unknown) => {
        for (const listener of this.#listeners) listener({ data });
      });
      this.#thread.on('error', (error: Error) => {
        // ffjavascript has no error channel: surface the failure instead of hanging the proof forever.
        process.emitWarning(`snarkjs curve helper thread failed: ${error.message}`);
      });
    }

    addEventListener(type: string, listener: MessageListener): void {
      if (type === 'message') this.#listeners.push(listener);
    }

    postMessage(data: unknown, transfer?: ReadonlyArray<ArrayBuffer>): void {
      this.#thread.postMessage(data, transfer as never);
    }

    terminate(): void {
      void this.#thread.terminate();
    }
  }

  const module = new Module(webWorkerPath);
  module.filename = webWorkerPath;
  module.loaded = true;
  module.exports = WebWorkerShim;
  require.cache[webWorkerPath] = module;
  return createRequire(snarkjsMain);
}
