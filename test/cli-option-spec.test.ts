/**
 * The CLI's option tables (src/cli/groups/spec.ts, issue 17): one declaration gives both the commander options and the
 * TypeScript type of a command's options. The type checks below run under `tsc --noEmit` (a wrong derivation does not
 * compile); the runtime checks compare `addCommand` with commander's own `.option()` calls.
 */
import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import type { DataProveFlags } from '../src/cli/groups/data.ts';
import {
  addCommand,
  type ArgumentsOf,
  type FlagsOf,
  type GroupContext,
  type OptionsOf,
} from '../src/cli/groups/spec.ts';
import { COMPILE_OPTIONS } from '../src/cli/groups/shared.ts';
import type { GlobalFlags } from '../src/cli/output.ts';

type Show<T> = { [K in keyof T]: T[K] };
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const SAMPLE = {
  name: 'sample',
  arguments: [
    ['<a>', 'first'],
    ['<b>', 'second'],
  ],
  description: 'a sample command',
  options: [
    { flags: '--vkey-out <file>', help: 'a value', required: true },
    { flags: '--registry <file...>', help: 'several values' },
    { flags: '--force', help: 'a switch' },
    { flags: '--no-cache-keys', help: 'a negated switch' },
    {
      flags: '-i, --input <file>',
      help: 'repeatable',
      parse: (file: string, files: string[] = []) => [...files, file],
    },
    { flags: '--level <n>', help: 'with a default', default: '8' },
    { flags: '--maybe [value]', help: 'an optional value' },
    ...COMPILE_OPTIONS,
  ],
} as const;

// Derived types: a flag renamed in a table renames the property, so code reading the old name does not compile.
const typeChecks: [
  Equal<
    Show<OptionsOf<typeof SAMPLE.options>>,
    {
      vkeyOut: string;
      registry?: string[];
      force?: true;
      cacheKeys: boolean;
      input?: string[];
      level: string;
      maybe?: string | true;
      O: '0' | '1' | '2';
      include?: string[];
    }
  >,
  Equal<
    Show<FlagsOf<typeof SAMPLE>>,
    Show<OptionsOf<typeof SAMPLE.options> & { optimization: '0' | '1' | '2' } & GlobalFlags>
  >,
  Equal<ArgumentsOf<typeof SAMPLE>, [string, string]>,
  Equal<
    Pick<DataProveFlags, 'subtreesPerChunk' | 'forceViolating' | 'registry'>,
    { subtreesPerChunk: string; forceViolating?: true; registry?: string[] }
  >,
] = [true, true, true, true];
// @ts-expect-error the option is --vkey-out: there is no vkey_out
export const renamed = (flags: DataProveFlags) => flags.vkey_out;

describe('CLI option tables', () => {
  it('type their options as commander fills them', () => {
    expect(typeChecks.every(Boolean)).toBe(true);
  });

  it('make the same options, help and values as .option() calls', async () => {
    const received: unknown[] = [];
    const context: GroupContext = { flags: (command) => command.opts() };
    const fromTable = new Command('zkai').exitOverride();
    addCommand(fromTable, SAMPLE, context, async (flags, a, b) => {
      received.push(flags, a, b);
    });
    const byHand = new Command('zkai').exitOverride();
    byHand
      .command('sample')
      .argument('<a>', 'first')
      .argument('<b>', 'second')
      .description('a sample command')
      .requiredOption('--vkey-out <file>', 'a value')
      .option('--registry <file...>', 'several values')
      .option('--force', 'a switch')
      .option('--no-cache-keys', 'a negated switch')
      .option('-i, --input <file>', 'repeatable', (file: string, files: string[] = []) => [...files, file])
      .option('--level <n>', 'with a default', '8')
      .option('--maybe [value]', 'an optional value')
      .addOption(new Option('--O <level>', 'circom simplification level').choices(['0', '1', '2']).default('2'))
      .option('-l, --include <dir...>', 'extra include folders (circomlib is always included)');
    const help = (program: Command) => program.commands[0]!.helpInformation();
    expect(help(fromTable)).toBe(help(byHand));
    await fromTable.parseAsync([
      'node',
      'zkai',
      'sample',
      'x',
      'y',
      '--vkey-out',
      'v.json',
      '-i',
      'a.json',
      '-i',
      'b.json',
      '--no-cache-keys',
      '--maybe',
    ]);
    expect(received).toEqual([
      { vkeyOut: 'v.json', input: ['a.json', 'b.json'], cacheKeys: false, level: '8', maybe: true, O: '2' },
      'x',
      'y',
    ]);
  });
});
