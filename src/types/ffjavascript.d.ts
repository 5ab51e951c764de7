declare module 'ffjavascript' {
  /** ffjavascript's ChaCha20-based generator: snarkjs seeds it from hashes to make its random and derived points. */
  export class ChaCha {
    constructor(seed?: number[]);
    nextU32(): number;
    nextU64(): bigint;
    nextBool(): boolean;
  }
}
