/**
 * Write examples/digits/test-set.csv and schema.json from test/fixtures/models/digits-test.json (the 400-image test
 * split of scikit-learn's digits that scripts/make-digits-models.py held out). Run: npx tsx scripts/make-digits-example.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';

const data = JSON.parse(readFileSync('test/fixtures/models/digits-test.json', 'utf8')) as {
  pixels: number[][];
  labels: number[];
};
const header = [...Array.from({ length: 64 }, (_, j) => `p${j}`), 'label'];
const rows = data.pixels.map((pixels, i) => [...pixels, data.labels[i]].join(','));
writeFileSync('examples/digits/test-set.csv', `${[header.join(','), ...rows].join('\n')}\n`);
const schema = {
  name: 'digits-test-set',
  columns: [
    ...Array.from({ length: 64 }, (_, j) => ({ name: `p${j}`, type: 'integer', min: 0, max: 16 })),
    { name: 'label', type: 'integer', min: 0, max: 9 },
  ],
};
writeFileSync('examples/digits/schema.json', `${JSON.stringify(schema, null, 1)}\n`);
