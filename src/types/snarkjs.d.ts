// Minimal typings for the parts of snarkjs 0.7 that zkai uses (snarkjs ships no types).
declare module 'snarkjs' {
  export interface Logger {
    debug(message: string): void;
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
  }
  export type FileRef = string | { type: 'mem'; data?: Uint8Array };
  export type Groth16Proof = import('../verifier/types.ts').Groth16Proof;
  export const groth16: {
    prove(
      zkey: FileRef | Uint8Array,
      witness: FileRef | Uint8Array,
      logger?: Logger,
      options?: { singleThread?: boolean },
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    fullProve(
      input: unknown,
      wasm: FileRef,
      zkey: FileRef,
      logger?: Logger,
      wtnsOptions?: unknown,
      proverOptions?: { singleThread?: boolean },
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(vkey: unknown, publicSignals: unknown, proof: unknown, logger?: Logger): Promise<boolean>;
    exportSolidityCallData(proof: unknown, publicSignals: unknown): Promise<string>;
  };
  export const powersOfTau: {
    newAccumulator(curve: unknown, power: number, fileName: string, logger?: Logger): Promise<unknown>;
    contribute(oldPtau: string, newPtau: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    preparePhase2(oldPtau: string, newPtau: string, logger?: Logger): Promise<unknown>;
    verify(ptau: string, logger?: Logger): Promise<boolean>;
  };
  export const zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<unknown>;
    contribute(oldZkey: string, newZkey: string, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    beacon(
      oldZkey: string,
      newZkey: string,
      name: string,
      beaconHash: string,
      numIterationsExp: number,
      logger?: Logger,
    ): Promise<unknown>;
    exportVerificationKey(zkey: string | Uint8Array, logger?: Logger): Promise<Record<string, unknown>>;
    verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<boolean>;
    verifyFromInit(initialZkey: string, ptau: string, zkey: string, logger?: Logger): Promise<boolean>;
    exportSolidityVerifier(zkey: string, templates: Record<string, string>, logger?: Logger): Promise<string>;
  };
  export const wtns: {
    calculate(input: unknown, wasm: FileRef, wtns: FileRef, options?: unknown): Promise<void>;
    check(r1cs: string, wtns: string, logger?: Logger): Promise<boolean>;
    exportJson(wtns: FileRef): Promise<bigint[]>;
  };
  export const curves: {
    getCurveFromName(name: string, options?: { singleThread?: boolean }): Promise<{ terminate(): Promise<void> }>;
  };
}
