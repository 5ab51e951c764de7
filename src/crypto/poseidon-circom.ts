/**
 * The circom side of the Poseidon sponge of poseidon.ts: the same chunks, so a circuit's sponge and
 * `poseidonSponge` agree on every input.
 */
import { spongeChunks } from './poseidon.ts';

/** Emit a Poseidon sponge over the given element expressions; returns the expression of its output. */
export function emitSponge(
  line: (text?: string) => void,
  prefix: string,
  elements: readonly string[],
): { out: string; calls: number } {
  // The same chunks as poseidonSponge: the first 16 elements, then [previous output, next 15]...
  const chunks = spongeChunks(elements.length).map((chunk) => chunk.map((index) => elements[index] as string));
  let acc = '';
  chunks.forEach((chunk, call) => {
    const inputs = call === 0 ? chunk : [acc, ...chunk];
    const component = `${prefix}${call}`;
    line(`component ${component} = Poseidon(${inputs.length});`);
    inputs.forEach((element, i) => line(`${component}.inputs[${i}] <== ${element};`));
    acc = `${component}.out`;
  });
  return { out: acc, calls: chunks.length };
}
