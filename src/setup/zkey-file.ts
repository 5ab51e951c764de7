/**
 * Reading what a Groth16 `.zkey` says about itself: its circuit's sizes, snarkjs's circuit hash and the chain of
 * phase-2 contributions (section 10), with each contribution's hash computed exactly as snarkjs computes it
 * (`zkey_contribute.js`, `zkey_beacon.js`, `zkey_verify_frominit.js`: blake2b-512 of the contribution's public key and
 * transcript). Only the header sections are read, so this is cheap for large keys. Reading a chain proves nothing by
 * itself: `verifyCeremony` (`ceremony.ts`) checks it against the r1cs and the ptau with snarkjs.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import * as snarkjs from 'snarkjs';
import { InputFileError } from '../errors.ts';

/** One step of a zkey's phase-2 chain. */
export interface ZkeyContribution {
  /** Position in the chain, from 1. */
  index: number;
  /** `contribution`: secret entropy of a participant; `beacon`: public randomness anyone can recompute. */
  type: 'contribution' | 'beacon';
  /** The name the participant gave (at most 64 characters; absent when none was given). */
  name?: string;
  /** snarkjs's contribution hash (blake2b-512, hex): what `snarkjs zkey contribute` prints and a participant keeps. */
  hash: string;
  /** For a beacon: the public random value (hex) and the number of hash iterations as a power of two. */
  beacon?: { hash: string; iterationsExp: number };
}

/** The parts of a zkey's header a ceremony needs. */
export interface ZkeyInfo {
  path: string;
  /** Witness length (wires, with the constant 1). */
  nVars: number;
  /** Public signals (outputs and public inputs). */
  nPublic: number;
  /** The FFT domain: 2^(required ptau power). */
  domainSize: number;
  /** snarkjs's circuit hash (blake2b-512, hex), fixed by `zkey new` from the r1cs and the ptau. */
  circuitHash: string;
  contributions: ZkeyContribution[];
}

/** The BN254 base field modulus: the only curve zkai uses. */
const BN254_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const G1_BYTES = 64;
const G2_BYTES = 128;

/** The parts of ffjavascript's curve used to turn stored points (little-endian Montgomery) into snarkjs's hash input. */
interface UncompressingCurve {
  G1: { toRprUncompressed(buffer: Uint8Array, offset: number, point: Uint8Array): void };
  G2: { toRprUncompressed(buffer: Uint8Array, offset: number, point: Uint8Array): void };
}

interface Section {
  start: number;
  size: number;
}

async function readExactly(handle: FileHandle, path: string, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  if (bytesRead < length) throw new InputFileError(path, 'the zkey file is truncated');
  return buffer;
}

function readLittleEndian(buffer: Buffer, offset: number, length: number): bigint {
  let value = 0n;
  for (let i = length - 1; i >= 0; i -= 1) value = (value << 8n) | BigInt(buffer[offset + i] as number);
  return value;
}

/**
 * Read a Groth16 zkey's sizes, circuit hash and contribution chain (hashes as snarkjs computes them).
 *
 * @param path the `.zkey` file
 * @throws InputFileError when the file is not a BN254 Groth16 zkey or is truncated
 */
export async function readZkeyInfo(path: string): Promise<ZkeyInfo> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw new InputFileError(path, `cannot open the zkey: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  });
  let raw: {
    nVars: number;
    nPublic: number;
    domainSize: number;
    circuitHash: string;
    entries: Array<{
      points: Buffer;
      transcript: Buffer;
      type: number;
      name?: string;
      beacon?: { hash: string; iterationsExp: number };
    }>;
  };
  try {
    const { size: fileSize } = await handle.stat();
    const head = await readExactly(handle, path, 0, 12);
    if (head.toString('latin1', 0, 4) !== 'zkey')
      throw new InputFileError(path, 'not a zkey file (bad magic)', {
        hint: 'give a proving key written by zkai ceremony or snarkjs zkey new/contribute/beacon',
      });
    const sectionCount = head.readUInt32LE(8);
    const sections = new Map<number, Section>();
    let position = 12;
    for (let index = 0; index < sectionCount; index += 1) {
      const sectionHead = await readExactly(handle, path, position, 12);
      const type = sectionHead.readUInt32LE(0);
      const size = Number(sectionHead.readBigUInt64LE(4));
      if (!sections.has(type)) sections.set(type, { start: position + 12, size });
      position += 12 + size;
    }
    if (position > fileSize)
      throw new InputFileError(path, `the zkey file is truncated (${fileSize} of ${position} bytes)`);
    const protocolSection = sections.get(1);
    const header = sections.get(2);
    const mpc = sections.get(10);
    if (!protocolSection || !header || !mpc)
      throw new InputFileError(path, 'the zkey lacks its header or its contributions section (sections 1, 2 and 10)');
    const protocol = (await readExactly(handle, path, protocolSection.start, 4)).readUInt32LE(0);
    if (protocol !== 1) throw new InputFileError(path, `not a Groth16 zkey (protocol ${protocol}; Groth16 is 1)`);
    const headerBytes = await readExactly(handle, path, header.start, Math.min(header.size, 4 + 64 + 4 + 64 + 12));
    const n8q = headerBytes.readUInt32LE(0);
    if (n8q !== 32 || readLittleEndian(headerBytes, 4, n8q) !== BN254_Q)
      throw new InputFileError(path, 'the zkey is not over the BN254 curve (the only curve zkai uses)');
    const n8r = headerBytes.readUInt32LE(4 + n8q);
    const at = 4 + n8q + 4 + n8r;
    const nVars = headerBytes.readUInt32LE(at);
    const nPublic = headerBytes.readUInt32LE(at + 4);
    const domainSize = headerBytes.readUInt32LE(at + 8);

    const body = await readExactly(handle, path, mpc.start, mpc.size);
    const malformed = (what: string) => new InputFileError(path, `malformed contributions section: ${what}`);
    if (body.length < 68) throw malformed('shorter than its circuit hash and count');
    const circuitHash = body.subarray(0, 64).toString('hex');
    const count = body.readUInt32LE(64);
    let offset = 68;
    const entries: (typeof raw)['entries'] = [];
    const pointsLength = 3 * G1_BYTES + G2_BYTES;
    for (let index = 0; index < count; index += 1) {
      if (offset + pointsLength + 64 + 8 > body.length)
        throw malformed(`contribution ${index + 1} of ${count} is cut short`);
      const points = body.subarray(offset, offset + pointsLength);
      offset += pointsLength;
      const transcript = body.subarray(offset, offset + 64);
      offset += 64;
      const type = body.readUInt32LE(offset);
      const paramLength = body.readUInt32LE(offset + 4);
      offset += 8;
      const end = offset + paramLength;
      if (end > body.length) throw malformed(`the parameters of contribution ${index + 1} are cut short`);
      const entry: (typeof raw)['entries'][number] = { points, transcript, type };
      let beaconHash: string | undefined;
      let iterationsExp: number | undefined;
      while (offset < end) {
        const kind = body[offset] as number;
        if (kind === 1 || kind === 3) {
          const length = body[offset + 1] as number;
          if (offset + 2 + length > end) throw malformed(`a parameter of contribution ${index + 1} is cut short`);
          const value = body.subarray(offset + 2, offset + 2 + length);
          if (kind === 1) entry.name = new TextDecoder().decode(value);
          else beaconHash = value.toString('hex');
          offset += 2 + length;
        } else if (kind === 2) {
          iterationsExp = body[offset + 1] as number;
          offset += 2;
        } else {
          throw malformed(`contribution ${index + 1} has an unknown parameter ${kind}`);
        }
      }
      if (offset !== end) throw malformed(`the parameters of contribution ${index + 1} overrun their length`);
      if (type === 1) {
        if (beaconHash === undefined || iterationsExp === undefined)
          throw malformed(`beacon ${index + 1} lacks its hash or iterations`);
        entry.beacon = { hash: beaconHash, iterationsExp };
      } else if (type !== 0) {
        throw malformed(`contribution ${index + 1} has an unknown type ${type}`);
      }
      entries.push(entry);
    }
    raw = { nVars, nPublic, domainSize, circuitHash, entries };
  } finally {
    await handle.close();
  }

  const contributions: ZkeyContribution[] = [];
  if (raw.entries.length > 0) {
    // The hash input is each point uncompressed (big-endian affine), as snarkjs's hashPubKey writes it: the curve's
    // own conversion keeps it byte-identical to snarkjs (this is the cached BN254 curve; releaseCurves ends it).
    const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as UncompressingCurve;
    for (const [index, entry] of raw.entries.entries()) {
      const input = new Uint8Array(3 * G1_BYTES + G2_BYTES + 64);
      for (let g = 0; g < 3; g += 1)
        curve.G1.toRprUncompressed(
          input,
          g * G1_BYTES,
          new Uint8Array(entry.points.subarray(g * G1_BYTES, (g + 1) * G1_BYTES)),
        );
      curve.G2.toRprUncompressed(
        input,
        3 * G1_BYTES,
        new Uint8Array(entry.points.subarray(3 * G1_BYTES, 3 * G1_BYTES + G2_BYTES)),
      );
      input.set(entry.transcript, 3 * G1_BYTES + G2_BYTES);
      contributions.push({
        index: index + 1,
        type: entry.type === 1 ? 'beacon' : 'contribution',
        ...(entry.name !== undefined ? { name: entry.name } : {}),
        hash: createHash('blake2b512').update(input).digest('hex'),
        ...(entry.beacon ? { beacon: entry.beacon } : {}),
      });
    }
  }
  return {
    path,
    nVars: raw.nVars,
    nPublic: raw.nPublic,
    domainSize: raw.domainSize,
    circuitHash: raw.circuitHash,
    contributions,
  };
}

/** A hash snarkjs returns (`zKey.contribute`, `zKey.beacon`, `zKey.newZKey`) as one hex string. */
export function snarkjsHashHex(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  throw new TypeError(`snarkjs returned no hash (got ${String(value)})`);
}
