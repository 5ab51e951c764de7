#!/usr/bin/env node
// Runs the CLI built in dist/ (`npm run build`, run by `npm install` in the repository and before `npm pack`) in this
// process: no TypeScript loader, no second Node. When there is no build, or a file of src/ is newer than it (you are
// editing zkai), or ZKAI_FROM_SOURCE=1, it runs the TypeScript sources through tsx (a runtime dependency) instead, in a
// child process: SIGINT, SIGTERM and SIGHUP sent to this process are passed on to it (tsx passes them on to the CLI's
// own process), so killing `zkai` ends its work instead of leaving it running; this process then ends the way the CLI
// did (its exit code, or the same signal).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUILT_CLI, buildIsCurrent } from './build-state.mjs';

if (process.env.ZKAI_FROM_SOURCE !== '1' && buildIsCurrent()) {
  await import(pathToFileURL(BUILT_CLI).href);
} else {
  runSources();
}

function runSources() {
  const require = createRequire(import.meta.url);
  const tsxCli = require.resolve('tsx/cli');
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'];

  const child = spawn(process.execPath, [tsxCli, main, ...process.argv.slice(2)], { stdio: 'inherit' });
  const forwarders = FORWARDED.map((signal) => {
    const forward = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    process.on(signal, forward);
    return [signal, forward];
  });
  child.on('error', (error) => {
    process.stderr.write(`zkai: could not start the CLI (${error.message})\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const [name, forward] of forwarders) process.off(name, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
