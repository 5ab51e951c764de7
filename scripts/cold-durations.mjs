// Write test/cold-durations.json (the test files' order, see test/sequencer.ts) from the output of a cold run, whose
// default reporter prints each file's whole time, hooks included ("✓ test/x.test.ts (N tests) 1234ms"; the JSON
// report's times leave out beforeAll hooks):
//   node scripts/cold-durations.mjs ci-run.log "fresh-clone .ci/run of DATE at COMMIT"
import { readFileSync, writeFileSync } from 'node:fs';

const [logPath, measured] = process.argv.slice(2);
if (!logPath || !measured) {
  console.error('usage: node scripts/cold-durations.mjs RUN.log "which run this was"');
  process.exit(2);
}
const line = /^ [✓❯×] (test\/\S+\.test\.ts) \(\d+ tests?[^)]*\) (\d+)ms/;
const files = readFileSync(logPath, 'utf8')
  .split('\n')
  .map((text) => line.exec(text))
  .filter((match) => match !== null)
  .map((match) => [match[1], Math.round(Number(match[2]) / 1000)])
  .sort((a, b) => b[1] - a[1]);
if (files.length === 0) {
  console.error(`${logPath} holds no line of vitest's default reporter naming a test file and its time`);
  process.exit(1);
}
const out = new URL('../test/cold-durations.json', import.meta.url);
writeFileSync(out, `${JSON.stringify({ measured, seconds: Object.fromEntries(files) }, null, 2)}\n`);
console.log(`wrote ${files.length} files' durations to test/cold-durations.json`);
