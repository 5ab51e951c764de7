/**
 * One source of truth for a command's options (issue 17). A command is declared once, as a `const` table
 * (`CommandSpec`): its name, description, arguments, options and help text. `addCommand` makes the commander command
 * from that table, and `FlagsOf<typeof SPEC>` is the TypeScript type of the options its action receives, derived from
 * the same table: a flag renamed in the table renames the property, so an action module that still reads the old name
 * (or a flag it reads that no table declares) does not compile.
 *
 * How an option's property is typed from its `flags` (as commander names and fills it):
 * - the long name in camel case (`--vkey-out <file>` is `vkeyOut`; `--no-cache-keys` is `cacheKeys`);
 * - `<value>`: a string; `<value...>`: a string array; `[value]`: a string or `true`; no value: `true`
 *   (`--no-x`: a boolean, true unless given); a `parse` function: what it returns; `choices`: one of them;
 * - present (not optional) when it is `required`, has a `default`, or is a `--no-` option.
 *
 * Light on purpose: this module imports commander and types only, so `zkai --help` stays fast.
 */
import { Option, type Command } from 'commander';
import type { GlobalFlags } from '../output.ts';

/** One option of a command, as declared once. */
export interface OptionSpec {
  /** Commander flags: `--name <value>`, `--name <value...>`, `-s, --name`, `--no-name`. */
  readonly flags: string;
  readonly help: string;
  /** A mandatory option (`requiredOption`). */
  readonly required?: true;
  readonly default?: string;
  readonly choices?: readonly string[];
  /** Accepted but left out of the help. */
  readonly hidden?: true;
  /** Commander's argument parser: the value so far (undefined at first) and the new word. */
  readonly parse?: (value: string, previous: never) => unknown;
}

/** One command, as declared once: what `addCommand` registers and what `FlagsOf` types. */
export interface CommandSpec {
  readonly name: string;
  readonly description: string;
  /** Positional arguments: `['<circuit>', 'circom source file']` (every one required). */
  readonly arguments?: readonly (readonly [name: string, help: string])[];
  /** In help order. */
  readonly options: readonly OptionSpec[];
  /** Text printed after the help. */
  readonly helpAfter?: string;
}

type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;
type LongName<F extends string> = F extends `${string}--${infer Rest}`
  ? Rest extends `${infer Name} ${string}`
    ? Name
    : Rest
  : never;
type Negated<F extends string> = LongName<F> extends `no-${string}` ? true : false;
type KeyOf<F extends string> = LongName<F> extends `no-${infer Name}` ? Camel<Name> : Camel<LongName<F>>;
type ValueOf<S extends OptionSpec> = S extends { parse: (...args: never[]) => infer R }
  ? R
  : S extends { choices: readonly (infer C)[] }
    ? C
    : S['flags'] extends `${string}...${string}`
      ? string[]
      : S['flags'] extends `${string}<${string}>`
        ? string
        : S['flags'] extends `${string}[${string}]`
          ? string | true
          : Negated<S['flags']> extends true
            ? boolean
            : true;
type Present<S extends OptionSpec> = S extends { required: true } | { default: string } ? true : Negated<S['flags']>;

/** The options object commander fills from these option specs (see the module comment for the rules). */
export type OptionsOf<Specs extends readonly OptionSpec[]> = {
  [S in Specs[number] as Present<S> extends true ? KeyOf<S['flags']> : never]: ValueOf<S>;
} & {
  [S in Specs[number] as Present<S> extends true ? never : KeyOf<S['flags']>]?: ValueOf<S>;
};

/** `--O <level>` (the circom simplification level) also reaches the action as `optimization`. */
type Optimization<O> = O extends { O: infer Level } ? { optimization: Level } : unknown;

/** What a command's action receives: its options (typed from its spec) and the global flags. */
export type FlagsOf<S extends CommandSpec> = OptionsOf<S['options']> &
  Optimization<OptionsOf<S['options']>> &
  GlobalFlags;

/** The positional arguments of a command, one string each. */
export type ArgumentsOf<S extends CommandSpec> = S extends {
  arguments: infer A extends readonly (readonly [string, string])[];
}
  ? { -readonly [K in keyof A]: string }
  : [];

/** What a group's `register` needs from the program. */
export interface GroupContext {
  /**
   * The options of `command` merged with the global flags (`--O` also as `optimization`), remembered for the error
   * report.
   */
  flags(command: Command): GlobalFlags;
}

/** Add options to a command, in order, exactly as `.option()` and `.requiredOption()` would. */
export function addOptions(command: Command, options: readonly OptionSpec[]): Command {
  for (const spec of options) {
    const option = new Option(spec.flags, spec.help).makeOptionMandatory(spec.required === true);
    if (spec.parse) option.default(spec.default).argParser(spec.parse as (value: string, previous: unknown) => unknown);
    else if (spec.default !== undefined) option.default(spec.default);
    if (spec.choices) option.choices(spec.choices);
    if (spec.hidden) option.hideHelp();
    command.addOption(option);
  }
  return command;
}

/**
 * Register the command `spec` declares under `parent`. `action` receives the options typed from the same spec (with
 * the global flags) and the positional arguments; it should import its heavy module lazily (`lazy`).
 */
export function addCommand<const S extends CommandSpec>(
  parent: Command,
  spec: S,
  context: GroupContext,
  action: (flags: FlagsOf<S>, ...args: ArgumentsOf<S>) => Promise<void>,
): Command {
  const command = parent.command(spec.name);
  for (const [name, help] of spec.arguments ?? []) command.argument(name, help);
  command.description(spec.description);
  addOptions(command, spec.options);
  if (spec.helpAfter !== undefined) command.addHelpText('after', spec.helpAfter);
  return command.action(async (...received: unknown[]) => {
    const self = received[received.length - 1] as Command;
    await action(context.flags(self) as FlagsOf<S>, ...(received.slice(0, -2) as ArgumentsOf<S>));
  });
}

/** A module loaded once, the first time it is asked for (command modules import snarkjs, ethers, circom...). */
export function lazy<M>(load: () => Promise<M>): () => Promise<M> {
  let loaded: Promise<M> | undefined;
  return () => (loaded ??= load());
}
