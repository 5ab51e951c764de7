/**
 * No import cycle anywhere in src/ (issue 17: "no import cycle anywhere (enforced)"). Reads every module's value
 * imports and re-exports (`import type` and `export type` do not load a module, so they cannot form a cycle at run
 * time) and looks for strongly connected groups of modules. A cycle found names its modules.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

function modules(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return modules(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The modules a module loads at run time (relative value imports and re-exports). */
function valueImports(path: string): string[] {
  const source = readFileSync(path, 'utf8');
  const found: string[] = [];
  const statement = /^(import|export)\s+(?!type\b)([^;]*?)\s+from\s+['"](\.[^'"]+)['"]|^import\s+['"](\.[^'"]+)['"]/gm;
  for (const match of source.matchAll(statement)) {
    const specifier = match[3] ?? match[4];
    if (!specifier) continue;
    // `import { type A, type B } from` loads nothing either.
    const names = match[2] ?? '';
    if (
      /^\{[^}]*\}$/.test(names.trim()) &&
      names
        .replace(/[{}]/g, '')
        .split(',')
        .every((n) => n.trim() === '' || n.trim().startsWith('type '))
    )
      continue;
    found.push(normalize(join(dirname(path), specifier)));
  }
  return found;
}

/** Strongly connected groups of more than one module (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string) => {
    indexOf.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v);
  return groups;
}

describe('src/ modules', () => {
  it('import one another without a cycle', () => {
    const graph = new Map(modules(SRC).map((path) => [normalize(path), valueImports(path)]));
    expect(graph.size).toBeGreaterThan(50);
    const found = cycles(graph).map((group) => group.map((path) => relative(SRC, path)));
    expect(found, `import cycles: ${found.map((group) => group.join(' <-> ')).join('; ')}`).toEqual([]);
  });

  it('the check finds a cycle when there is one', () => {
    expect(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c']]);
  });
});
