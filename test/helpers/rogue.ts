/**
 * What attack tests share: a circuit with the four public signals of an inclusion proof (root, subjectHash,
 * schemaHash, context) that constrains none of them (its one constraint is on a private input), so its key
 * "verifies" any values of them; and the refusal of a registry call, decoded.
 */
import { expect } from 'vitest';
import { RegistryRevertError } from '../../src/chain/registry-errors.ts';

/** Circom source of a circuit that leaves the four inclusion signals free. */
export const ROGUE_INCLUSION_CIRCUIT = [
  'pragma circom 2.1.0;',
  'template Rogue() {',
  '    signal input root;',
  '    signal input subjectHash;',
  '    signal input schemaHash;',
  '    signal input context;',
  '    signal input x;',
  '    signal square;',
  '    square <== x * x;',
  '}',
  'component main {public [root, subjectHash, schemaHash, context]} = Rogue();',
  '',
].join('\n');

/** The registry's refusal of a call: it must reject with a decoded {@link RegistryRevertError}. */
export async function registryRefusal(promise: Promise<unknown>): Promise<RegistryRevertError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryRevertError);
  return error as RegistryRevertError;
}
