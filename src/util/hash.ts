import { createHash } from 'node:crypto';

/** Hex SHA-256 of a list of parts, each length-prefixed so that part boundaries matter. */
export function sha256Parts(parts: ReadonlyArray<string | Uint8Array>): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}
