// Write test/cold-durations.json (the test files' order, see test/sequencer.ts) from a vitest JSON report of a cold
// run: node scripts/cold-durations.mjs .cache/vitest-report.json "fresh-clone .ci/run of DATE at COMMIT"
import { readFileSync, writeFileSync } from 'node:fs';

const [reportPath, measured] = process.argv.slice(2);
if (!reportPath || !measured) {
  console.error('usage: node scripts/cold-durations.mjs REPORT.json "which run this was"');
  process.exit(2);
}
const report = JSON.parse(readFileSync(reportPath, 'utf8'));
const files = report.testResults
  // Paths from the repository's test/ folder on, whichever clone made the report.
  .map((file) => [
    file.name.slice(file.name.lastIndexOf('/test/') + 1),
    Math.round((file.endTime - file.startTime) / 1000),
  ])
  .sort((a, b) => b[1] - a[1]);
const out = new URL('../test/cold-durations.json', import.meta.url);
writeFileSync(out, `${JSON.stringify({ measured, seconds: Object.fromEntries(files) }, null, 2)}\n`);
console.log(`wrote ${files.length} files' durations to test/cold-durations.json`);
