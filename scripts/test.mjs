// `npm test`: the static checks (scripts/check.mjs: type check, lint, format) and the vitest suite at the same time.
// The checks run at a lower priority, so they take the cores the tests leave idle (tests often wait on a child
// process, anvil or a worker) instead of delaying them; one after another, the checks added 31 s to every cold run.
// Arguments go to `vitest run`. The checks' report is printed when they end, and again in one line at the very end;
// the exit code is non-zero when either part failed. SIGINT and SIGTERM reach both parts.
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';

const here = (path) => new URL(path, import.meta.url).pathname;

/** Runs `command args`, resolving to its exit code (1 when it was killed or could not start). */
function run(command, args, options) {
  const child = spawn(command, args, options);
  const done = new Promise((resolve) => {
    child.on('error', (error) => {
      console.error(`npm test: could not start ${command}: ${error.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
  return { child, done };
}

const checks = run(process.execPath, [here('./check.mjs')], { stdio: ['ignore', 'pipe', 'pipe'] });
try {
  if (checks.child.pid !== undefined) setPriority(checks.child.pid, 10);
} catch {
  // Not allowed to change priorities here: the checks simply compete with the tests.
}
let checkOutput = '';
checks.child.stdout.on('data', (chunk) => (checkOutput += chunk));
checks.child.stderr.on('data', (chunk) => (checkOutput += chunk));
let checksEnded = false;
const checkCode = checks.done.then((code) => {
  checksEnded = true;
  process.stdout.write(`\n${checkOutput}`);
  return code;
});

const tests = run(process.execPath, [here('../node_modules/vitest/vitest.mjs'), 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    checks.child.kill(signal);
    tests.child.kill(signal);
  });
}

const testsExit = await tests.done;
const checksEndedFirst = checksEnded;
const checksExit = await checkCode;
// The checks' report scrolled away under the tests' output: repeat its verdict as the last line.
if (checksEndedFirst) {
  const lastLine = checkOutput.trim().split('\n').at(-1) ?? '';
  console.log(`npm test: ${checksExit === 0 ? lastLine : 'the static checks FAILED (see their report above)'}`);
}
process.exitCode = checksExit !== 0 || testsExit !== 0 ? 1 : 0;
