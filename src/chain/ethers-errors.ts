/**
 * Reading ethers errors: the short message without the request dump, and the revert data of a failed call or
 * transaction (where a contract's custom error lives), wherever ethers nested it.
 */
import { isHexString } from 'ethers';
import { describeError } from '../errors.ts';

/** ethers errors carry a `shortMessage` without the long request dump. */
export function shortEthersMessage(error: unknown): string {
  if (error && typeof error === 'object' && 'shortMessage' in error && typeof error.shortMessage === 'string') {
    return error.shortMessage;
  }
  return describeError(error);
}

/** The revert data carried by an ethers error (or one it wraps: `error`, `info`, `info.error`, `cause`), if any. */
export function revertData(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const record = e as Record<string, unknown>;
    const data = record.data;
    if (typeof data === 'string' && isHexString(data) && data.length >= 10) return data;
    queue.push(record.error, record.info, record.cause);
    if (record.info && typeof record.info === 'object') queue.push((record.info as Record<string, unknown>).error);
  }
  return undefined;
}
