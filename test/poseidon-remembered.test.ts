import { describe, expect, it } from 'vitest';
import { poseidonSponge, poseidonSpongeRemembered } from '../src/crypto/poseidon.ts';
import { modelCommitment, modelHash } from '../src/model/circuit-gen.ts';
import { parseNativeModel } from '../src/model/native.ts';
import { linearLayers, quantizeModel } from '../src/model/quantize.ts';

/** A small dense model (negative weights and biases included) in zkai's native format. */
function smallModel() {
  return quantizeModel(
    parseNativeModel({
      format: 'zkai-model-v1',
      name: 'remembered',
      input: { size: 3, min: -2, max: 2 },
      layers: [
        {
          type: 'dense',
          weights: [
            [0.5, -0.25, 1],
            [-1, 0.75, 0.125],
          ],
          bias: [-0.5, 0.25],
        },
        { type: 'argmax' },
      ],
    }),
    6,
  );
}

describe('remembered Poseidon sponge (model hashes are not recomputed at every proof)', () => {
  it('gives the sponge of the elements, again when asked again, and another hash when one element differs', () => {
    const elements = Array.from({ length: 40 }, (_, i) => BigInt(i * 7919 + 1));
    const expected = poseidonSponge(elements);
    expect(poseidonSpongeRemembered(elements)).toBe(expected);
    expect(poseidonSpongeRemembered([...elements])).toBe(expected);
    const changed = [...elements];
    changed[39] = changed[39]! + 1n;
    expect(poseidonSpongeRemembered(changed)).toBe(poseidonSponge(changed));
    expect(poseidonSpongeRemembered(changed)).not.toBe(expected);
    // [1, 23] and [12, 3] join differently ("1,23" / "12,3"), so they are remembered apart
    expect(poseidonSpongeRemembered([1n, 23n])).toBe(poseidonSponge([1n, 23n]));
    expect(poseidonSpongeRemembered([12n, 3n])).toBe(poseidonSponge([12n, 3n]));
  });

  it('still gives the right hash after more lists than it remembers', () => {
    const first = [5n, 6n, 7n];
    const hash = poseidonSpongeRemembered(first);
    for (let i = 0; i < 70; i += 1) poseidonSpongeRemembered([BigInt(i), 99n]);
    expect(poseidonSpongeRemembered(first)).toBe(hash);
  });

  it('a model whose weight changes in place after hashing gets the new hash, not the remembered one', () => {
    const model = smallModel();
    const before = modelHash(model);
    const commitmentBefore = modelCommitment(model, 11n);
    expect(modelHash(model)).toBe(before);
    const layer = linearLayers(model)[0]!;
    layer.params[0] = layer.params[0]! + 1n;
    const after = modelHash(model);
    expect(after).not.toBe(before);
    expect(modelCommitment(model, 11n)).not.toBe(commitmentBefore);
    layer.params[0] = layer.params[0]! - 1n;
    expect(modelHash(model)).toBe(before);
    expect(modelCommitment(model, 11n)).toBe(commitmentBefore);
  });
});
