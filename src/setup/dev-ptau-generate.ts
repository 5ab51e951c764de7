/**
 * Writes a development powers-of-tau file directly from secrets drawn on this machine, in the exact format of
 * snarkjs's `powersoftau new` + one contribution + `prepare phase2` (the sections `zkey new` reads are
 * byte-compatible; test/dev-ptau-generate.test.ts checks them against snarkjs's own `prepare phase2`).
 *
 * Why not snarkjs's three steps: `prepare phase2` turns each section into Lagrange form with an inverse FFT over
 * curve points, one scalar multiplication per butterfly, which takes about 5 minutes for 2^14 on 2 cores. When the
 * secret tau is known, every point of the file is a known scalar times a generator: the Lagrange scalars come from an
 * inverse FFT over the scalar field (milliseconds) and each point is a fixed-base multiplication (`fixed-base.ts`, at
 * most 32 additions from a table of the generator's multiples). The trust is the
 * same as snarkjs's single-party path, where one process also holds tau in memory: DEVELOPMENT-ONLY either way.
 *
 * What the file does not hold: a contribution record (section 7 says 0 contributions), because no ceremony took
 * place; `snarkjs powersoftau verify` therefore refuses it, as it should for a file nobody can audit.
 */
import { randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import * as snarkjs from 'snarkjs';
import { createFixedBaseMultiplier, type FixedBaseGroup } from './fixed-base.ts';

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

/** Every scalar of `scalars` times `factor`. */
function scaledScalars(Fr: ScalarField, scalars: Uint8Array, factor: Uint8Array): Uint8Array {
  const out = new Uint8Array(scalars.length);
  for (let offset = 0; offset < scalars.length; offset += Fr.n8)
    out.set(Fr.mul(scalars.subarray(offset, offset + Fr.n8), factor), offset);
  return out;
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
  const { Fr } = curve;
  const multiplier = await createFixedBaseMultiplier();
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
  /** `generator * first * ratio^i` for i < count. */
  const geometric = (group: FixedBaseGroup, first: Uint8Array, ratio: Uint8Array, count: number): Uint8Array =>
    multiplier.multiplyGenerator(group, geometricScalars(Fr, first, ratio, count));

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

    const monomials = [
      [Section.TauG1, 'tauG1', 'G1', Fr.one, tau, 2 * n - 1],
      [Section.TauG2, 'tauG2', 'G2', Fr.one, tau, n],
      [Section.AlphaTauG1, 'alphaTauG1', 'G1', alpha, tau, n],
      [Section.BetaTauG1, 'betaTauG1', 'G1', beta, tau, n],
      [Section.BetaG2, 'betaG2', 'G2', beta, Fr.one, 1],
    ] as const;
    for (const [id, name, group, first, ratio, count] of monomials) {
      const points = geometric(group, first, ratio, count);
      advance(name, count);
      await writer.section(id, points.length, [points]);
    }
    await writer.section(Section.Contributions, 4, [new Uint8Array(4)]); // no contribution record: see the file comment

    // Lagrange sections: level p holds L_i(tau) * G for the domain of size 2^p, that is the inverse FFT of the
    // level's first 2^p monomial scalars (what `prepare phase2` computes over points). The tauG1 section has one more
    // level, the inverse FFT of (tau^0 .. tau^(2n-2), 0), which `zkey new` reads to build the H query.
    const powersOfTau = geometricScalars(Fr, Fr.one, tau, 2 * n);
    powersOfTau.set(Fr.zero, (2 * n - 1) * Fr.n8);
    const lagrangeScalars: Uint8Array[] = [];
    for (let level = 0; level <= power + 1; level += 1)
      lagrangeScalars.push(await Fr.ifft(powersOfTau.slice(0, 2 ** level * Fr.n8)));

    const lagrangeSections = [
      [Section.LagrangeTauG1, 'lagrangeTauG1', 'G1', Fr.one, power + 1],
      [Section.LagrangeTauG2, 'lagrangeTauG2', 'G2', Fr.one, power],
      [Section.LagrangeAlphaTauG1, 'lagrangeAlphaTauG1', 'G1', alpha, power],
      [Section.LagrangeBetaTauG1, 'lagrangeBetaTauG1', 'G1', beta, power],
    ] as const;
    for (const [id, name, group, factor, top] of lagrangeSections) {
      const pointBytes = group === 'G1' ? G1_AFFINE_BYTES : G2_AFFINE_BYTES;
      const count = 2 ** (top + 1) - 1;
      function* levels(): Generator<Uint8Array> {
        for (const scalars of lagrangeScalars.slice(0, top + 1)) {
          const scaled = factor === Fr.one ? scalars : scaledScalars(Fr, scalars, factor);
          yield multiplier.multiplyGenerator(group, scaled);
          advance(name, scalars.length / Fr.n8);
        }
      }
      await writer.section(id, count * pointBytes, levels());
    }
  } finally {
    await handle.close();
  }
}
