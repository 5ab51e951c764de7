// Minimal typings for the part of circomlibjs 0.1.7 that zkai uses (circomlibjs ships no types): the Poseidon
// contract generator, re-exported by the package's only entry point (`main.js`, from `src/poseidon_gencontract.js`).
declare module 'circomlibjs' {
  export const poseidonContract: {
    /**
     * EVM creation bytecode (0x-hex) of a contract computing Poseidon over `nInputs` field elements (1..8; throws
     * otherwise), exposing `poseidon(uint256[nInputs]) returns (uint256)` and the `bytes32` variant.
     */
    createCode(nInputs: number): string;
    /** The ABI of that contract: the `bytes32[n]` and `uint256[n]` overloads of `poseidon`. */
    generateABI(nInputs: number): object[];
  };
}
