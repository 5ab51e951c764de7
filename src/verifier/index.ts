export * from './types.ts';
export * from './verify.ts';
