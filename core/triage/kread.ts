// The exact-length kernel reads moved to core/crash/kread.ts (one reader for triage and savecore).
export * from '../crash/kread.ts';
