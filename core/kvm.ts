// Public entry to the NetBSD-faithful kvm handle.
export { Kvm, type KvmOpenOptions, type InvalWrite } from './kvm/handle.ts';
export type { KvmFault } from './kvm/errbuf.ts';
