/**
 * Which Groth16 prover runs: zkai's native one (native/src, C++) whenever it is built or can be built here, else
 * snarkjs, with one clear warning. The addon is looked for in the repository's build (`npm install` makes it) and
 * in the cache folder; when neither has the build of these sources, it is built into the cache on first use, under
 * a lock, atomically, like a compiled circuit.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheLayout } from '../../cache/layout.ts';
import { ZkaiError } from '../../errors.ts';
import { withFileLock } from '../../util/file-lock.ts';
import { loadAddon, type NativeProverAddon } from './addon.ts';
import { NATIVE_REPO_BUILD_DIR, addonFileName, buildAddon, buildPlan } from './build.ts';

/** The prover a pool or command uses: `auto` is native when available, else snarkjs. */
export type ProverChoice = 'auto' | 'native' | 'snarkjs';

/** The environment variable that holds the prover choice (the CLI's `--prover` sets it for the command). */
export const PROVER_ENV = 'ZKAI_PROVER';

/**
 * A native addon file to use instead of looking for the build of these sources, or `none`: as if none were built or
 * could be built (the snarkjs fallback, on purpose).
 */
export const ADDON_ENV = 'ZKAI_NATIVE_ADDON';

/** The prover chosen by ZKAI_PROVER (`auto` when unset); an unknown value is refused. */
export function proverChoiceFromEnvironment(): ProverChoice {
  const value = process.env[PROVER_ENV];
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'native' || value === 'snarkjs') return value;
  throw new ZkaiError('BAD_OPTION', `${PROVER_ENV} must be auto, native or snarkjs, got "${value}"`);
}

/** Whether the native prover can run here, and why not. */
export type NativeProverStatus =
  { available: true; path: string; adx: boolean; builtNow: boolean } | { available: false; reason: string };

/**
 * The native prover addon: the repository's build or the cache's, built into the cache when `build` is true (the
 * default) and neither exists. Never throws: the status says why it is unavailable. A build (a compiler run of about
 * 20 seconds, once per machine and version) is announced through `onBuild`, else by one process warning
 * (`ZKAI_NATIVE_BUILDING`), so a first command that pauses says why.
 */
export async function nativeProver(
  options: { cacheDir?: string; build?: boolean; onBuild?: () => void } = {},
): Promise<{ status: NativeProverStatus; addon?: NativeProverAddon }> {
  const chosen = process.env[ADDON_ENV];
  if (chosen === 'none') return { status: { available: false, reason: `${ADDON_ENV}=none` } };
  if (chosen) {
    try {
      const addon = loadAddon(chosen);
      return { status: { available: true, path: chosen, adx: addon.usesAdx, builtNow: false }, addon };
    } catch (error) {
      return {
        status: { available: false, reason: `${ADDON_ENV}=${chosen} could not be loaded: ${(error as Error).message}` },
      };
    }
  }
  const plan = buildPlan();
  if (!plan.ok) return { status: { available: false, reason: plan.reason } };
  const name = addonFileName(plan.id);
  const layout = cacheLayout(options.cacheDir);
  let path = existingAddonPath(name, layout.nativeDir);
  let builtNow = false;
  if (!path) {
    if (options.build === false)
      return {
        status: { available: false, reason: 'it is not built yet (it builds on first use, or at npm install)' },
      };
    try {
      path = await withFileLock(layout.nativeLockPath(plan.id), async () => {
        const target = join(layout.nativeDir, name);
        if (existsSync(target)) return target;
        if (options.onBuild) options.onBuild();
        else
          process.emitWarning(
            `building zkai's native prover for this machine into ${layout.nativeDir} (once; about 20 seconds)`,
            { code: 'ZKAI_NATIVE_BUILDING' },
          );
        builtNow = true;
        return buildAddon(plan, layout.nativeDir);
      });
    } catch (error) {
      return { status: { available: false, reason: `it could not be built: ${(error as Error).message}` } };
    }
  }
  try {
    const addon = loadAddon(path);
    return { status: { available: true, path, adx: addon.usesAdx, builtNow }, addon };
  } catch (error) {
    return { status: { available: false, reason: `${path} could not be loaded: ${(error as Error).message}` } };
  }
}

/** The build of these sources in the repository's build folder or the cache's, when one exists. */
function existingAddonPath(name: string, cacheNativeDir: string): string | undefined {
  return [join(NATIVE_REPO_BUILD_DIR, name), join(cacheNativeDir, name)].find((candidate) => existsSync(candidate));
}

/**
 * The addon when it is already built (`ZKAI_NATIVE_ADDON`'s file, else the build of these sources in the repository
 * or the cache), loaded synchronously and never built: for callers that cannot wait for a compiler, such as a hash.
 * `undefined` when there is none, `ZKAI_NATIVE_ADDON=none`, or it does not load.
 */
export function builtNativeAddon(cacheDir?: string): NativeProverAddon | undefined {
  const chosen = process.env[ADDON_ENV];
  if (chosen === 'none') return undefined;
  try {
    if (chosen) return loadAddon(chosen);
    const plan = buildPlan();
    if (!plan.ok) return undefined;
    const path = existingAddonPath(addonFileName(plan.id), cacheLayout(cacheDir).nativeDir);
    return path ? loadAddon(path) : undefined;
  } catch {
    return undefined;
  }
}
