import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { InputFileError } from '../errors.ts';

/** What the header of a `.ptau` file says. */
export interface PtauHeader {
  /** The power: the file can set up circuits whose domain is at most 2^power. */
  power: number;
  /** The power of the ceremony the file was cut from. */
  ceremonyPower: number;
  /** True when the file holds the Lagrange sections written by `prepare phase2` (needed for Groth16 setup). */
  preparedForPhase2: boolean;
  size: number;
  /** Where each section's bytes start in the file, and how many there are. */
  sections: ReadonlyMap<number, { position: number; size: number }>;
}

/** Read the header of a snarkjs `.ptau` file: magic `ptau`, sections, section 1 = (n8, q, power, ceremonyPower). */
export async function readPtauHeader(path: string): Promise<PtauHeader> {
  const info = await stat(path).catch((error: unknown) => {
    throw new InputFileError(path, 'ptau file not found', { cause: error });
  });
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(12);
    await handle.read(head, 0, 12, 0);
    if (head.toString('latin1', 0, 4) !== 'ptau') throw new InputFileError(path, 'not a ptau file (bad magic)');
    const sectionCount = head.readUInt32LE(8);
    let position = 12;
    let power = -1;
    let ceremonyPower = -1;
    const sections = new Map<number, { position: number; size: number }>();
    for (let index = 0; index < sectionCount; index += 1) {
      const sectionHead = Buffer.alloc(12);
      const { bytesRead } = await handle.read(sectionHead, 0, 12, position);
      if (bytesRead < 12) throw new InputFileError(path, 'ptau file is truncated');
      const type = sectionHead.readUInt32LE(0);
      const size = Number(sectionHead.readBigUInt64LE(4));
      if (!sections.has(type)) sections.set(type, { position: position + 12, size });
      if (type === 1) {
        const header = Buffer.alloc(Math.min(size, 64));
        await handle.read(header, 0, header.length, position + 12);
        const n8 = header.readUInt32LE(0);
        power = header.readUInt32LE(4 + n8);
        ceremonyPower = header.readUInt32LE(8 + n8);
      }
      position += 12 + size;
    }
    if (position > info.size)
      throw new InputFileError(path, `ptau file is truncated (${info.size} of ${position} bytes)`);
    if (power < 0) throw new InputFileError(path, 'ptau file has no header section');
    return { power, ceremonyPower, preparedForPhase2: sections.has(12), size: info.size, sections };
  } finally {
    await handle.close();
  }
}

/** blake2b-512 of a whole file, streamed (the hash snarkjs publishes for ptau files). */
export async function blake2b512File(path: string): Promise<string> {
  const hash = createHash('blake2b512');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
