/**
 * The `context` public input every zkai statement circuit ends with. A proof is bound to its context: the on-chain
 * registry accepts a proof only when its context equals `attestationContext(chain id, registry, sender, nonce)`, so a
 * proof cannot be replayed on another chain or registry, nor taken from the mempool and submitted by someone else.
 * Off-chain proofs use context 0.
 *
 * The input takes part in one constraint (`contextSquare <== context * context`) so that it is bound by the proof
 * even in a backend that would not bind an unused public input (snarkjs also adds its own constraint per public input).
 */

/** Name of the context public signal (always the last one). */
export const CONTEXT_SIGNAL = 'context';

/** The context of a proof made for no registry. */
export const NO_CONTEXT = 0n;

/** Emit the context input and the constraint that binds it into a template body, through `line`. */
export function emitContextInput(line: (text: string) => void): void {
  line('// Binds the proof to a context (chain, registry, attester, nonce); 0 off chain. See src/circuit/context.ts.');
  line('signal input context;');
  line('signal contextSquare;');
  line('contextSquare <== context * context;');
}
