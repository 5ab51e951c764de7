#!/usr/bin/env node
/** The zkai CLI's entry (`bin/zkai.mjs` runs its build): one command line, `process.argv`, see `program.ts`. */
import { runZkai } from './program.ts';

await runZkai(process.argv);
