/**
 * The verification key of the CLI's verify verbs (`zkai verify`, `data verify`, `data verify-include`, `model verify`):
 * where it comes from is decided before anything is verified (`src/verifier/key-source.ts`), said in the output (a
 * `key` line, `keySource` in --json), and a key from nowhere the verifier trusts is refused unless `--trust-key`.
 */
import type { CircuitKeys } from '../setup/phase2.ts';
import { trustedKeySource, type KeySource } from '../verifier/key-source.ts';
import type { GlobalFlags } from './output.ts';

/** Help of `--trust-key` on every verify verb. */
export const TRUST_KEY_OPTION_HELP = 'trust this verification key although it was not made by your own setup nor by a ceremony you verified (the output says so)';

/** Flags every verify verb has. */
export interface VerifyKeyFlags extends GlobalFlags {
  vkey: string;
  trustKey?: boolean;
}

/**
 * Where the verifier's key comes from: its own setup (this cache), a ceremony it verified (the trust store), or its
 * word (`--trust-key`).
 *
 * @throws ZkaiError `UNTRUSTED_KEY` for any other key, before anything is verified or claimed
 */
export function verifierKeySource(vkey: unknown, flags: VerifyKeyFlags): Promise<KeySource> {
  return trustedKeySource(vkey, { ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}), trustKey: flags.trustKey === true, path: flags.vkey });
}

/** The human line of a verdict that says where its key comes from. */
export function keySourceLine(source: KeySource): string {
  return `  key          ${source.detail}`;
}

/**
 * The line under a prove command's "verify with" hint: the hint runs here (the key is this machine's own setup, or
 * its ceremony's), but a verifier elsewhere trusts a key only from its own setup, a ceremony it verified, or its word.
 */
export function verifierKeyNote(keys: Pick<CircuitKeys, 'ceremony'>): string {
  return keys.ceremony
    ? '    (a verifier on another machine accepts this ceremony key once it has checked the ceremony with zkai ceremony verify, which records the key, or with --trust-key)'
    : '    (this key is your own single-party setup: a verifier on another machine accepts it only with --trust-key, on your word; for a key it can check, prove with a ceremony\'s --zkey)';
}
