// The contract's public surface, for main, serve mode, tests and (types only) the renderer.
export * from './errors.ts';
export * from './op-names.ts';
export * from './operations.ts';
export type * from './results.ts';
export type { KvmdumpApi } from './client.ts';
export { clientFromCall } from './client.ts';
export * from './values.ts';
