/**
 * Development generation at 2^16 and above (issue 15, "Powers of tau"): snarkjs's accumulator calls `logger.log`
 * every 100,000 points, so zkai's snarkjs logger must implement every method snarkjs may call.
 */
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNARKJS_LOGGER_METHODS, snarkjsLogger, type ProgressEvent } from '../src/setup/progress.ts';
import { releaseCurves } from '../src/util/curves.ts';

const require = createRequire(import.meta.url);

/** The folder of an installed package (the one holding its package.json), found from its main file. */
async function packageRoot(name: string): Promise<string> {
  let dir = dirname(require.resolve(name));
  for (;;) {
    const manifest = await readFile(join(dir, 'package.json'), 'utf8').then((text) => JSON.parse(text) as { name?: string }, () => undefined);
    if (manifest?.name === name) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json of ${name} above ${require.resolve(name)}`);
    dir = dirname(dir);
  }
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-ptau-trust-'));
});
afterAll(async () => {
  await releaseCurves();
  await rm(scratch, { recursive: true, force: true });
});

describe('development generation at 2^16 and above', () => {
  it('the logger implements every logger method snarkjs and the libraries it runs call', async () => {
    // Every `logger.<method>` in the sources of snarkjs, ffjavascript (curves, FFT, multiexp) and r1csfile.
    const called = new Set<string>();
    for (const pkg of ['snarkjs', 'ffjavascript', 'r1csfile']) {
      const root = join(await packageRoot(pkg), 'src');
      for (const name of await readdir(root, { recursive: true })) {
        if (!name.endsWith('.js')) continue;
        for (const match of (await readFile(join(root, name), 'utf8')).matchAll(/\blogger\.([A-Za-z_]+)\s*\(/g)) called.add(match[1]!);
      }
    }
    expect(called.has('log')).toBe(true); // powersoftau_new.js, every 100,000 points
    expect([...called].filter((method) => !(SNARKJS_LOGGER_METHODS as readonly string[]).includes(method))).toEqual([]);
    // Each method forwards its message as a progress event; errors are also collected.
    const events: ProgressEvent[] = [];
    const errors: string[] = [];
    const logger = snarkjsLogger('ptau:new', (event) => events.push(event), errors) as unknown as Record<string, (message: string) => void>;
    for (const method of called) logger[method]!(`via ${method}`);
    expect(events).toEqual([...called].map((method) => ({ stage: 'ptau:new', message: `via ${method}` })));
    expect(errors).toEqual(called.has('error') ? ['via error'] : []);
    // And without a listener nothing throws.
    const silent = snarkjsLogger('ptau:new', undefined) as unknown as Record<string, (message: string) => void>;
    for (const method of SNARKJS_LOGGER_METHODS) expect(() => silent[method]!('x')).not.toThrow();
  });

  it("survives snarkjs's accumulator at power 16, which calls logger.log every 100,000 points", async () => {
    // newAccumulator is the snarkjs function that logs per 100,000 points; power 16 is the smallest that reaches
    // 100,000 (2^17 - 1 tauG1 points). It only writes generator points (about 1.5 s, 25 MB): no contribution and no
    // phase-2 preparation, which are what make a 2^16 generation take 20 minutes.
    const events: ProgressEvent[] = [];
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    const file = join(scratch, 'accumulator16.ptau');
    await snarkjs.powersOfTau.newAccumulator(curve, 16, file, snarkjsLogger('ptau:new', (event) => events.push(event)));
    expect(events).toContainEqual({ stage: 'ptau:new', message: 'tauG1: 100000' });
    await rm(file, { force: true });
  });
});
