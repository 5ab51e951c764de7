/**
 * One cold off-chain verification in a fresh process: `tsx bench/verify-child.ts <dir>` reads verification_key.json,
 * proof.json and public.json from the folder, times zkai's `verifyProof` (curve build included), and writes
 * `{ verifyMs, valid }` to result.json there.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { releaseCurves } from '../src/util/curves.ts';
import { verifyProof } from '../src/verifier/verify.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: tsx bench/verify-child.ts <dir>');
const read = async (name: string) => JSON.parse(await readFile(join(dir, name), 'utf8')) as unknown;
const [vkey, proof, publicSignals] = await Promise.all([
  read('verification_key.json'),
  read('proof.json'),
  read('public.json'),
]);
const started = performance.now();
const verdict = await verifyProof(vkey, proof, publicSignals);
const verifyMs = performance.now() - started;
await releaseCurves();
await writeFile(join(dir, 'result.json'), JSON.stringify({ verifyMs, valid: verdict.valid }));
