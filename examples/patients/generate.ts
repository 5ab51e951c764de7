/**
 * Deterministic synthetic patient records matching `examples/patients/schema.json`.
 *
 *   npx tsx examples/patients/generate.ts N out.csv [seed]
 *
 * The same N and seed always give the same bytes. The clean data has every age >= 18 and every `name` empty (null):
 * names are a stripped identifier. `examples/patients/patients.csv` is `generate.ts 64 patients.csv` (default seed).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../../src/util/atomic-fs.ts';

export const DEFAULT_SEED = 20240601;

const COLUMNS = ['patient_id', 'age', 'consent_type', 'diagnosis_code', 'bmi', 'admitted', 'name'];
const CONSENT: ReadonlyArray<[value: string, weight: number]> = [['research', 0.55], ['treatment', 0.35], ['none', 0.1]];
const DIAGNOSES = ['E11.9', 'I10', 'J45.909', 'F32.9', 'M54.5', 'K21.9', 'N39.0', 'C50.919'];
const FIRST_ADMISSION_MS = Date.UTC(2021, 0, 1);
const ADMISSION_DAYS = 4 * 365 + 1; // 2021-01-01 .. 2024-12-31
const DAY_MS = 86_400_000;

/** mulberry32: a small, fast, seeded 32-bit PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickWeighted(random: () => number, options: ReadonlyArray<[string, number]>): string {
  let r = random();
  for (const [value, weight] of options) {
    if (r < weight) return value;
    r -= weight;
  }
  return options[options.length - 1]![0];
}

/** The CSV text (header + `count` rows, LF line ends) for `count` synthetic patients. */
export function generatePatientsCsv(count: number, seed: number = DEFAULT_SEED): string {
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`the row count must be a non-negative integer, got ${count}`);
  const random = mulberry32(seed);
  const lines = [COLUMNS.join(',')];
  for (let i = 0; i < count; i++) {
    const id = `P${String(i + 1).padStart(5, '0')}`;
    const age = 18 + Math.floor(((random() + random()) / 2) * 78); // 18..95, peaked in the middle
    const consent = pickWeighted(random, CONSENT);
    const diagnosis = DIAGNOSES[Math.floor(random() * DIAGNOSES.length)]!;
    const bmiTenths = 160 + Math.round(((random() + random() + random()) / 3) * 290); // 16.0..45.0
    const bmi = `${Math.floor(bmiTenths / 10)}.${bmiTenths % 10}`;
    const admitted = new Date(FIRST_ADMISSION_MS + Math.floor(random() * ADMISSION_DAYS) * DAY_MS).toISOString().slice(0, 10);
    lines.push([id, age, consent, diagnosis, bmi, admitted, ''].join(','));
  }
  return `${lines.join('\n')}\n`;
}

async function main(args: string[]): Promise<void> {
  const [countText, out, seedText] = args;
  if (countText === undefined || out === undefined || !/^\d+$/.test(countText) || (seedText !== undefined && !/^\d+$/.test(seedText))) {
    console.error('usage: npx tsx examples/patients/generate.ts N out.csv [seed]');
    process.exitCode = 2;
    return;
  }
  const seed = seedText === undefined ? DEFAULT_SEED : Number(seedText);
  await writeFileAtomic(resolve(out), generatePatientsCsv(Number(countText), seed));
  console.log(`wrote ${countText} patients to ${out} (seed ${seed})`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
