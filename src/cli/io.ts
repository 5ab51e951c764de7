import { InputFileError } from '../errors.ts';

/** Read and parse a JSON file (re-exported for the CLI). */
export { readJsonFile } from '../util/json-file.ts';

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
