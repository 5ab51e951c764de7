/**
 * solc's output kept in the cache folder by content: the hash of solc's version and the whole standard-JSON input
 * names a file holding the contract's ABI and bytecode. Loading solc's wasm and compiling the registry contracts
 * took 3 to 4 s of every `zkai chain` command; a hit takes a millisecond and does not load solc at all.
 *
 * A missing, unreadable or malformed entry is a miss (compiled again and rewritten); a cache folder that cannot be
 * written only loses the speed-up. Entries are written atomically, so a reader never sees half of one.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cacheLayout } from '../cache/layout.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import type { CompiledContract } from './types.ts';

let solcPackageVersion: string | undefined;

/** The installed solc package's version (read from its package.json, without loading the compiler). */
function installedSolcVersion(): string {
  solcPackageVersion ??= (createRequire(import.meta.url)('solc/package.json') as { version: string }).version;
  return solcPackageVersion;
}

/** Where the output of this standard-JSON input is kept, in the cache folder `cacheDir` names (default folder without). */
export function compiledSolidityPath(standardInput: string, cacheDir?: string): string {
  const hash = createHash('sha256').update(`solc@${installedSolcVersion()}\n`).update(standardInput).digest('hex');
  return cacheLayout(cacheDir).compiledSolidityPath(hash);
}

const isCompiledContract = (value: unknown): value is CompiledContract => {
  if (typeof value !== 'object' || value === null) return false;
  const { abi, bytecode } = value as { abi?: unknown; bytecode?: unknown };
  return Array.isArray(abi) && typeof bytecode === 'string' && /^0x(?:[0-9a-f]{2})+$/i.test(bytecode);
};

/** The kept output at `path`, or undefined when there is none or it is not a well-formed contract. */
export async function readCompiledSolidity(path: string): Promise<CompiledContract | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  return isCompiledContract(parsed) ? { abi: parsed.abi, bytecode: parsed.bytecode } : undefined;
}

/** Keep `compiled` at `path`; a failure to write is ignored (the cache only saves time). */
export async function keepCompiledSolidity(path: string, compiled: CompiledContract): Promise<void> {
  try {
    await writeFileAtomic(path, JSON.stringify(compiled));
  } catch {
    // An unwritable cache folder costs a compilation next time, nothing else.
  }
}
