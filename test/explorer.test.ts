/**
 * The attestation explorer page (src/service/public/) in a real headless browser: Debian's chromium driven by
 * playwright-core (which never downloads a browser), against the real service on 127.0.0.1 with real proofs and a real
 * anvil holding real attestations. Without /usr/bin/chromium this file fails and says how to install it, unless
 * ZKAI_SKIP_BROWSER=1 (then it is skipped, visibly).
 */
import { accuracyStatement } from '../src/statement/index.ts';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { verificationKeyId, type Groth16VerificationKey } from '../src/chain/groth16-template.ts';
import { randomNonce, RegistryClient } from '../src/chain/registry.ts';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { createBundle } from '../src/data/bundle.ts';
import { proveDataset, type DatasetProof } from '../src/data/dataset-proof.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { parsePolicy } from '../src/policy/policy.ts';
import { parseSchema } from '../src/data/schema.ts';
import { proveAccuracy, type AccuracyProof } from '../src/model/accuracy.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { createVerificationServer } from '../src/service/index.ts';
import { releaseCurves } from '../src/util/curves.ts';
import {
  attestedChain,
  tinyModel,
  tinyTestSet,
  TINY_TEST_SCHEMA,
  type AttestedChain,
} from './helpers/chain-attestation.ts';
import { getDemoFixture, type DemoFixture } from './helpers/fixture.ts';

/** Debian's chromium; ZKAI_CHROMIUM names another chromium binary (and lets the missing-browser paths be tried). */
const CHROMIUM = process.env.ZKAI_CHROMIUM || '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SKIP = !HAVE_CHROMIUM && process.env.ZKAI_SKIP_BROWSER === '1';
const MISSING_CHROMIUM =
  `the explorer page test needs Debian's chromium at ${CHROMIUM}, and it is not there. Install it with ` +
  '`sudo apt-get update && sudo apt-get install -y chromium` (.ci/run does this when run as root), ' +
  'or set ZKAI_SKIP_BROWSER=1 to skip the browser test.';
const SCREENSHOT_DIR = fileURLToPath(new URL('../.cache/', import.meta.url));

/** Wait for a page state: the machine may be loaded (2 shared cores), so allow far more than vitest's 1 s default. */
const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 60_000, interval: 50 });

if (SKIP) console.warn(`SKIPPED test/explorer.test.ts: ZKAI_SKIP_BROWSER=1 and no chromium at ${CHROMIUM}`);

if (SKIP) {
  describe('the explorer page in a real browser', () => {
    it.skip(`is skipped: ZKAI_SKIP_BROWSER=1 and no chromium at ${CHROMIUM}`, () => {});
  });
} else if (!HAVE_CHROMIUM) {
  describe('the explorer page in a real browser', () => {
    it(`needs Debian's chromium at ${CHROMIUM} (or ZKAI_SKIP_BROWSER=1)`, () => {
      throw new Error(MISSING_CHROMIUM);
    });
  });
}

describe.runIf(HAVE_CHROMIUM)('the explorer page in a real browser', () => {
  let demo: DemoFixture;
  let demoId: string;
  let dir: string;
  let pool: ProverPool;
  let chain: AttestedChain;
  /** The tiny model's accuracy on five labelled records (4 right), as `zkai model accuracy` writes it; attested too. */
  let accuracyFile: AccuracyProof;
  let accuracyUid: string;
  /** A dataset policy proof file as `zkai data prove` writes it (two adults). */
  let datasetFile: DatasetProof;
  /** Its circuit's verification key (the bare service does not know it). */
  let datasetVkey: unknown;
  let app: FastifyInstance;
  /** Knows the demo key from a file and has no chain. */
  let bare: FastifyInstance;
  let url: string;
  let bareUrl: string;
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zkai-explorer-'));
    demo = await getDemoFixture();
    demoId = verificationKeyId(demo.vkey as unknown as Groth16VerificationKey);
    const vkeyPath = join(dir, 'demo.vkey.json');
    await writeFile(vkeyPath, JSON.stringify(demo.vkey));
    pool = new ProverPool();
    // The same dataset, schema and policy as test/service.test.ts, so the compiled circuit and its key are shared.
    const schema = parseSchema({
      name: 'service-test',
      subjectId: 'id',
      columns: [
        { name: 'id', type: 'string', maxBytes: 16 },
        { name: 'age', type: 'integer', min: 0, max: 120 },
      ],
    });
    const policy = parsePolicy({ name: 'adults only', rules: [{ field: 'age', op: 'GTE', value: 18 }] }, schema);
    const bundle = createBundle(
      schema,
      [
        { id: 'p-1', age: 34 },
        { id: 'p-2', age: 51 },
      ].map((cells, i) => encodeRecord(schema, cells, i + 2)),
    );
    const {
      prepared: datasetCircuit,
      report: _report,
      ...published
    } = await proveDataset(bundle, schema, policy, { pool });
    datasetFile = JSON.parse(JSON.stringify(published)) as DatasetProof;
    datasetVkey = datasetCircuit.keys.vkey;
    chain = await attestedChain(pool);
    // An accuracy attestation of the same model version (the registry records `correct` of `total`).
    const registry = await RegistryClient.at(chain.deployment.registry, chain.chain.signer);
    const alice = registry.connect(await chain.chain.provider.getSigner(1));
    const testSet = tinyTestSet();
    const nonce = randomNonce();
    const { prepared, ...accuracy } = await proveAccuracy(tinyModel().quantized, testSet, TINY_TEST_SCHEMA, {
      label: 'label',
      samplesPerChunk: 2,
      pool,
      context: await registry.contextFor(nonce, chain.attester),
    });
    accuracyFile = JSON.parse(JSON.stringify(accuracy)) as AccuracyProof;
    const { circuit } = await registry.registerCircuit({
      zkeyPath: prepared.keys.zkeyPath,
      statement: accuracyStatement(undefined, accuracy.task, { weights: 'fixed', samplesPerChunk: 2 }),
    });
    const testSetVersion = (await alice.registerDataset('explorer-test-set', testSet.commitment)).version;
    accuracyUid = (
      await alice.attestAccuracy(
        { circuit, subject: chain.modelVersion, nonce },
        testSetVersion,
        accuracy.chunks,
        accuracy.correct,
      )
    ).uid;
    app = await createVerificationServer({
      cacheDir: resolveCacheDir(),
      chain: { rpcUrl: chain.chain.rpcUrl, deploymentPath: chain.deploymentPath },
      verifier: { workers: 1 },
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    bare = await createVerificationServer({ keys: [vkeyPath], verifier: { workers: 1 } });
    bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

    const profile = join(dir, 'chromium-profile');
    await mkdir(profile);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
      deviceScaleFactor: 1,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.goto(`${url}/`);
    await page
      .locator('#circuits-table')
      .waitFor()
      .catch((error: unknown) => {
        throw new Error(
          `the page did not list the circuits (script errors: ${JSON.stringify(pageErrors)}; console errors: ${JSON.stringify(consoleErrors)})`,
          { cause: error },
        );
      });
  }, 900_000);

  afterAll(async () => {
    await context?.close();
    await app?.close();
    await bare?.close();
    await pool?.close();
    await chain?.close();
    await releaseCurves();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function verifyText(text: string): Promise<{ title: string; detail: string }> {
    await page.locator('#clear-button').click();
    await page.locator('#proof-input').fill(text);
    await page.locator('#verify-button').click();
    await poll(() => page.locator('#verify-button').isDisabled()).toBe(false);
    await page.locator('#verdict').waitFor({ state: 'visible' });
    return {
      title: (await page.locator('#verdict-title').textContent()) ?? '',
      detail: (await page.locator('#verdict-detail').textContent()) ?? '',
    };
  }

  it('serves the page, its script and style from the service, lists the known circuits and the service state', async () => {
    expect(await page.title()).toBe('zkai attestation explorer');
    await poll(() => page.locator('#service-status').textContent()).toMatch(
      /known circuits?; it reads attestations from the registry/,
    );
    const rows = page.locator('#circuits-table tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(2);
    const ids = await page.locator('#circuits-table code.id').allTextContents();
    expect(ids).toContain(demoId);
    expect(ids).toContain(chain.circuit);
    // The circuit picker holds the same circuits.
    const options = await page
      .locator('#circuit-select option')
      .evaluateAll((nodes) => nodes.map((n) => (n as unknown as { value: string }).value));
    expect(options).toContain(demoId);
  });

  it('shows "Valid" and the decoded claims of a proof file as `zkai model prove` writes it', async () => {
    const file = chain.kept.proof;
    const { title, detail } = await verifyText(JSON.stringify(file, null, 2));
    expect(title).toBe('Valid');
    expect(detail).toMatch(/proof verifies/);
    expect(await page.locator('#verdict').getAttribute('class')).toMatch(/\bvalid\b/);
    const claim = (name: string) =>
      page.locator(`#verdict-body table.claims tr[data-signal="${name}"] code.value`).textContent();
    expect(await claim('class')).toBe(String(file.predicted));
    expect(await claim('modelHash')).toBe(file.model.hash);
    expect(await claim('inputHash')).toBe(file.inputHash);
    // Each signal comes with its meaning, and the headline says what is claimed.
    expect(await page.locator('#verdict-body table.claims tr[data-signal="class"]').textContent()).toMatch(
      /the class the model predicts/,
    );
    expect(await page.locator('#claims-headline').textContent()).toMatch(
      new RegExp(`predicts class ${file.predicted}`),
    );
    expect(await page.locator('#verify-live').textContent()).toBe('Valid');
  });

  it('takes a screenshot in which the verdict is shown', async () => {
    const verdict = page.locator('#verdict-title');
    expect(await verdict.isVisible()).toBe(true);
    const box = await verdict.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.width).toBeGreaterThan(50);
    expect(box!.height).toBeGreaterThan(20);
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const path = join(SCREENSHOT_DIR, 'explorer-valid.png');
    const png = await page.screenshot({ path, fullPage: true });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
    // Where the verdict is on the page (page coordinates, as in a full-page screenshot).
    const rect = await verdict.evaluate((node) => {
      const r = node.getBoundingClientRect();
      const view = globalThis as unknown as { scrollX: number; scrollY: number };
      return { x: r.left + view.scrollX, y: r.top + view.scrollY, width: r.width, height: r.height };
    });
    // Decode the screenshot in the browser itself and count the verdict's green there: the word "Valid" is drawn
    // white on green (#116329), so the box must be mostly green with some white text pixels.
    const decoder = await context.newPage();
    try {
      const counts = await decoder.evaluate(
        async ({ data, rect }) => {
          // The test is typed without the DOM library: the browser's globals, loosely.
          const browser = globalThis as any;
          const image = new browser.Image();
          image.src = `data:image/png;base64,${data}`;
          await image.decode();
          const canvas = browser.document.createElement('canvas');
          canvas.width = image.width;
          canvas.height = image.height;
          const g = canvas.getContext('2d');
          g.drawImage(image, 0, 0);
          const pixels: Uint8ClampedArray = g.getImageData(
            Math.round(rect.x),
            Math.round(rect.y),
            Math.max(1, Math.round(rect.width)),
            Math.max(1, Math.round(rect.height)),
          ).data;
          let green = 0;
          let white = 0;
          for (let i = 0; i < pixels.length; i += 4) {
            const [r, gr, b] = [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!];
            if (Math.abs(r - 0x11) < 12 && Math.abs(gr - 0x63) < 12 && Math.abs(b - 0x29) < 12) green += 1;
            if (r > 230 && gr > 230 && b > 230) white += 1;
          }
          return { green, white, total: pixels.length / 4, width: Number(image.width), height: Number(image.height) };
        },
        { data: png.toString('base64'), rect },
      );
      expect(counts.width).toBe(1280);
      expect(counts.height).toBeGreaterThan(900);
      expect(counts.green / counts.total).toBeGreaterThan(0.5);
      expect(counts.white).toBeGreaterThan(50);
    } finally {
      await decoder.close();
    }
  });

  it('shows "Invalid" with the reason for a tampered proof file', async () => {
    const file = structuredClone(chain.kept.proof);
    // Another class, in the signals and in what the file states: only the pairing check can tell.
    const other = 1 - file.predicted;
    file.predicted = other;
    file.publicSignals[1] = String(other);
    const { title, detail } = await verifyText(JSON.stringify(file));
    expect(title).toBe('Invalid: invalid-proof');
    expect(detail).toMatch(/pairing check failed/);
    expect(await page.locator('#verdict').getAttribute('class')).toMatch(/\binvalid\b/);
    // It still says what the proof claims.
    expect(await page.locator('#verdict-body table.claims tr[data-signal="class"] code.value').textContent()).toBe(
      String(other),
    );
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'explorer-invalid.png'), fullPage: true });
  });

  it('names the mismatched claim of a file that states another class than it proves', async () => {
    const { title } = await verifyText(
      JSON.stringify({ ...chain.kept.proof, predicted: 1 - chain.kept.proof.predicted }),
    );
    expect(title).toBe('Invalid: claim-mismatch');
    const row = await page.locator('#verdict-body table.mismatches tbody tr').first().textContent();
    expect(row).toMatch(/Predicted class/);
  });

  it('verifies a bare snarkjs proof with public signals from files and a circuit picked in the list', async () => {
    await page.locator('#clear-button').click();
    await page.locator('#proof-file').setInputFiles([
      { name: 'proof.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(demo.proof)) },
      { name: 'public.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(demo.publicSignals)) },
    ]);
    await poll(() => page.locator('#file-status').textContent()).toMatch(
      /proof\.json: proof; public\.json: public signals/,
    );
    await page.locator(`#circuits-table tr:has(code.id:text-is("${demoId}")) button`).click();
    expect(await page.locator('#circuit-select').inputValue()).toBe(demoId);
    await page.locator('#verify-button').click();
    await poll(() => page.locator('#verdict-title').textContent()).toBe('Valid');
    expect(await page.locator('#verdict-body table.claims tr[data-signal="low"] code.value').textContent()).toBe('18');
    expect(await page.locator('#claims-headline').textContent()).toMatch(/lies in \[18, 99\]/);

    // The same proof with a tampered signal.
    const tampered = [...demo.publicSignals];
    tampered[2] = '100';
    await page.locator('#signals-input').fill(JSON.stringify(tampered));
    await page.locator('#verify-button').click();
    await poll(() => page.locator('#verdict-title').textContent()).toBe('Invalid: invalid-proof');
  });

  it('shows the dataset root, record count and policy hash a dataset proof file proves', async () => {
    const { title } = await verifyText(JSON.stringify(datasetFile));
    expect(title).toBe('Valid');
    const row = (name: string) => page.locator(`#verdict-body table.claims tr[data-signal="${name}"]`);
    expect(await row('root').locator('code.value').textContent()).toBe(datasetFile.commitment.root);
    expect(await row('root').textContent()).toMatch(/Dataset root.*Merkle root of the committed dataset/);
    expect(await row('count').locator('code.value').textContent()).toBe('2');
    expect(await row('policyHash').locator('code.value').textContent()).toBe(datasetFile.policy.hash);
    expect(await page.locator('#claims-headline').textContent()).toMatch(
      /^A dataset of 2 records with root .* satisfies the policy/,
    );
    // A file that states another count is refused with the claim named.
    const lying = await verifyText(
      JSON.stringify({ ...datasetFile, commitment: { ...datasetFile.commitment, count: 3 } }),
    );
    expect(lying.title).toBe('Invalid: claim-mismatch');
    expect(await page.locator('#verdict-body table.mismatches tbody tr').first().textContent()).toMatch(
      /Record count32/,
    );
  });

  it('verifies an accuracy proof file chunk by chunk and adds up the correct predictions', async () => {
    const { title } = await verifyText(JSON.stringify(accuracyFile));
    expect(title).toBe('Valid');
    expect(accuracyFile.correct).toBe(4);
    expect(await page.locator('#accuracy-summary [data-claim="correct"]').textContent()).toBe('4');
    expect(await page.locator('#accuracy-summary [data-claim="accuracy"]').textContent()).toBe('80.0%');
    expect(await page.locator('#verdict-body details.chunk summary').allTextContents()).toEqual([
      'Chunk 0: valid',
      'Chunk 1: valid',
      'Chunk 2: valid',
    ]);
    expect(await page.locator('#verdict-body .note').textContent()).toMatch(/zkai model verify/);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'explorer-accuracy.png'), fullPage: true });
    // The same chunks with the file's total edited (4 records: 4 of 4 would read as 100%), or one chunk repeated: refused.
    expect((await verifyText(JSON.stringify({ ...accuracyFile, count: 4 }))).title).toBe('Invalid: claim-mismatch');
    expect(await page.locator('#accuracy-summary').count()).toBe(0);
    const repeated = { ...accuracyFile, chunks: [0, 1, 2].map((index) => ({ ...accuracyFile.chunks[0]!, index })) };
    expect((await verifyText(JSON.stringify(repeated))).title).toBe('Invalid: claim-mismatch');
  });

  it('takes a proof file dropped on the proof box', async () => {
    await page.locator('#clear-button').click();
    const text = JSON.stringify(chain.kept.proof);
    // A real drop event carrying a File, as a file manager's drag and drop delivers it.
    const dataTransfer = await page.evaluateHandle((content) => {
      const browser = globalThis as any;
      const transfer = new browser.DataTransfer();
      transfer.items.add(new browser.File([content], 'inference-proof.json', { type: 'application/json' }));
      return transfer;
    }, text);
    await page.locator('#drop-zone').dispatchEvent('drop', { dataTransfer });
    await poll(() => page.locator('#file-status').textContent()).toBe(
      'Read inference-proof.json: zkai-inference-proof-v1.',
    );
    expect(JSON.parse(await page.locator('#proof-input').inputValue())).toEqual(chain.kept.proof);
    await page.locator('#verify-button').click();
    await poll(() => page.locator('#verdict-title').textContent()).toBe('Valid');
  });

  it('says what is wrong with input it cannot send, and shows a refused request with its fields', async () => {
    expect((await verifyText('{"pi_a": [')).title).toBe('Not checked');
    expect(await page.locator('#verdict-detail').textContent()).toMatch(/not JSON/);
    expect((await verifyText(JSON.stringify(demo.publicSignals))).detail).toMatch(/looks like public signals/);
    // A bare proof without a circuit: the service's 400 names the field.
    await page.locator('#clear-button').click();
    await page.locator('#proof-input').fill(JSON.stringify(demo.proof));
    await page.locator('#signals-input').fill(JSON.stringify(demo.publicSignals));
    await page.locator('#verify-button').click();
    await poll(() => page.locator('#verdict-title').textContent()).toBe('Not checked');
    expect(await page.locator('#verdict-body .fields').textContent()).toMatch(/\/circuit/);
  });

  it('never renders text from a proof file or the server as HTML', async () => {
    const hostile = {
      ...chain.kept.proof,
      circuitId: '<img src=x onerror="window.__owned=1"><b id="injected">bold</b>',
    };
    const { title, detail } = await verifyText(JSON.stringify(hostile));
    expect(title).toBe('Not checked');
    expect(detail).toMatch(/HTTP 404, UNKNOWN_CIRCUIT/);
    // The service's 404 quotes the circuit id: it is shown as the text it is.
    expect(await page.locator('#verdict-body .message').textContent()).toContain(
      '<img src=x onerror="window.__owned=1"><b id="injected">bold</b>',
    );
    expect(await page.locator('#injected').count()).toBe(0);
    expect(await page.locator('#verdict img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __owned?: number }).__owned)).toBeUndefined();
  });

  it('lists the attestations of a model version with time, attester, kind, status and result', async () => {
    await page.locator('#subject-input').fill(chain.modelVersion);
    await page.locator('#attestations-button').click();
    const rows = page.locator('#attestations-table > tbody > tr[data-uid]');
    await poll(() => rows.count()).toBe(3);
    const kept = page.locator(`#attestations-table > tbody > tr[data-uid="${chain.kept.uid}"]`);
    const revoked = page.locator(`#attestations-table > tbody > tr[data-uid="${chain.revoked.uid}"]`);
    expect(await kept.locator('.badge').textContent()).toBe('valid');
    expect(await revoked.locator('.badge').textContent()).toBe('revoked');
    expect((await kept.locator('td').nth(1).textContent())?.toLowerCase()).toBe(chain.attester.toLowerCase());
    expect(await kept.locator('td').nth(2).textContent()).toBe('model inference');
    expect(await kept.locator('td').nth(4).textContent()).toBe(`class ${chain.kept.proof.predicted}`);
    expect(Date.parse((await kept.locator('time').getAttribute('datetime')) ?? '')).toBeGreaterThan(0);
    expect(await page.locator('#attestations-result .summary-line').textContent()).toMatch(
      new RegExp(`3 attestations on chain ${chain.deployment.chainId}`),
    );
    // The accuracy attestation, with the result the registry recorded.
    const accuracy = page.locator(`#attestations-table > tbody > tr[data-uid="${accuracyUid}"]`);
    expect(await accuracy.locator('td').nth(2).textContent()).toBe('model accuracy');
    expect(await accuracy.locator('td').nth(4).textContent()).toBe('accuracy 4 of 5 (80.0%)');
    // The details hold the claims and the revoking transaction.
    const details = page.locator(`#attestations-table tr[data-details-of="${chain.revoked.uid}"]`);
    await details.locator('summary').click();
    expect(await details.locator('.attestation-details').textContent()).toMatch(/Revoked by0x[0-9a-f]{64}/);
    expect(await details.locator('table.claims tr[data-signal="class"] code.value').textContent()).toBe(
      String(chain.revoked.proof.predicted),
    );
    await page.locator('#attestations-heading').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'explorer-attestations.png'), fullPage: true });

    // By attester, and a malformed subject refused with the field named.
    await page.locator('#subject-input').fill('');
    await page.locator('#attester-input').fill(chain.deployment.owner);
    await page.locator('#attestations-button').click();
    await poll(() => page.locator('#attestations-result .summary-line').textContent()).toMatch(/^0 attestations/);
    await page.locator('#attester-input').fill('');
    await page.locator('#subject-input').fill('my-dataset');
    await page.locator('#attestations-button').click();
    await poll(() => page.locator('#attestations-result .fields').textContent()).toMatch(/\/subject/);
  });

  it('says clearly when the service has no chain configured', async () => {
    const other = await context.newPage();
    try {
      await other.goto(`${bareUrl}/`);
      await other.locator('#circuits-table').waitFor();
      await poll(() => other.locator('#service-status').textContent()).toMatch(
        /1 known circuit; it has no chain configured/,
      );
      await other.locator('#attestations-button').click();
      await other.locator('#no-chain').waitFor();
      expect(await other.locator('#no-chain').textContent()).toMatch(
        /No chain is configured.*--rpc URL --deployment FILE/s,
      );
    } finally {
      await other.close();
    }
  });

  it('says when a verdict is a pairing check only, and shows a relabelled proof file refused', async () => {
    const other = await context.newPage();
    try {
      // The bare service knows the demo key from a file alone: it cannot say what the signals mean.
      await other.goto(`${bareUrl}/`);
      await other.locator('#circuits-table').waitFor();
      await other.locator('#proof-input').fill(JSON.stringify(demo.proof));
      await other.locator('#signals-input').fill(JSON.stringify(demo.publicSignals));
      await other.locator('#circuit-select').selectOption(demoId);
      await other.locator('#verify-button').click();
      await poll(() => other.locator('#verdict-title').textContent()).toBe('Valid pairing, claims not checked');
      expect(await other.locator('#verdict-detail').textContent()).toMatch(
        /knows the circuit only by its verification key/,
      );
      expect(await other.locator('#claims-not-decoded').textContent()).toMatch(
        /does not know what this circuit's signals mean/,
      );
      expect(await other.locator('#verdict').getAttribute('class')).toBe('verdict unchecked');

      // A verification key the service does not know, pasted with the proof: refused (UNTRUSTED_KEY), no verdict.
      await other.locator('#circuit-select').selectOption('');
      await other.locator('#vkey-details summary').click();
      expect(await other.locator('#vkey-help').textContent()).toMatch(/any other key is refused \(UNTRUSTED_KEY\)/);
      await other.locator('#vkey-input').fill(JSON.stringify(datasetVkey));
      await other.locator('#verify-button').click();
      await poll(() => other.locator('#verdict-detail').textContent()).toMatch(
        /refused the request \(HTTP 403, UNTRUSTED_KEY\)/,
      );
      expect(await other.locator('#verdict-title').textContent()).toBe('Not checked');
      expect(await other.locator('#verdict-body').textContent()).toMatch(
        /does not know the verification key 0x[0-9a-f]{64}.*--allow-unknown-keys/s,
      );
      expect(await other.locator('#verdict').getAttribute('class')).toBe('verdict unchecked');
    } finally {
      await other.close();
    }
    // A dataset proof file whose signal names were edited (count and context swapped) is refused, the field named.
    const relabelled = { ...datasetFile, signalNames: ['root', 'context', 'policyHash', 'schemaHash', 'count'] };
    expect((await verifyText(JSON.stringify(relabelled))).title).toBe('Not checked');
    expect(await page.locator('#verdict-body .fields').textContent()).toMatch(/\/signalNames.*disagree with circuit/);
  });

  it('labels every form control and announces the verdict', async () => {
    const unlabelled = await page.evaluate(() => {
      const browser = globalThis as any;
      return Array.from(browser.document.querySelectorAll('input, textarea, select') as ArrayLike<any>)
        .filter((control) => control.labels.length === 0 && !control.getAttribute('aria-label'))
        .map((control) => String(control.id));
    });
    expect(unlabelled).toEqual([]);
    expect(await page.locator('#verify-live').getAttribute('aria-live')).toBe('polite');
    expect(await page.locator('#verify-live').getAttribute('role')).toBe('status');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
  });

  it('asked nothing of any host but the service, and raised no script error', () => {
    const foreign = requests.filter(
      (r) => !r.startsWith(`${url}/`) && !r.startsWith(`${bareUrl}/`) && !r.startsWith('data:'),
    );
    expect(foreign).toEqual([]);
    expect(requests).toContain(`${url}/app.js`);
    expect(requests).toContain(`${url}/style.css`);
    expect(pageErrors).toEqual([]);
    // Answers such as 400 or 404 are reported by chromium as failed loads; nothing else (no CSP refusal) is expected.
    expect(
      consoleErrors.filter(
        (text) => !/Failed to load resource: the server responded with a status of (400|404|503)/.test(text),
      ),
    ).toEqual([]);
  });
});
