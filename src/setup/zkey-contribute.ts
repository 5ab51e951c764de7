/**
 * One phase-2 contribution to a Groth16 zkey, as snarkjs's `zkey contribute` makes it: a fresh secret δ multiplies the
 * key's δ points and divides its L and H points, and a record (δ after, the proof of knowledge g1_s, g1_sx, g2_spx and
 * the transcript they hash to) joins the key's contribution chain in snarkjs's format, so snarkjs's `zkey verify`
 * checks it like one of its own. Nearly all of the work is the L and H points (one scalar multiplication each): the
 * native addon does them (`scaleG1Points`); the few single points and the transcript use snarkjs's own curve and
 * generator (ChaCha seeded from the system's random bytes and the entropy, `hashToG2` for g2_sp), as snarkjs does.
 * Without the addon, or with `ZKAI_PROVER=snarkjs`, snarkjs contributes itself.
 *
 * Used for zkai's automatic (single-party) setup, whose input key zkai has just written. A ceremony's `contribute`,
 * whose input comes from someone else, stays with snarkjs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { ChaCha } from 'ffjavascript';
import * as snarkjs from 'snarkjs';
import { SetupError } from '../errors.ts';
import { nativeProver, proverChoiceFromEnvironment } from '../prover/native/index.ts';
import { snarkjsLogger, type ProgressListener } from './progress.ts';

/** The slice of snarkjs's (ffjavascript's) BN254 curve used here; points and scalars are its byte buffers. */
interface Group {
  readonly g: Uint8Array;
  neg(point: Uint8Array): Uint8Array;
  fromRng(rng: unknown): Uint8Array;
  timesFr(point: Uint8Array, scalar: Uint8Array): Uint8Array;
  toAffine(point: Uint8Array): Uint8Array;
  toRprUncompressed(out: Uint8Array, offset: number, point: Uint8Array): void;
}
interface Curve {
  G1: Group;
  G2: Group;
  pairingEq(...points: Uint8Array[]): boolean;
  Fr: {
    e(value: number): Uint8Array;
    fromRng(rng: unknown): Uint8Array;
    inv(value: Uint8Array): Uint8Array;
    isZero(value: Uint8Array): boolean;
    toRprLE(out: Uint8Array, offset: number, value: Uint8Array): void;
  };
}

/** A section of a binfile: where its bytes start and how many. */
interface Section {
  position: number;
  size: number;
}

/** The sections of a Groth16 zkey (types 1 to 10, each once), checked against the file's length. */
function zkeySections(bytes: Buffer, path: string): Map<number, Section> {
  const refuse = (reason: string) => new SetupError(`${path}: not a zkey zkai can contribute to: ${reason}`);
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'zkey') throw refuse('it does not start with "zkey"');
  const count = bytes.readUInt32LE(8);
  if (count !== 10) throw refuse(`${count} sections (a Groth16 zkey has 10)`);
  const sections = new Map<number, Section>();
  let position = 12;
  for (let index = 0; index < count; index += 1) {
    if (position + 12 > bytes.length) throw refuse('a section header lies past the end of the file');
    const type = bytes.readUInt32LE(position);
    const size = Number(bytes.readBigUInt64LE(position + 4));
    position += 12;
    if (size > bytes.length - position) throw refuse(`section ${type} runs past the end of the file`);
    if (type < 1 || type > 10 || sections.has(type)) throw refuse(`section ${type} is unexpected or repeated`);
    sections.set(type, { position, size });
    position += size;
  }
  if (sections.get(1)?.size !== 4 || bytes.readUInt32LE(sections.get(1)!.position) !== 1)
    throw refuse('it is not a Groth16 key');
  if (sections.get(2)?.size !== 660) throw refuse('its Groth16 header is not 660 bytes');
  return sections;
}

/** The bytes of a section. */
function sectionBytes(bytes: Buffer, sections: Map<number, Section>, type: number): Buffer {
  const section = sections.get(type)!;
  return bytes.subarray(section.position, section.position + section.size);
}

/** The byte ranges of the contributions already in section 10 (csHash, count, then one record each). */
function contributionRecords(mpc: Buffer, path: string): { csHash: Buffer; records: Buffer[] } {
  const refuse = () => new SetupError(`${path}: its contribution section is damaged`);
  if (mpc.length < 68) throw refuse();
  const csHash = mpc.subarray(0, 64);
  const count = mpc.readUInt32LE(64);
  const records: Buffer[] = [];
  let position = 68;
  for (let index = 0; index < count; index += 1) {
    const fixed = 64 * 3 + 128 + 64 + 4; // δ after, g1_s, g1_sx, g2_spx, transcript, type
    if (position + fixed + 4 > mpc.length) throw refuse();
    const paramsLength = mpc.readUInt32LE(position + fixed);
    const end = position + fixed + 4 + paramsLength;
    if (end > mpc.length) throw refuse();
    records.push(mpc.subarray(position, end));
    position = end;
  }
  if (position !== mpc.length) throw refuse();
  return { csHash, records };
}

/** A binfile section: type, size, bytes. */
function section(type: number, body: Uint8Array): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32LE(type, 0);
  head.writeBigUInt64LE(BigInt(body.length), 4);
  return Buffer.concat([head, body]);
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value);
  return out;
}

/** ChaCha seeded from the first 32 bytes of a hash read as eight big-endian words (snarkjs's seeding). */
function chachaFrom(hash: Uint8Array): unknown {
  const view = new DataView(hash.buffer, hash.byteOffset, hash.byteLength);
  return new ChaCha(Array.from({ length: 8 }, (_, i) => view.getUint32(4 * i)));
}

/** Sections 8 (L) and 9 (H) hold the number of points the header says (the addon scales whatever it is given). */
function checkShape(bytes: Buffer, sections: Map<number, Section>, path: string): void {
  const header = sectionBytes(bytes, sections, 2);
  const nVars = header.readUInt32LE(72);
  const nPublic = header.readUInt32LE(76);
  const domainSize = header.readUInt32LE(80);
  const expected: [number, number][] = [
    [8, 64 * (nVars - nPublic - 1)],
    [9, 64 * domainSize],
  ];
  for (const [type, size] of expected)
    if (nPublic >= nVars || sections.get(type)!.size !== size)
      throw new SetupError(`${path}: section ${type} does not hold the points its header announces`);
}

/**
 * The key's δ points are the chain's: δ1 is the last contribution's δ after (the generator before any), and δ2 is
 * δ1's partner in G2 (one pairing). A contribution multiplies them by δ and publishes the results, so points of
 * another order could leak δ modulo that order; snarkjs does not check this, zkai does.
 */
function checkDelta(curve: Curve, header: Buffer, records: Buffer[], path: string): void {
  const delta1 = header.subarray(468, 532);
  const delta2 = header.subarray(532, 660);
  const last = records.at(-1);
  const expected = last ? last.subarray(0, 64) : Buffer.from(curve.G1.toAffine(curve.G1.g));
  const pairs = curve.pairingEq(curve.G1.g, delta2, curve.G1.neg(delta1), curve.G2.g);
  if (!Buffer.from(delta1).equals(Buffer.from(expected)) || !pairs)
    throw new SetupError(`${path}: its delta points are not those of its contribution chain`);
}

/** Runs the operations whose WebAssembly scratch slots held δ or 1/δ again on harmless values. */
function overwriteScratch(curve: Curve): void {
  const one = curve.Fr.e(1);
  curve.G1.timesFr(curve.G1.toAffine(curve.G1.g), one);
  curve.G1.timesFr(curve.G1.g, one);
  curve.G2.timesFr(curve.G2.toAffine(curve.G2.g), one);
  curve.G2.timesFr(curve.G2.g, one);
  curve.Fr.toRprLE(new Uint8Array(32), 0, curve.Fr.inv(one));
}

/** What {@link contributeZkey} did. */
export interface ZkeyContributeResult {
  /** The contribution's hash, as snarkjs returns and prints it (BLAKE2b-512 of its public key and transcript). */
  contributionHash: Uint8Array;
  engine: 'native' | 'snarkjs';
}

/**
 * Adds one contribution named `name` to the zkey at `inPath`, written to `outPath` (which must not exist), with the
 * system's random bytes and `entropy` as its randomness.
 *
 * @throws SetupError when the key is not a Groth16 zkey or its points are damaged
 */
export async function contributeZkey(
  inPath: string,
  outPath: string,
  name: string,
  entropy: string,
  options: { cacheDir?: string; onProgress?: ProgressListener; stage: string },
): Promise<ZkeyContributeResult> {
  const addon =
    proverChoiceFromEnvironment() === 'snarkjs'
      ? undefined
      : (await nativeProver(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir })).addon;
  // Above 1 GiB the key is left to snarkjs, which streams it (here the whole key is held in memory).
  const tooLarge = (await stat(inPath)).size > 2 ** 30;
  if (typeof addon?.scaleG1Points !== 'function' || tooLarge) {
    const hash = await snarkjs.zKey.contribute(
      inPath,
      outPath,
      name,
      entropy,
      snarkjsLogger(options.stage, options.onProgress),
    );
    if (!(hash instanceof Uint8Array)) throw new SetupError(`contributing to ${inPath} failed: snarkjs wrote no key`);
    return { contributionHash: hash, engine: 'snarkjs' };
  }

  const bytes = await readFile(inPath);
  const sections = zkeySections(bytes, inPath);
  const header = sectionBytes(bytes, sections, 2);
  const { csHash, records } = contributionRecords(sectionBytes(bytes, sections, 10), inPath);
  checkShape(bytes, sections, inPath);
  const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as Curve;
  checkDelta(curve, header, records, inPath);
  const uncompressed = (group: Group, point: Uint8Array, size: number) => {
    const out = new Uint8Array(size);
    group.toRprUncompressed(out, 0, point);
    return out;
  };

  // The transcript so far: the circuit hash, then each earlier contribution's public key and transcript.
  const transcript = createHash('blake2b512').update(csHash);
  for (const record of records) {
    transcript
      .update(uncompressed(curve.G1, record.subarray(0, 64), 64))
      .update(uncompressed(curve.G1, record.subarray(64, 128), 64))
      .update(uncompressed(curve.G1, record.subarray(128, 192), 64))
      .update(uncompressed(curve.G2, record.subarray(192, 320), 128))
      .update(record.subarray(320, 384));
  }

  // The secret δ and the proof of knowledge of it, from ChaCha seeded by the system's randomness and the entropy.
  const systemRandom = randomBytes(64);
  const seed = createHash('blake2b512').update(systemRandom).update(Buffer.from(entropy, 'utf8')).digest();
  const rng = chachaFrom(seed) as { state?: Uint32Array | number[]; buff?: Uint32Array | number[] };
  const delta = curve.Fr.fromRng(rng);
  if (curve.Fr.isZero(delta)) throw new SetupError('the random contribution was zero (try again)');
  const g1S = curve.G1.toAffine(curve.G1.fromRng(rng));
  const g1Sx = curve.G1.toAffine(curve.G1.timesFr(g1S, delta));
  const ownTranscript = transcript
    .update(uncompressed(curve.G1, g1S, 64))
    .update(uncompressed(curve.G1, g1Sx, 64))
    .digest();
  const g2Sp = curve.G2.fromRng(chachaFrom(ownTranscript)); // snarkjs's hashToG2
  const g2Spx = curve.G2.toAffine(curve.G2.timesFr(g2Sp, delta));
  const delta1 = curve.G1.toAffine(curve.G1.timesFr(header.subarray(468, 532), delta));
  const delta2 = curve.G2.toAffine(curve.G2.timesFr(header.subarray(532, 660), delta));

  // L and H divided by δ, natively (one after the other: each takes every core). δ, 1/δ, the seed and the generator's
  // state are toxic waste: zeroed once used, and the curve's WebAssembly scratch slots that held them overwritten.
  const inverseMontgomery = curve.Fr.inv(delta);
  const inverse = new Uint8Array(32);
  curve.Fr.toRprLE(inverse, 0, inverseMontgomery);
  let l: Uint8Array;
  let h: Uint8Array;
  try {
    l = await addon.scaleG1Points(sectionBytes(bytes, sections, 8), inverse);
    h = await addon.scaleG1Points(sectionBytes(bytes, sections, 9), inverse);
  } catch (error) {
    throw new SetupError(`contributing to ${inPath} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    for (const secret of [inverse, inverseMontgomery, delta, seed, systemRandom]) secret.fill(0);
    for (const words of [rng.state, rng.buff]) if (words) words.fill(0);
    overwriteScratch(curve);
  }

  // The record, in snarkjs's layout: points in the file's form, the transcript, type 0, and the name as parameter 1.
  const nameBytes = new TextEncoder().encode(name.substring(0, 64));
  const params = new Uint8Array([1, nameBytes.byteLength, ...nameBytes]); // one byte of length, as snarkjs writes it
  const record = Buffer.concat([delta1, g1S, g1Sx, g2Spx, ownTranscript, u32(0), u32(params.length), params]);
  const newHeader = Buffer.concat([header.subarray(0, 468), delta1, delta2]);
  const file = Buffer.concat([
    Buffer.from('zkey', 'latin1'),
    u32(1),
    u32(10),
    section(1, sectionBytes(bytes, sections, 1)),
    section(2, newHeader),
    ...[3, 4, 5, 6, 7].map((type) => section(type, sectionBytes(bytes, sections, type))),
    section(8, l),
    section(9, h),
    section(10, Buffer.concat([csHash, u32(records.length + 1), ...records, record])),
  ]);
  await writeFile(outPath, file, { flag: 'wx' });

  const contributionHash = createHash('blake2b512')
    .update(uncompressed(curve.G1, delta1, 64))
    .update(uncompressed(curve.G1, g1S, 64))
    .update(uncompressed(curve.G1, g1Sx, 64))
    .update(uncompressed(curve.G2, g2Spx, 128))
    .update(ownTranscript)
    .digest();
  return { contributionHash: new Uint8Array(contributionHash), engine: 'native' };
}
