import { readFile } from 'node:fs/promises';
import { InputFileError } from '../errors.ts';

/** Read and parse a JSON file, with an error that names the file and the problem. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputFileError(path, `cannot read the ${what}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputFileError(path, `the ${what} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Parse `--expect NAME_OR_INDEX=VALUE` options into a claims object. */
export function parseExpectations(values: readonly string[]): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const entry of values) {
    const match = /^([A-Za-z0-9_]+)=(\d+)$/.exec(entry);
    if (!match) throw new InputFileError('--expect', `"${entry}" is not of the form INDEX_OR_NAME=DECIMAL_VALUE`);
    claims[match[1] as string] = match[2] as string;
  }
  return claims;
}
