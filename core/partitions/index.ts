// Partition maps (MBR, GPT, NetBSD disklabel) and finding the dump cpu_dumpconf put in them.
export * from './types.ts';
export { readPartitionMap, findPartition, describe as describePartition } from './read-map.ts';
export { WindowSource } from './window-source.ts';
export { locateDumps, locateInRange, dumpPartitions, type LocatedDump, type LocateOptions, type LocateResult } from './locate.ts';
export { inspectDump, type DumpDetails, type DumpState } from './inspect.ts';
export { GPT_TYPES, guidText, guidBytes } from './gpt.ts';
export { DISKMAGIC, FS_SWAP, FS_BSDFFS, fstypeName } from './disklabel.ts';
export { dumpSummary, sizeText } from './summary.ts';
