import { open } from 'node:fs/promises';
import { InputFileError } from '../errors.ts';

/** The shape of a compiled circuit, read from its r1cs header. */
export interface CircuitInfo {
  /** Number of R1CS constraints. */
  constraints: number;
  /** Public inputs (declared `public` in the main component). */
  publicInputs: number;
  /** Private inputs. */
  privateInputs: number;
  /** Public outputs of the main component. */
  outputs: number;
  /** Witness length, including the constant 1. */
  wires: number;
  /** Number of labels (named signals) in the symbol table. */
  labels: number;
  /** The prime field's modulus, as a decimal string. */
  prime: string;
}

/**
 * Read the header of an r1cs file (iden3 binary format: magic `r1cs`, version 1, sections; section 1 is the header).
 * Only the header is read, so this is cheap even for large circuits.
 */
export async function readR1csInfo(r1csPath: string): Promise<CircuitInfo> {
  const handle = await open(r1csPath, 'r').catch((error: unknown) => {
    throw new InputFileError(r1csPath, 'cannot open r1cs file', { cause: error });
  });
  try {
    const head = Buffer.alloc(12);
    await handle.read(head, 0, 12, 0);
    if (head.toString('latin1', 0, 4) !== 'r1cs') throw new InputFileError(r1csPath, 'not an r1cs file (bad magic)');
    const sectionCount = head.readUInt32LE(8);
    let position = 12;
    for (let index = 0; index < sectionCount; index += 1) {
      const sectionHead = Buffer.alloc(12);
      await handle.read(sectionHead, 0, 12, position);
      const type = sectionHead.readUInt32LE(0);
      const size = Number(sectionHead.readBigUInt64LE(4));
      position += 12;
      if (type === 1) {
        const header = Buffer.alloc(size);
        await handle.read(header, 0, size, position);
        const fieldBytes = header.readUInt32LE(0);
        let prime = 0n;
        for (let i = fieldBytes - 1; i >= 0; i -= 1) prime = (prime << 8n) + BigInt(header[4 + i] ?? 0);
        let offset = 4 + fieldBytes;
        const wires = header.readUInt32LE(offset);
        const outputs = header.readUInt32LE(offset + 4);
        const publicInputs = header.readUInt32LE(offset + 8);
        const privateInputs = header.readUInt32LE(offset + 12);
        const labels = Number(header.readBigUInt64LE(offset + 16));
        offset += 24;
        const constraints = header.readUInt32LE(offset);
        return { constraints, publicInputs, privateInputs, outputs, wires, labels, prime: prime.toString() };
      }
      position += size;
    }
    throw new InputFileError(r1csPath, 'r1cs file has no header section');
  } finally {
    await handle.close();
  }
}
