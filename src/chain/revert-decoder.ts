/**
 * The one decoder of contract reverts: the custom error an ethers failure carries, parsed with a contract's ABI.
 * Each contract client words the errors its own way (registry-errors.ts, consent.ts); none parses revert data itself.
 */
import type { Interface } from 'ethers';
import { revertData } from './ethers-errors.ts';

/** A contract's custom error, decoded: its name and arguments, in order and by name (unnamed ones as `argN`). */
export interface DecodedRevert {
  readonly name: string;
  readonly args: readonly unknown[];
  readonly named: Readonly<Record<string, unknown>>;
}

/**
 * The custom error `error` (anything ethers threw) carries, when `iface` knows it; undefined for a revert without
 * data, an unknown error selector, or an error that is not a revert.
 */
export function decodeRevert(iface: Interface, error: unknown): DecodedRevert | undefined {
  const data = revertData(error);
  if (!data) return undefined;
  let parsed: ReturnType<Interface['parseError']>;
  try {
    parsed = iface.parseError(data);
  } catch {
    return undefined;
  }
  if (!parsed) return undefined;
  const args = [...parsed.args] as unknown[];
  const named: Record<string, unknown> = {};
  parsed.fragment.inputs.forEach((input, i) => {
    named[input.name || `arg${i}`] = args[i];
  });
  return { name: parsed.name, args, named };
}
