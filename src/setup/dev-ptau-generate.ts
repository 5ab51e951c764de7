/**
 * Writes a development powers-of-tau file directly from secrets drawn on this machine, in the exact format of
 * snarkjs's `powersoftau new` + one contribution + `prepare phase2` (the sections `zkey new` reads are
 * byte-compatible; test/dev-ptau-generate.test.ts checks them against snarkjs's own `prepare phase2`).
 *
 * Why not snarkjs's three steps: `prepare phase2` turns each section into Lagrange form with an inverse FFT over
 * curve points, one scalar multiplication per butterfly, which takes about 5 minutes for 2^14 on 2 cores. When the
 * secret tau is known, every point of the file is a known scalar times a generator: the Lagrange scalars come from an
 * inverse FFT over the scalar field (milliseconds) and each point costs one scalar multiplication. The trust is the
 * same as snarkjs's single-party path, where one process also holds tau in memory: DEVELOPMENT-ONLY either way.
 *
 * What the file does not hold: a contribution record (section 7 says 0 contributions), because no ceremony took
 * place; `snarkjs powersoftau verify` therefore refuses it, as it should for a file nobody can audit.
 */
import { randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import * as snarkjs from 'snarkjs';

/** The few operations of an ffjavascript group (G1 or G2) that this module uses. */
interface CurveGroup {
  /** The generator, affine, in the library's Montgomery little-endian form (what ptau files store). */
  readonly oneAffine: Uint8Array;
  /** Every point of `points` (affine) times `first * inc^i`, on the curve's worker threads; affine output. */
  batchApplyKey(
    points: Uint8Array,
    first: Uint8Array,
    inc: Uint8Array,
    inType?: 'affine',
    outType?: 'affine',
  ): Promise<Uint8Array>;
}

/** The scalar field operations used here (elements are 32-byte Montgomery buffers). */
interface ScalarField {
  readonly one: Uint8Array;
  readonly zero: Uint8Array;
  readonly n8: number;
  e(value: bigint): Uint8Array;
  mul(a: Uint8Array, b: Uint8Array): Uint8Array;
  isZero(a: Uint8Array): boolean;
  ifft(values: Uint8Array): Promise<Uint8Array>;
}

/** The BN254 curve object snarkjs builds (ffjavascript). */
interface Bn254 {
  readonly q: bigint;
  readonly r: bigint;
  readonly Fr: ScalarField;
  readonly G1: CurveGroup;
  readonly G2: CurveGroup;
}

/** Sections of a ptau file (snarkjs `powersoftau_new.js` and `powersoftau_preparephase2.js`). */
const Section = {
  Header: 1,
  TauG1: 2,
  TauG2: 3,
  AlphaTauG1: 4,
  BetaTauG1: 5,
  BetaG2: 6,
  Contributions: 7,
  LagrangeTauG1: 12,
  LagrangeTauG2: 13,
  LagrangeAlphaTauG1: 14,
  LagrangeBetaTauG1: 15,
} as const;
type SectionId = (typeof Section)[keyof typeof Section];

const G1_AFFINE_BYTES = 64;
const G2_AFFINE_BYTES = 128;
/** Points sent to the curve's worker threads per call when every point has its own scalar. */
const POINTS_PER_BATCH = 256;

/** The secrets of a development ptau. Exposed only so the format test can reproduce snarkjs's sections. */
export interface DevPtauSecrets {
  tau: bigint;
  alpha: bigint;
  beta: bigint;
}

/** Progress of {@link writeDevPtau}: the section being written and how far the whole file is, from 0 to 1. */
export type DevPtauProgress = (section: string, fraction: number) => void;

/** A uniformly random non-zero scalar (64 random bytes reduced modulo r: bias below 2^-250). */
function randomScalar(order: bigint): bigint {
  for (;;) {
    const value = BigInt(`0x${randomBytes(64).toString('hex')}`) % order;
    if (value !== 0n) return value;
  }
}

/** Fresh secrets from the system's random source. */
export function freshDevPtauSecrets(order: bigint): DevPtauSecrets {
  return { tau: randomScalar(order), alpha: randomScalar(order), beta: randomScalar(order) };
}

/** `count` consecutive powers `first * ratio^i` as a buffer of field elements. */
function geometricScalars(Fr: ScalarField, first: Uint8Array, ratio: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count * Fr.n8);
  let current = first;
  for (let index = 0; index < count; index += 1) {
    out.set(current, index * Fr.n8);
    current = Fr.mul(current, ratio);
  }
  return out;
}

/** `generator * scalars[i]` for each scalar, in batches on the curve's threads; affine points. */
async function multiplesOfGenerator(
  Fr: ScalarField,
  group: CurveGroup,
  scalars: Uint8Array,
  pointBytes: number,
): Promise<Uint8Array> {
  const count = scalars.length / Fr.n8;
  const out = new Uint8Array(count * pointBytes);
  const single = group.oneAffine;
  for (let start = 0; start < count; start += POINTS_PER_BATCH) {
    const end = Math.min(count, start + POINTS_PER_BATCH);
    const products = await Promise.all(
      Array.from({ length: end - start }, (_, offset) => {
        const scalar = scalars.subarray((start + offset) * Fr.n8, (start + offset + 1) * Fr.n8);
        return group.batchApplyKey(single, scalar, Fr.one, 'affine', 'affine');
      }),
    );
    products.forEach((point, offset) => out.set(point, (start + offset) * pointBytes));
  }
  return out;
}

/** `generator * first * ratio^i` for i < count: one batched call (a geometric sequence is what the library does fast). */
async function geometricMultiples(
  group: CurveGroup,
  first: Uint8Array,
  ratio: Uint8Array,
  count: number,
  pointBytes: number,
): Promise<Uint8Array> {
  const generators = new Uint8Array(count * pointBytes);
  for (let index = 0; index < count; index += 1) generators.set(group.oneAffine, index * pointBytes);
  return group.batchApplyKey(generators, first, ratio, 'affine', 'affine');
}

/** Writes sections one after another, each as `id (u32) | size (u64) | bytes`, after the `ptau` file header. */
class SectionWriter {
  private position = 0;

  private constructor(private readonly handle: FileHandle) {}

  static async create(handle: FileHandle, sectionCount: number): Promise<SectionWriter> {
    const writer = new SectionWriter(handle);
    const head = Buffer.alloc(12);
    head.write('ptau', 0, 'latin1');
    head.writeUInt32LE(1, 4); // format version
    head.writeUInt32LE(sectionCount, 8);
    await writer.append(head);
    return writer;
  }

  /** One whole section whose parts are written in order; `size` must be their total length. */
  async section(id: SectionId, size: number, parts: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    const head = Buffer.alloc(12);
    head.writeUInt32LE(id, 0);
    head.writeBigUInt64LE(BigInt(size), 4);
    await this.append(head);
    let written = 0;
    for await (const part of parts) {
      await this.append(part);
      written += part.length;
    }
    if (written !== size) throw new Error(`ptau section ${id}: wrote ${written} bytes, announced ${size}`);
  }

  private async append(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, this.position + done);
      done += bytesWritten;
    }
    this.position += bytes.length;
  }
}

/** Little-endian bytes of a non-negative integer, `length` long. */
function littleEndian(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let rest = value;
  for (let index = 0; index < length; index += 1) {
    out[index] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/**
 * Writes a prepared development ptau of `power` to `path` (which must not be read by anyone until it is complete:
 * callers write to a temporary name and rename). `secrets` default to fresh random ones; they are not kept.
 */
export async function writeDevPtau(
  path: string,
  power: number,
  options: { secrets?: DevPtauSecrets; onProgress?: DevPtauProgress } = {},
): Promise<void> {
  const curve = (await snarkjs.curves.getCurveFromName('bn128')) as unknown as Bn254;
  const { Fr, G1, G2 } = curve;
  const secrets = options.secrets ?? freshDevPtauSecrets(curve.r);
  const tau = Fr.e(secrets.tau);
  const alpha = Fr.e(secrets.alpha);
  const beta = Fr.e(secrets.beta);
  const n = 2 ** power;

  // Points per Lagrange section (levels 0..power); the tauG1 one has level power + 1 as well (2n more points).
  const lagrangePoints = 2 * n - 1;
  // Every point computed, for the progress fraction: tauG1, tauG2, alphaTauG1, betaTauG1, betaG2, then the four
  // Lagrange sections.
  const total = 2 * n - 1 + 3 * n + 1 + (lagrangePoints + 2 * n) + 3 * lagrangePoints;
  let done = 0;
  const advance = (section: string, points: number): void => {
    done += points;
    options.onProgress?.(section, Math.min(1, done / total));
  };

  const handle = await open(path, 'w', 0o644);
  try {
    const writer = await SectionWriter.create(handle, 11);
    const header = new Uint8Array(4 + 32 + 8);
    const view = new DataView(header.buffer);
    view.setUint32(0, 32, true);
    header.set(littleEndian(curve.q, 32), 4);
    view.setUint32(36, power, true);
    view.setUint32(40, power, true); // ceremony power
    await writer.section(Section.Header, header.length, [header]);

    const tauG1 = await geometricMultiples(G1, Fr.one, tau, 2 * n - 1, G1_AFFINE_BYTES);
    advance('tauG1', 2 * n - 1);
    await writer.section(Section.TauG1, tauG1.length, [tauG1]);
    const tauG2 = await geometricMultiples(G2, Fr.one, tau, n, G2_AFFINE_BYTES);
    advance('tauG2', n);
    await writer.section(Section.TauG2, tauG2.length, [tauG2]);
    const alphaTauG1 = await geometricMultiples(G1, alpha, tau, n, G1_AFFINE_BYTES);
    advance('alphaTauG1', n);
    await writer.section(Section.AlphaTauG1, alphaTauG1.length, [alphaTauG1]);
    const betaTauG1 = await geometricMultiples(G1, beta, tau, n, G1_AFFINE_BYTES);
    advance('betaTauG1', n);
    await writer.section(Section.BetaTauG1, betaTauG1.length, [betaTauG1]);
    const betaG2 = await geometricMultiples(G2, beta, Fr.one, 1, G2_AFFINE_BYTES);
    advance('betaG2', 1);
    await writer.section(Section.BetaG2, betaG2.length, [betaG2]);
    await writer.section(Section.Contributions, 4, [new Uint8Array(4)]); // no contribution record: see the file comment

    // Lagrange sections: level p holds L_i(tau) * G for the domain of size 2^p, that is the inverse FFT of the
    // level's first 2^p monomial scalars (what `prepare phase2` computes over points). The tauG1 section has one more
    // level, the inverse FFT of (tau^0 .. tau^(2n-2), 0), which `zkey new` reads to build the H query.
    const powersOfTau = geometricScalars(Fr, Fr.one, tau, 2 * n);
    powersOfTau.set(Fr.zero, (2 * n - 1) * Fr.n8);
    const lagrangeScalars = async (level: number): Promise<Uint8Array> =>
      Fr.ifft(powersOfTau.slice(0, 2 ** level * Fr.n8));
    const levels = (top: number): number[] => Array.from({ length: top + 1 }, (_, level) => level);

    const lagrangeG1Levels: Uint8Array[] = [];
    async function* lagrangeTauG1(): AsyncGenerator<Uint8Array> {
      for (const level of levels(power + 1)) {
        const points = await multiplesOfGenerator(Fr, G1, await lagrangeScalars(level), G1_AFFINE_BYTES);
        if (level <= power) lagrangeG1Levels.push(points);
        advance('lagrangeTauG1', 2 ** level);
        yield points;
      }
    }
    await writer.section(Section.LagrangeTauG1, (2 * lagrangePoints + 1) * G1_AFFINE_BYTES, lagrangeTauG1());

    async function* lagrangeTauG2(): AsyncGenerator<Uint8Array> {
      for (const level of levels(power)) {
        yield await multiplesOfGenerator(Fr, G2, await lagrangeScalars(level), G2_AFFINE_BYTES);
        advance('lagrangeTauG2', 2 ** level);
      }
    }
    await writer.section(Section.LagrangeTauG2, lagrangePoints * G2_AFFINE_BYTES, lagrangeTauG2());

    // alpha * L_i(tau) * G and beta * L_i(tau) * G: the tauG1 Lagrange points times a constant, one batched call each.
    for (const [id, factor, name] of [
      [Section.LagrangeAlphaTauG1, alpha, 'lagrangeAlphaTauG1'],
      [Section.LagrangeBetaTauG1, beta, 'lagrangeBetaTauG1'],
    ] as const) {
      async function* scaled(): AsyncGenerator<Uint8Array> {
        for (const points of lagrangeG1Levels) {
          yield await G1.batchApplyKey(points, factor, Fr.one, 'affine', 'affine');
          advance(name, points.length / G1_AFFINE_BYTES);
        }
      }
      await writer.section(id, lagrangePoints * G1_AFFINE_BYTES, scaled());
    }
  } finally {
    await handle.close();
  }
}
