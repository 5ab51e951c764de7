import { readFile } from 'node:fs/promises';
import { InputFileError } from '../errors.ts';

/**
 * Read and parse a JSON file, with an error that names the file and the problem.
 * @param what what the file is, for messages ("registry", "model"...)
 * @throws InputFileError when the file cannot be read or is not valid JSON
 */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputFileError(
      path,
      `cannot read the ${what}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputFileError(
      path,
      `the ${what} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
