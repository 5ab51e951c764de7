/** `zkai doctor`, declared once (`spec.ts`); the checks (`../doctor.ts`) load when it runs. */
import type { Command } from 'commander';
import { addCommand, lazy, type CommandSpec, type FlagsOf, type GroupContext } from './spec.ts';

export const DOCTOR = {
  name: 'doctor',
  description:
    'check Node, the cache folder (size, cached ptau powers, circuits, keys), circom, solc, anvil, memory and cores; says what to do about each problem (exit code 1 if a check fails)',
  options: [],
} as const satisfies CommandSpec;
/** `zkai doctor` has the global flags only. */
export type DoctorFlags = FlagsOf<typeof DOCTOR>;

const action = lazy(() => import('../doctor.ts'));

/** Register `zkai doctor` on the program. */
export function register(program: Command, context: GroupContext): void {
  addCommand(program, DOCTOR, context, async (flags) => (await action()).doctorCommand(flags));
}
