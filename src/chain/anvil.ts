/**
 * A local EVM node for tests, demos and benchmarks: the `anvil` binary that ships in the `@foundry-rs/anvil-*` npm
 * platform packages, spawned directly (no `node bin.mjs` layer), plus a way to connect ethers to it or to any other
 * JSON-RPC node.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Socket } from 'node:net';
import { JsonRpcProvider, Network, Wallet, type Signer } from 'ethers';
import { ChainError, describeError } from '../errors.ts';

/** Options of {@link startAnvil}. */
export interface StartAnvilOptions {
  /** Port to listen on. Default: `0`, i.e. a free port chosen by the OS (read back from anvil's output). */
  readonly port?: number;
  /** How long to wait for the node to answer `eth_chainId`, in ms. Default 20000. */
  readonly timeoutMs?: number;
  /** Path of an anvil binary to use instead of the one from the `@foundry-rs/anvil-<platform>` package. */
  readonly binaryPath?: string;
  /** Extra command-line arguments for anvil, e.g. `['--hardfork', 'cancun']`. */
  readonly extraArgs?: readonly string[];
}

/** A running anvil node. Call {@link AnvilHandle.stop} when done. */
export interface AnvilHandle {
  /** `http://127.0.0.1:<port>`. */
  readonly rpcUrl: string;
  /** The port anvil listens on. */
  readonly port: number;
  /** The node's chain id (31337 unless `--chain-id` was passed). */
  readonly chainId: number;
  /** The OS process id of anvil. */
  readonly pid: number;
  /** Kill anvil (SIGTERM, then SIGKILL after 5 s) and wait for it to exit. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
/** How much of anvil's stdout/stderr to keep for error messages. */
const OUTPUT_TAIL_CHARS = 4_000;

/** npm platform package of anvil for this OS/CPU, or undefined when anvil publishes none. */
function anvilPackageName(): string | undefined {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : undefined;
  if (arch === undefined) return undefined;
  switch (process.platform) {
    case 'linux':
    case 'darwin':
      return `@foundry-rs/anvil-${process.platform}-${arch}`;
    case 'win32':
      return arch === 'amd64' ? '@foundry-rs/anvil-win32-amd64' : undefined;
    default:
      return undefined;
  }
}

/**
 * Locate the anvil binary shipped in the `@foundry-rs/anvil-<platform>-<arch>` npm package.
 *
 * @returns the absolute path of the executable.
 * @throws {ChainError} when no platform package exists for this OS/CPU, it is not installed, or the file is not
 *   executable.
 */
export function resolveAnvilBinary(): string {
  const pkg = anvilPackageName();
  if (pkg === undefined) {
    throw new ChainError(`anvil has no npm build for ${process.platform}-${process.arch}`, {
      hint: 'install Foundry (https://getfoundry.sh) and pass binaryPath, or give an rpcUrl of a running node',
    });
  }
  let pkgJson: string;
  try {
    pkgJson = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
  } catch (error) {
    throw new ChainError(`the anvil binary package ${pkg} is not installed`, {
      cause: error,
      hint: 'run `npm install` without --omit=optional (it is an optional dependency of @foundry-rs/anvil)',
    });
  }
  const binary = join(dirname(pkgJson), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  checkExecutable(binary);
  return binary;
}

function checkExecutable(binary: string): void {
  try {
    accessSync(binary, process.platform === 'win32' ? fsConstants.F_OK : fsConstants.X_OK);
  } catch (error) {
    throw new ChainError(`the anvil binary ${binary} is missing or not executable`, {
      cause: error,
      hint: process.platform === 'win32' ? undefined : `chmod +x ${binary}`,
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Outlive nothing: on Linux, anvil is started through `setpriv --pdeathsig TERM` (util-linux), which execs anvil with
// the kernel's parent-death signal set, so even a SIGKILL of zkai ends it. Elsewhere (or without setpriv) only the
// hooks below apply, which cover every way of ending except SIGKILL. The kernel ties the signal to the thread that
// started the child: start anvil from a thread that lives as long as you need it (the main thread; not a short-lived
// worker thread).

let parentDeathWrapperPath: string | null | undefined;

/** The path of a `setpriv` that knows `--pdeathsig`, or undefined (checked once per process). */
export function parentDeathWrapper(): string | undefined {
  if (parentDeathWrapperPath === undefined) {
    parentDeathWrapperPath = null;
    if (process.platform === 'linux') {
      for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
        try {
          accessSync(candidate, fsConstants.X_OK);
          const help = spawnSync(candidate, ['--help'], { encoding: 'utf8', timeout: 5_000 });
          if (`${help.stdout}${help.stderr}`.includes('--pdeathsig')) {
            parentDeathWrapperPath = candidate;
            break;
          }
        } catch {
          // not there or not runnable: try the next one
        }
      }
    }
  }
  return parentDeathWrapperPath ?? undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Never leak anvil: every live child is in this set; on process exit (or a terminating signal) they are killed.

const liveNodes = new Set<ChildProcess>();
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let hooksInstalled = false;

function killAllNow(): void {
  for (const child of liveNodes) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveNodes.clear();
}

function onTerminatingSignal(signal: NodeJS.Signals): void {
  killAllNow();
  uninstallHooks();
  // We were only a safety net: if nobody else handles this signal, restore Node's default (terminate) by re-raising.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onTerminatingSignal);
}

function uninstallHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off('exit', killAllNow);
  for (const signal of FORWARDED_SIGNALS) process.off(signal, onTerminatingSignal);
}

function track(child: ChildProcess): void {
  liveNodes.add(child);
  installHooks();
  child.once('exit', () => {
    liveNodes.delete(child);
    if (liveNodes.size === 0) uninstallHooks();
  });
}

// ---------------------------------------------------------------------------------------------------------------

/** A bounded text buffer holding the tail of a stream. */
class Tail {
  private text = '';
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > OUTPUT_TAIL_CHARS * 2) this.text = this.text.slice(-OUTPUT_TAIL_CHARS);
  }
  toString(): string {
    return this.text.slice(-OUTPUT_TAIL_CHARS).trim();
  }
}

/**
 * Make one JSON-RPC call with `fetch`.
 *
 * @throws {ChainError} on a network error, a timeout, a non-2xx status or a JSON-RPC error object.
 */
export async function rpcRequest(
  rpcUrl: string,
  method: string,
  params: readonly unknown[] = [],
  timeoutMs = 5_000,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : describeError(error);
    throw new ChainError(`${method} to ${rpcUrl} failed: ${reason}`, { cause: error });
  }
  const body = (await response.json().catch(() => undefined)) as
    { result?: unknown; error?: { code?: number; message?: string } } | undefined;
  if (!response.ok || body === undefined) {
    throw new ChainError(`${method} to ${rpcUrl} failed: HTTP ${response.status} ${response.statusText}`);
  }
  if (body.error !== undefined) {
    throw new ChainError(`${method} to ${rpcUrl} failed: ${body.error.message ?? JSON.stringify(body.error)}`);
  }
  return body.result;
}

/** Ask a node for its chain id. */
async function fetchChainId(rpcUrl: string, timeoutMs: number): Promise<number> {
  const result = await rpcRequest(rpcUrl, 'eth_chainId', [], timeoutMs);
  if (typeof result !== 'string' || !/^0x[0-9a-fA-F]+$/.test(result)) {
    throw new ChainError(`eth_chainId to ${rpcUrl} returned ${JSON.stringify(result)}, not a hex quantity`);
  }
  return Number.parseInt(result, 16);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Start an anvil node on 127.0.0.1 and wait until it answers `eth_chainId`.
 *
 * The child process is unref'd (it does not keep Node alive on its own) and is killed when Node exits, or on
 * SIGINT/SIGTERM/SIGHUP; still, call {@link AnvilHandle.stop} when done.
 *
 * @example
 * const anvil = await startAnvil();
 * try { ... anvil.rpcUrl ... } finally { await anvil.stop(); }
 *
 * @throws {ChainError} when the binary cannot be found, anvil exits before it is ready (the message carries its
 *   stderr, e.g. "Address already in use"), or it is not ready within `timeoutMs`.
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<AnvilHandle> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const requestedPort = options.port ?? 0;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65_535) {
    throw new ChainError(`invalid anvil port ${requestedPort}: expected an integer in 0..65535`);
  }
  const binary = options.binaryPath ?? resolveAnvilBinary();
  if (options.binaryPath !== undefined) checkExecutable(binary);

  // Without --quiet anvil prints "Listening on 127.0.0.1:<port>", which is how port 0 is read back (no race between
  // picking a free port and binding it). Later output (one line per RPC method) is drained and discarded.
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(requestedPort),
    '--color',
    'never',
    ...(options.extraArgs ?? []),
  ];
  const started = Date.now();
  // Through util-linux's setpriv when there is one: anvil then gets SIGTERM when this process dies, even by SIGKILL
  // (which no hook of ours can catch), instead of running on, reparented to init.
  const reaper = parentDeathWrapper();
  const child = reaper
    ? spawn(reaper, ['--pdeathsig', 'TERM', '--', binary, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      })
    : spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  track(child);

  const stdout = new Tail();
  const stderr = new Tail();
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  let spawnError: Error | undefined;
  // `on`, not `once`: an 'error' event without a listener would throw (e.g. if a later kill() fails).
  child.on('error', (error) => {
    spawnError ??= error;
  });

  const describeExit = () => {
    const how = spawnError
      ? `could not be started: ${spawnError.message}`
      : `exited early (${exited?.signal ? `signal ${exited.signal}` : `code ${exited?.code}`})`;
    const err = stderr.toString();
    const out = stdout.toString();
    return `anvil (${binary}) ${how}${err ? `\n--- anvil stderr ---\n${err}` : ''}${
      !err && out ? `\n--- anvil stdout (tail) ---\n${out}` : ''
    }`;
  };

  // Wait for the "Listening on" line, an early exit, or the timeout.
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new ChainError(`anvil did not start listening within ${timeoutMs} ms`));
    }, timeoutMs);
    const onStdout = (chunk: string) => {
      stdout.push(chunk);
      buffered += chunk;
      const match = /Listening on [^\s:]+:(\d+)/.exec(buffered);
      if (match?.[1] !== undefined) {
        cleanup();
        resolve(Number(match[1]));
      } else if (buffered.length > 64_000) {
        buffered = buffered.slice(-1_000);
      }
    };
    const onExit = () => {
      cleanup();
      reject(new ChainError(describeExit()));
    };
    const onError = () => onExit();
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onStdout);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout?.on('data', onStdout);
    child.stderr?.on('data', (chunk: string) => stderr.push(chunk));
    child.once('exit', onExit);
    child.once('error', onError);
  }).catch(async (error: unknown) => {
    await killAndWait(child, exitPromise, () => exited !== undefined || spawnError !== undefined);
    throw error;
  });

  // Keep draining stdout so anvil never blocks on a full pipe; keep the tail for diagnostics.
  child.stdout?.on('data', (chunk: string) => stdout.push(chunk));
  // Do not let anvil (or its pipes) keep the event loop alive: the exit hook kills it.
  child.unref();
  (child.stdout as Socket | null)?.unref?.();
  (child.stderr as Socket | null)?.unref?.();

  const rpcUrl = `http://127.0.0.1:${port}`;
  let chainId: number | undefined;
  let lastError: unknown;
  while (chainId === undefined) {
    if (exited !== undefined || spawnError !== undefined) throw new ChainError(describeExit());
    const left = timeoutMs - (Date.now() - started);
    if (left <= 0) {
      await killAndWait(child, exitPromise, () => exited !== undefined);
      throw new ChainError(
        `anvil at ${rpcUrl} did not answer eth_chainId within ${timeoutMs} ms: ${describeError(lastError)}`,
        { cause: lastError },
      );
    }
    try {
      chainId = await fetchChainId(rpcUrl, Math.min(left, 2_000));
    } catch (error) {
      lastError = error;
      await sleep(50);
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    rpcUrl,
    port,
    chainId,
    pid: child.pid ?? -1,
    stop() {
      stopping ??= killAndWait(child, exitPromise, () => exited !== undefined);
      return stopping;
    },
  };
}

/** SIGTERM, wait up to {@link STOP_GRACE_MS}, then SIGKILL; resolves once the process has exited. */
async function killAndWait(child: ChildProcess, exitPromise: Promise<void>, hasExited: () => boolean): Promise<void> {
  if (hasExited() || child.pid === undefined) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([exitPromise.then(() => 'exited' as const), graceOver]);
  clearTimeout(timer);
  if (outcome === 'timeout' && !hasExited()) {
    child.kill('SIGKILL');
    await exitPromise;
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** Options of {@link connectChain}. */
export interface ConnectChainOptions {
  /**
   * Private key (0x-hex) of the account that signs transactions. Default: the `ZKAI_PRIVATE_KEY` environment
   * variable; when neither is set, the node's first unlocked account (on the embedded anvil: its first funded dev
   * account). A key of an account without ether can still sign what needs none (a consent request to relay).
   */
  readonly privateKey?: string;
  /** Options for the embedded anvil (only used when no `rpcUrl` is given). */
  readonly anvil?: StartAnvilOptions;
  /** How long to wait for the node's first answer, in ms. Default 10000. */
  readonly timeoutMs?: number;
}

/** An ethers connection to an EVM node. Call {@link ChainConnection.close} when done. */
export interface ChainConnection {
  /** ethers provider bound to {@link ChainConnection.rpcUrl}, with the network fixed (no background polling). */
  readonly provider: JsonRpcProvider;
  /** Signs and sends transactions: a `Wallet` when a private key was given, else the node's first account. */
  readonly signer: Signer;
  readonly rpcUrl: string;
  readonly chainId: number;
  /** The embedded anvil, when `connectChain` started one. */
  readonly anvil: AnvilHandle | undefined;
  /** Destroy the provider and stop the embedded anvil, if any. Idempotent. */
  close(): Promise<void>;
}

/**
 * Connect ethers to an EVM node: the one at `rpcUrl`, or, when `rpcUrl` is undefined or empty, a fresh embedded
 * anvil that `close()` stops.
 *
 * @throws {ChainError} when the node does not answer, the private key is invalid, or the node has no unlocked account
 *   and no private key was given.
 */
export async function connectChain(rpcUrl?: string, options: ConnectChainOptions = {}): Promise<ChainConnection> {
  const anvil = rpcUrl ? undefined : await startAnvil(options.anvil);
  const url = anvil?.rpcUrl ?? rpcUrl ?? '';
  let provider: JsonRpcProvider | undefined;
  try {
    const chainId = anvil?.chainId ?? (await fetchChainId(url, options.timeoutMs ?? 10_000));
    // staticNetwork: ethers neither re-detects the network nor retries forever (with a 1 s timer) if the node is down.
    const network = Network.from(chainId);
    provider = new JsonRpcProvider(url, network, {
      staticNetwork: network,
      // No 250 ms response cache: with it, a Wallet sending two transactions in quick succession reads the same
      // cached `eth_getTransactionCount(pending)` twice and the second one fails with "nonce too low".
      cacheTimeout: -1,
      // Local nodes mine instantly; poll faster so tx.wait() and friends return quickly.
      ...(anvil ? { pollingInterval: 100 } : {}),
    });
    const signer = await pickSigner(provider, url, options.privateKey ?? process.env.ZKAI_PRIVATE_KEY);
    let closing: Promise<void> | undefined;
    const liveProvider = provider;
    return {
      provider: liveProvider,
      signer,
      rpcUrl: url,
      chainId,
      anvil,
      close() {
        closing ??= (async () => {
          liveProvider.destroy();
          await anvil?.stop();
        })();
        return closing;
      },
    };
  } catch (error) {
    provider?.destroy();
    await anvil?.stop();
    throw error;
  }
}

async function pickSigner(provider: JsonRpcProvider, url: string, privateKey: string | undefined): Promise<Signer> {
  if (privateKey) {
    try {
      return new Wallet(privateKey.startsWith('0x') ? privateKey : `0x${privateKey}`, provider);
    } catch {
      // Never echo the key itself.
      throw new ChainError('the private key (ZKAI_PRIVATE_KEY or privateKey option) is not a valid 32-byte hex key');
    }
  }
  try {
    return await provider.getSigner(0);
  } catch (error) {
    throw new ChainError(`the node at ${url} has no unlocked account to sign with`, {
      cause: error,
      hint: 'set ZKAI_PRIVATE_KEY to the 0x-hex private key of a funded account',
    });
  }
}

/**
 * Run `fn` with a chain connection (see {@link connectChain}) and always close it afterwards, even if `fn` throws.
 */
export async function withChain<T>(
  rpcUrl: string | undefined,
  fn: (chain: ChainConnection) => Promise<T>,
  options: ConnectChainOptions = {},
): Promise<T> {
  const chain = await connectChain(rpcUrl, options);
  try {
    return await fn(chain);
  } finally {
    await chain.close();
  }
}
