// kernelObjects: processes (with their LWPs), CPUs, mounts, modules and the panicking stack of an
// open dump, typed from the debug kernel; the type information is loaded once per session and path.

import type { OpParsedArgs } from '../../../contract/operations.ts';
import type { KernelObjectsResult, ObjectsEnd } from '../../../contract/results.ts';
import type { TypeInfo } from '../../../core/types/index.ts';
import { TypeInfoError } from '../../../core/types/index.ts';
import {
  listLwps, listCpus, listModules, listMounts, listProcesses, MissingTypeError, objectContext, unwindPanic, type ListEnd,
} from '../../../core/objects/index.ts';
import { NO_TYPES_HINT_APP, typesFor } from '../../session/debug-types.ts';
import { OpFailure } from '../dispatch.ts';
import { type HandlerContext, withSession } from '../context.ts';
import type { Session } from '../sessions.ts';
import { dumpView } from '../../../core/kvm/view.ts';

const typeCache = new WeakMap<Session, Map<string, Promise<{ types: TypeInfo } | { error: string }>>>();

function end(e: ListEnd): ObjectsEnd {
  return e.complete ? { complete: true } : { complete: false, reason: e.reason, address: `0x${e.address.toString(16)}` };
}

export async function kernelObjectsOp(ctx: HandlerContext, a: OpParsedArgs<'kernelObjects'>): Promise<KernelObjectsResult> {
  return withSession(ctx, a.sessionId, async (s) => {
    if (!s.opened.kd.hasHeader) throw new OpFailure('not-found', 'no dump header: there is no memory to read objects from');
    let perSession = typeCache.get(s);
    if (!perSession) typeCache.set(s, (perSession = new Map()));
    const key = a.debugPath ?? '';
    let pending = perSession.get(key);
    if (!pending) perSession.set(key, (pending = typesFor(a.debugPath, s.opened.kernel, NO_TYPES_HINT_APP)));
    const t = await pending;
    if ('error' in t) {
      perSession.delete(key);
      throw new OpFailure('not-found', t.error);
    }
    const typeFormat = t.types.format;
    try {
      const oc = await objectContext(dumpView(s.opened.kd), s.opened.kd.namelistSource ?? s.opened.kd.kernelSource, t.types);
      switch (a.kind) {
        case 'processes': {
          const ps = await listProcesses(oc);
          const processes = [];
          for (const p of ps.items) {
            const l = await listLwps(oc, BigInt(p.address));
            processes.push({ ...p, lwps: l.items, lwpsEnd: end(l.end) });
          }
          return { kind: 'processes', typeFormat, end: end(ps.end), processes };
        }
        case 'cpus': {
          const r = await listCpus(oc);
          return { kind: 'cpus', typeFormat, cpus: r.items, panicCpu: r.panicCpu, end: end(r.end) };
        }
        case 'mounts': {
          const r = await listMounts(oc);
          return { kind: 'mounts', typeFormat, mounts: r.items, shape: r.shape, end: end(r.end) };
        }
        case 'modules': {
          const r = await listModules(oc);
          return { kind: 'modules', typeFormat, modules: r.items, end: end(r.end) };
        }
        case 'stack':
          return { kind: 'stack', typeFormat, backtrace: await unwindPanic(oc) };
      }
    } catch (e) {
      if (e instanceof MissingTypeError || e instanceof TypeInfoError) throw new OpFailure('not-found', e.message);
      if (e instanceof Error && /no kernel symbols/.test(e.message)) throw new OpFailure('not-found', e.message);
      throw e;
    }
  });
}
