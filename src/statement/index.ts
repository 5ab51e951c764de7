/**
 * Statements: what a proof means, decided by the verifier (see docs/architecture.md, "Statements"). The kinds of
 * statement, the public-signal layout of each derived from what the verifier trusts, the one parser of proof files,
 * and statement files for long-running verifiers.
 */
export * from './statement.ts';
export * from './proof-file.ts';
export * from './statement-file.ts';
