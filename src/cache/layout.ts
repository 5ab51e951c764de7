/**
 * Every path of zkai's cache folder, in one place (issue 17). The layout:
 *
 * ```
 * <cache>/circuits/<name>-<id>/              a compiled circuit (src/circuit/compile.ts); built in circuits/.build-<name>-*
 *                                            under the lock circuits/.lock-<name>-<id> (keys/ likewise)
 *     <name>.r1cs, <name>_js/<name>.wasm, <name>.sym, meta.json
 * <cache>/keys/<name>-<keyId>/               keys of zkai's own setup (src/setup/phase2.ts); built in keys/.build-<name>-*
 *     <name>.zkey, verification_key.json, meta.json (naming the circuit id)
 * <cache>/keys/ceremony-<name>-<hash>/       a ceremony's keys taken with --zkey (src/setup/ceremony.ts); keys/.build-ceremony-<name>-*
 * <cache>/ptau/dev-potNN.ptau                development ptau files by power (src/setup/dev-ptau.ts)
 * <cache>/ptau/blake2b512-cache.json         ptau hashes by file identity (src/setup/ptau-hash-cache.ts)
 * <cache>/generated/<base>.circom            generated circuit sources (src/circuit/generated-source.ts)
 * <cache>/solidity/<sha256>.json             solc's output (abi, bytecode) by hash of solc's version and input
 * <cache>/chain/embedded/                    the embedded development chain's state and deployment
 * <cache>/trust/trust-store.json             keys and contributions this machine trusts (src/setup/trust-store.ts)
 * ```
 *
 * Existing caches must keep working, so these names never change.
 */
import { join, resolve, sep } from 'node:path';
import { resolveCacheDir } from './cache-dir.ts';

const CEREMONY_PREFIX = 'ceremony-';
const DEV_PTAU_PATTERN = /^dev-pot(\d+)\.ptau$/;

/** The cache file name of a development ptau of this power (`dev-potNN.ptau`). */
export function devPtauFileName(power: number): string {
  return `dev-pot${String(power).padStart(2, '0')}.ptau`;
}

/** The power of a development ptau file name of the cache, or undefined when the name is not one. */
export function devPtauPower(fileName: string): number | undefined {
  const match = DEV_PTAU_PATTERN.exec(fileName);
  return match ? Number(match[1]) : undefined;
}

/** Whether a folder name of `keys/` holds a ceremony's keys taken with `--zkey` (made by someone else). */
export function isCeremonyKeyDir(folderName: string): boolean {
  return folderName.startsWith(CEREMONY_PREFIX);
}

/** The circuit name of a folder of `circuits/` or `keys/` (`<name>-<hex id>`): the folder name without its id. */
export function circuitNameOfDir(folderName: string): string {
  return folderName.replace(/-[0-9a-f]+$/, '');
}

/** Whether a folder name of `circuits/` or `keys/` is one being built (or another hidden entry) rather than a result. */
export function isBuildDir(folderName: string): boolean {
  return folderName.startsWith('.');
}

/** `meta.json` of a result folder of the cache: a compiled circuit or a set of keys (published or being built). */
export function metaPathOf(dir: string): string {
  return join(dir, 'meta.json');
}

/** The files of a compiled circuit's folder (published or being built): r1cs, witness wasm, symbols, metadata. */
export function circuitFiles(
  dir: string,
  name: string,
): { r1csPath: string; wasmPath: string; symPath: string; metaPath: string } {
  return {
    r1csPath: join(dir, `${name}.r1cs`),
    wasmPath: join(dir, `${name}_js`, `${name}.wasm`),
    symPath: join(dir, `${name}.sym`),
    metaPath: metaPathOf(dir),
  };
}

/** The files every folder of keys holds (published or being built): the verification key and the metadata. */
export function keyFiles(dir: string): { vkeyPath: string; metaPath: string } {
  return { vkeyPath: join(dir, 'verification_key.json'), metaPath: metaPathOf(dir) };
}

/** The proving key zkai's own setup writes into its folder of keys (a ceremony's zkey stays where it was given). */
export function ownZkeyPath(dir: string, circuitName: string): string {
  return join(dir, `${circuitName}.zkey`);
}

/** The paths of one cache folder. Building one touches nothing on disk. */
export class CacheLayout {
  /** The cache folder itself (absolute when it came through {@link cacheLayout}). */
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Compiled circuits. */
  get circuitsDir(): string {
    return join(this.dir, 'circuits');
  }

  /** One compiled circuit, by its name and content id. */
  circuitDir(name: string, id: string): string {
    return join(this.circuitsDir, `${name}-${id}`);
  }

  /** The lock a process holds while it compiles this circuit, so another one waits for it rather than compiling too. */
  circuitLockPath(name: string, id: string): string {
    return join(this.circuitsDir, `.lock-${name}-${id}`);
  }

  /** Prefix for `mkdtemp` of a circuit being compiled (renamed to {@link circuitDir} when done). */
  circuitBuildPrefix(name: string): string {
    return join(this.circuitsDir, `.build-${name}-`);
  }

  /** Proving and verification keys. */
  get keysDir(): string {
    return join(this.dir, 'keys');
  }

  /** Keys of zkai's own setup, by circuit name and key id (circuit id + ptau fingerprint + beacon). */
  keyDir(name: string, keyId: string): string {
    return join(this.keysDir, `${name}-${keyId}`);
  }

  /** The lock a process holds while it sets up these keys, so another one waits for them rather than making its own. */
  keyLockPath(name: string, keyId: string): string {
    return join(this.keysDir, `.lock-${name}-${keyId}`);
  }

  /** Prefix for `mkdtemp` of keys being set up (renamed to {@link keyDir} when done). */
  keyBuildPrefix(name: string): string {
    return join(this.keysDir, `.build-${name}-`);
  }

  /** A ceremony's keys taken with `--zkey`, by circuit name and hash of (circuit, zkey, ptau). */
  ceremonyKeyDir(name: string, hash: string): string {
    return join(this.keysDir, `${CEREMONY_PREFIX}${name}-${hash}`);
  }

  /** Prefix for `mkdtemp` of a ceremony's keys being checked (renamed to {@link ceremonyKeyDir} when done). */
  ceremonyKeyBuildPrefix(name: string): string {
    return join(this.keysDir, `.build-${CEREMONY_PREFIX}${name}-`);
  }

  /** ptau files: the development ones and the hash cache. */
  get ptauDir(): string {
    return join(this.dir, 'ptau');
  }

  /** The development ptau of this power. */
  devPtauPath(power: number): string {
    return join(this.ptauDir, devPtauFileName(power));
  }

  /** The ptau hash cache (blake2b-512 by file identity). */
  get ptauHashCachePath(): string {
    return join(this.ptauDir, 'blake2b512-cache.json');
  }

  /** Generated circuit sources. */
  get generatedDir(): string {
    return join(this.dir, 'generated');
  }

  /** A generated circuit source, by its base name (`dataset_<id>`, `model_<id>`, ...); `.circom` is added. */
  generatedSourcePath(baseName: string): string {
    return join(this.generatedDir, `${baseName}.circom`);
  }

  /** Whether `path` lies inside the generated sources folder (both compared resolved). */
  isGeneratedSource(path: string): boolean {
    return resolve(path).startsWith(resolve(this.generatedDir) + sep);
  }

  /** Compiled Solidity contracts (src/chain/solidity-cache.ts). */
  get solidityDir(): string {
    return join(this.dir, 'solidity');
  }

  /** One compiled contract, by the hex SHA-256 of solc's version and standard-JSON input. */
  compiledSolidityPath(inputHash: string): string {
    return join(this.solidityDir, `${inputHash}.json`);
  }

  /** Key sets of private chunked proofs (the chunk, node and root verification keys in one file; `src/data/private-chunk-keys.ts`). */
  get keySetsDir(): string {
    return join(this.dir, 'key-sets');
  }

  /** One key set, by the hex SHA-256 of its content. */
  keySetPath(contentHash: string): string {
    return join(this.keySetsDir, `${contentHash}.json`);
  }

  /** The native prover addon built on first use (when `npm install` did not build it in the repository). */
  get nativeDir(): string {
    return join(this.dir, 'native');
  }

  /** The lock a process holds while it builds the native addon of this build id. */
  nativeLockPath(buildId: string): string {
    return join(this.nativeDir, `.lock-${buildId}`);
  }

  /** The embedded development chain's state and deployment (the default of `--chain-dir`). */
  get embeddedChainDir(): string {
    return join(this.dir, 'chain', 'embedded');
  }

  /** The trust store. */
  get trustStorePath(): string {
    return join(this.dir, 'trust', 'trust-store.json');
  }

  /** Prefix for `mkdtemp` of `zkai doctor`'s write probe. */
  get doctorProbePrefix(): string {
    return join(this.dir, '.doctor-');
  }
}

/** The layout of the cache folder `override` names, resolved as {@link resolveCacheDir} does (default folder without it). */
export function cacheLayout(override?: string): CacheLayout {
  return new CacheLayout(resolveCacheDir(override));
}
