/**
 * Off-chain verification, also published on its own as `zkai/verifier`: a verifier that imports only this entry point
 * loads snarkjs and nothing of the chain, the data and model stages or the service (about a third of the CPU time of
 * importing `zkai`). `releaseCurves` ends snarkjs's worker threads when the process is done verifying.
 */
export * from './types.ts';
export * from './verify.ts';
export { releaseCurves } from '../util/curves.ts';
