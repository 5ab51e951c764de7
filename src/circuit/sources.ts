import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve, isAbsolute } from 'node:path';
import { createRequire } from 'node:module';
import { CompileError, InputFileError } from '../errors.ts';

/** One circom source file reached from the main file through `include`. */
export interface SourceFile {
  path: string;
  content: string;
}

/** The folder holding `circomlib/`, so that `include "circomlib/circuits/poseidon.circom"` resolves. */
export function defaultIncludePaths(): string[] {
  const require = createRequire(import.meta.url);
  const circomlibDir = dirname(require.resolve('circomlib/package.json'));
  return [dirname(circomlibDir), join(circomlibDir, 'circuits')];
}

const INCLUDE_PATTERN = /^\s*include\s+"([^"]+)"\s*;/gm;

/** Resolve an include the way circom does: relative to the including file first, then each `-l` path in order. */
function resolveInclude(name: string, fromFile: string, includePaths: readonly string[]): string | undefined {
  const candidates = isAbsolute(name)
    ? [name]
    : [join(dirname(fromFile), name), ...includePaths.map((dir) => join(dir, name))];
  return candidates.find((candidate) => existsSync(candidate));
}

/**
 * Collect the main file and every file it includes, transitively, in a stable order. The list is what the
 * content-addressed cache key is computed from, so a change in any included template gives a new key.
 */
export async function collectSources(mainFile: string, includePaths: readonly string[]): Promise<SourceFile[]> {
  const root = resolve(mainFile);
  if (!existsSync(root)) throw new InputFileError(root, 'circuit source not found');
  const seen = new Map<string, string>();
  const order: string[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const file = pending.shift() as string;
    if (seen.has(file)) continue;
    const content = await readFile(file, 'utf8');
    seen.set(file, content);
    order.push(file);
    for (const match of content.matchAll(INCLUDE_PATTERN)) {
      const name = match[1] as string;
      const found = resolveInclude(name, file, includePaths);
      if (!found) {
        throw new CompileError(
          `${file}: include "${name}" not found (looked next to the file and in: ${includePaths.join(', ')})`,
        );
      }
      pending.push(resolve(found));
    }
  }
  return order.map((path) => ({ path, content: seen.get(path) as string }));
}
