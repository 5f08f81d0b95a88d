// Kernel objects read through the strict virtual layer with the kernel build's type information.

export * from './memory.ts';
export * from './processes.ts';
export * from './cpus.ts';
export * from './mounts.ts';
export * from './modules.ts';
export * from './stack.ts';
export { symbolizer } from './symbolize.ts';
export { objectContext, symbolContext } from './context.ts';
export * from './report.ts';
