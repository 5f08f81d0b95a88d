// Public entry to the NetBSD-faithful kvm handle.
export { Kvm, type KvmOpenOptions, type InvalWrite } from './kvm/handle.ts';
export { dumpView } from './kvm/view.ts';
export type { KvmFault } from './kvm/errbuf.ts';
