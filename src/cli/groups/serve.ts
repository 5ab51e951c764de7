/**
 * `zkai serve`: its options, declared once (`spec.ts`); the action (`../serve-command.ts`, the HTTP service) loads
 * when it runs.
 */
import type { Command } from 'commander';
import { addCommand, lazy, type CommandSpec, type FlagsOf, type GroupContext } from './spec.ts';

export const SERVE = {
  name: 'serve',
  description:
    'HTTP verification service: POST /v1/verify, GET /v1/circuits, GET /v1/attestations (with --rpc and --deployment), GET /health, GET /openapi.json',
  options: [
    { flags: '--port <n>', help: 'port to listen on (0: any free port)', default: '8080' },
    { flags: '--host <address>', help: 'address to listen on', default: '127.0.0.1' },
    {
      flags: '--vkey <file...>',
      help: 'verification key files, or folders of them, whose circuits the service knows by their key alone (pairing verdicts, no decoded claim)',
    },
    {
      flags: '--statement <file...>',
      help: 'statement files: a verification key and what you trust it proves (schema + policy, model + fractional bits, task); the service decodes and pins those circuits\' claims. Kind "dataset-private-chunks" (schema, policy, fanIn; no key: the three keys come from the cache) lets it verify private chunked proofs',
    },
    { flags: '--no-cache-keys', help: 'do not load the keys of the cache (--cache-dir)' },
    {
      flags: '--allow-unknown-keys',
      help: "answer a request whose verification key the service does not know (not its cache's, a --vkey or --statement file's, nor the chain registry's) with a pairing verdict instead of refusing it (UNTRUSTED_KEY)",
    },
    { flags: '--rpc <url>', help: 'JSON-RPC URL of the chain to read attestations from (with --deployment)' },
    { flags: '--deployment <file>', help: 'the zkai deployment file on that chain (zkai chain deploy writes it)' },
    { flags: '--body-limit <bytes>', help: 'largest request body accepted', default: String(1024 * 1024) },
    { flags: '--workers <n>', help: 'verifier worker threads (default: the core count, at most 4)' },
    {
      flags: '--timeout <ms>',
      help: 'longest a verification may take, queueing included (0: no limit)',
      default: '10000',
    },
    { flags: '--max-chunks <n>', help: 'most chunk proofs one verify request may carry', default: '2048' },
    {
      flags: '--verify-deadline <ms>',
      help: 'longest one verify request may keep the verifiers busy',
      default: '60000',
    },
    {
      flags: '--log-level <level>',
      help: 'pino log level on stdout: fatal, error, warn, info, debug (default info; warn with --quiet)',
    },
  ],
} as const satisfies CommandSpec;
/** Options of `zkai serve`, with the global flags. */
export type ServeFlags = FlagsOf<typeof SERVE>;

const action = lazy(() => import('../serve-command.ts'));

/** Register `zkai serve` on the program. */
export function register(program: Command, context: GroupContext): void {
  addCommand(program, SERVE, context, async (flags) => (await action()).serveCommand(flags));
}
