/**
 * How far a proving key's phase 2 can be trusted. A Groth16 key is forgeable by whoever knows every secret
 * contribution of its phase 2 at once: zkai's automatic setup makes one contribution on the prover's machine, so its
 * keys are DEVELOPMENT-ONLY like the development ptau. A ceremony key (`zkai ceremony`) counts as production only with
 * at least two secret contributions, a final public beacon and a PRODUCTION ptau (pinned by hash, `ptau-trust.ts`).
 * Contributor names are what each participant typed, so two contributions are not proof of two parties: a verifier
 * trusts a key for its own contribution in the chain, or a transcript it verified (`zkai ceremony verify`).
 */
import { DEV_PTAU_WARNING } from './dev-ptau.ts';
import type { PtauTrust } from './ptau-trust.ts';
import type { ZkeyContribution } from './zkey-file.ts';

/** What zkai concluded about a key's phase 2. */
export interface Phase2Trust {
  /** `automatic`: zkai setup (one contribution by whoever ran it); `ceremony`: a zkey from `zkai ceremony` (--zkey). */
  source: 'automatic' | 'ceremony';
  /** Secret contributions in the chain (beacons not counted). */
  contributions: number;
  /** True when the chain ends with a public random beacon. */
  beacon: boolean;
  /** True when one party made the key: zkai's automatic setup, or a chain with fewer than two secret contributions. */
  singleParty: boolean;
  /** `production` only for a ceremony key with at least two contributions, a final beacon and a production ptau. */
  trust: PtauTrust;
  /** Why it is not production (empty when it is), one item per reason. */
  problems: string[];
}

/** Printed with every key zkai's automatic setup made: one party made it, so that party could forge proofs. */
export const SINGLE_PARTY_WARNING =
  "DEVELOPMENT-ONLY proving key: made by a single party (zkai's automatic setup: one phase-2 contribution, by whoever ran it), " +
  'who could forge proofs with it. For keys others can trust, run a multi-party ceremony (zkai ceremony init | contribute | beacon | finalize) ' +
  'and prove with --zkey.';

const PTAU_PROBLEM = 'the ptau is DEVELOPMENT-ONLY (not a pinned published ceremony file)';

/** The phase-2 trust of a key made by zkai's automatic setup: always single-party, always DEVELOPMENT. */
export function automaticPhase2Trust(options: { beacon: boolean; ptauTrust: PtauTrust }): Phase2Trust {
  return {
    source: 'automatic',
    contributions: 1,
    beacon: options.beacon,
    singleParty: true,
    trust: 'development',
    problems: [
      "made by zkai's automatic setup: a single phase-2 contribution by whoever ran it",
      ...(options.ptauTrust === 'production' ? [] : [PTAU_PROBLEM]),
    ],
  };
}

/**
 * The phase-2 trust of a ceremony key from its (verified) contribution chain and the trust of its ptau: production
 * only with at least two secret contributions, a final beacon and a production ptau.
 */
export function ceremonyPhase2Trust(chain: readonly ZkeyContribution[], ptauTrust: PtauTrust): Phase2Trust {
  const contributions = chain.filter((step) => step.type === 'contribution').length;
  const beacon = chain.at(-1)?.type === 'beacon';
  const problems: string[] = [];
  if (contributions === 0)
    problems.push("no secret contribution: the key's toxic waste is public, anyone can forge proofs");
  else if (contributions === 1)
    problems.push('a single secret contribution: its contributor alone could forge proofs (at least two are needed)');
  if (!beacon) problems.push('the chain does not end with a public random beacon (zkai ceremony beacon)');
  if (ptauTrust !== 'production') problems.push(PTAU_PROBLEM);
  return {
    source: 'ceremony',
    contributions,
    beacon,
    singleParty: contributions < 2,
    trust: problems.length === 0 ? 'production' : 'development',
    problems,
  };
}

/**
 * The warnings a command prints with a key (without the `WARNING: ` prefix): the development ptau's, the single-party
 * key's, and for a ceremony key what else keeps it from production.
 */
export function keyWarnings(keys: { ptau: { developmentOnly: boolean }; phase2: Phase2Trust }): string[] {
  const warnings: string[] = [];
  if (keys.ptau.developmentOnly) warnings.push(DEV_PTAU_WARNING);
  if (keys.phase2.source === 'automatic') {
    warnings.push(SINGLE_PARTY_WARNING);
  } else {
    const others = keys.phase2.problems.filter((problem) => problem !== PTAU_PROBLEM);
    if (others.length > 0) warnings.push(`DEVELOPMENT-ONLY ceremony key: ${others.join('; ')}.`);
  }
  return warnings;
}
