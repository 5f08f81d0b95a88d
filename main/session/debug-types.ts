// Type information for an opened dump (--debug netbsd.gdb, or the kernel file's own DWARF), and
// the report sections the triage report and savecore's netbsd.N.report.txt add with it.

import type { DumpSource } from '../../core/source.ts';
import type { Kvm } from '../../core/kvm/handle.ts';
import { loadTypeInfo, TypeInfoError, type TypeInfo } from '../../core/types/index.ts';
import { objectContext, objectsReport, type ObjectContext } from '../../core/objects/index.ts';
import { openSource } from '../sources/node-source.ts';
import { dumpView } from '../../core/kvm/view.ts';

/** The same advice in the app's words. */
export const NO_TYPES_HINT_APP =
  'give the debug kernel netbsd.gdb (written beside netbsd by the same build) in the Debug kernel field';

export const NO_TYPES_HINT =
  'give --debug netbsd.gdb (the debug kernel a NetBSD build writes beside netbsd, from the same build), or a --kernel built with debug information';

/** The type information for a dump: --debug, else the kernel file itself; a sentence when neither has it. */
export async function typesFor(debugPath: string | undefined, kernel: DumpSource | null, hint = NO_TYPES_HINT): Promise<{ types: TypeInfo } | { error: string }> {
  if (debugPath) {
    let src;
    try {
      src = await openSource(debugPath);
    } catch (e) {
      return { error: `${debugPath}: ${(e as Error).message}` };
    }
    try {
      return { types: await loadTypeInfo(src) };
    } catch (e) {
      if (e instanceof TypeInfoError) return { error: `no type information: ${e.message}` };
      throw e;
    } finally {
      await src.close?.();
    }
  }
  if (kernel) {
    try {
      return { types: await loadTypeInfo(kernel) };
    } catch (e) {
      if (!(e instanceof TypeInfoError)) throw e;
    }
  }
  return { error: `no type information: the kernel${kernel ? ' file' : ''} carries no DWARF; ${hint}` };
}


/** The report's object sections for a debug kernel, or one line saying why there are none. */
export async function objectsSectionsFor(debugPath: string, opened: { kd: Kvm; dump: DumpSource; kernel: DumpSource | null }): Promise<{ text: string; json: object }> {
  const t = await typesFor(debugPath, opened.kernel);
  if ('error' in t) return { text: `\nWhat was running: not available: ${t.error}\n`, json: { notAvailable: t.error } };
  let ctx: ObjectContext;
  try {
    ctx = await objectContext(dumpView(opened.kd), opened.kd.namelistSource ?? opened.kd.kernelSource, t.types);
  } catch (e) {
    const why = (e as Error).message;
    return { text: `\nWhat was running: not available: ${why}\n`, json: { notAvailable: why } };
  }
  return objectsReport(ctx);
}
