/**
 * The order test files start in: longest first, by their measured time in a cold run (test/cold-durations.json), so
 * that the two workers end together instead of one of them running a long file alone at the end (vitest's default
 * order in a fresh clone, where it has no timings yet, is by file size). A file the table does not know yet starts
 * first, as vitest does with unknown files. Refresh the table with `node scripts/cold-durations.mjs RUN.log "which run"`
 * after a `.ci/run`, from its output.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const table = JSON.parse(readFileSync(new URL('./cold-durations.json', import.meta.url), 'utf8')) as {
  seconds: Record<string, number>;
};

export default class ColdDurationSequencer extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const seconds = (file: TestSpecification) =>
      table.seconds[relative(root, file.moduleId).split('\\').join('/')] ?? Number.POSITIVE_INFINITY;
    return Promise.resolve([...files].sort((a, b) => seconds(b) - seconds(a)));
  }
}
