// The savecore job: savecore(8)'s flow (spec 7.3) over a device or image, with the workbench's
// evidence rules on top — read-only until a verified archive exists, crash-safe files, hashes,
// manifest, triage report, audit log, progress and cancellation. Plain Node: used by the CLI, the
// app (events, AbortSignal) and the tests.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { errnoOf, strerror } from '../../../core/errno.ts';
import type { Kvm } from '../../../core/kvm.ts';
import { dumpView } from '../../../core/kvm/view.ts';
import type { DumpSource } from '../../../core/source.ts';
import { scanForDumps, type ScanCandidate } from '../../../core/scan.ts';
import { readPanicMessage, savecoreSyslogLine } from '../../../core/triage/panic.ts';
import { buildTriageReport, formatReportText } from '../../../core/triage/report.ts';
import { objectsSectionsFor } from '../../session/debug-types.ts';
import { namelistFromDump, openDump, OpenError, type OpenedDump } from '../../session/open-dump.ts';
import type { NodeSource } from '../../sources/node-source.ts';
import { openDiskSource } from '../../session/disk-source.ts';
import { openPartition, PartitionError } from '../../disks/partition-source.ts';
import { locateDumps, locateInRange, readPartitionMap, type LocatedDump, type Partition } from '../../../core/partitions/index.ts';
import { AuditLog, bigintAsHex } from './audit.ts';
import { takeBounds } from './bounds.ts';
import {
  checkSpace, compareVersions, crashTime, dumpExists, lookupDumpSymbols, type LogLine, type SpaceCheck, type SymbolLookup,
} from './checks.ts';
import { KSYMS_SYMBOLS, type KsymsAddresses } from '../../../core/ksyms/rebuild.ts';
import { ProgressMeter, type EventSink, type SavecoreEvent } from './events.ts';
import { invalidateDump, type InvalidationResult, type InvalidationSteps } from './invalidate.ts';
import { reconcilePendingManifests } from './reconcile.ts';
import { buildManifest, readBootTime, type DeviceIdentity, type ManifestInput } from './manifest.ts';
import {
  DEFAULT_BLOCK_SIZE, DEFAULT_GZIP_CHUNK, DEFAULT_LEVEL, DEFAULT_PAGE_SIZE, type SavecoreOptions,
} from './options.ts';
import { saveCore, type SaveResult } from './save.ts';
import { existsMessage, firstExisting, ReadBackMismatch, removeStalePartials, writeFileVerified } from './writer.ts';
import { readRegion } from './copy.ts';
import { streamSha256 } from './hash.ts';
import type { Tamper } from './compress.ts';

export type { SavecoreOptions } from './options.ts';
export type { SavecoreEvent } from './events.ts';

export interface SavecoreHooks {
  /** After the core is written and fsynced, before it is read back (tests corrupt it here). */
  beforeVerify?(tempCorePath: string): Promise<void> | void;
  /** After each block of memory is copied (tests cancel mid-copy here). */
  onBlockCopied?(done: number, total: number): void;
  /** After the invalidating write is fsynced, before the manifest records it (tests kill here). */
  afterInvalidate?(): Promise<void> | void;
  /** Wraps the device's read-only source (tests inject EIO, short reads, early EOF). */
  wrapDevice?(src: DumpSource): DumpSource;
  /** -z: damage the n-th gzip member (0-based) on its worker before it is checked (tests: a deflate that went wrong). */
  tamperMember?(n: number): Tamper;
}

export interface SavecoreControl {
  signal?: AbortSignal;
  onEvent?: EventSink;
  hooks?: SavecoreHooks;
}

export type SavecoreStatus =
  | 'saved' // archive written and verified (dump invalidated unless --keep)
  | 'cleared' // -c
  | 'dump-present' // -n with a dump
  | 'no-dump' // nothing to save
  | 'choose-dump' // several dumps found: --dump-offset needed
  | 'refused' // a check or the verification said no
  | 'failed' // I/O or other fatal error
  | 'cancelled';

export interface SavecoreResult {
  exitCode: 0 | 1;
  status: SavecoreStatus;
  /** Everything savecore logged, in order. */
  messages: LogLine[];
  device: string;
  directory: string;
  dumpOffset: number | null;
  /** With a partition: the partition, and the dump header's offset on the whole disk. */
  partition: Partition | null;
  absoluteOffset: number | null;
  candidates: ScanCandidate[] | null;
  bounds: number | null;
  files: { core: string; kernel: string; manifest: string | null; report: string | null } | null;
  save: SaveResult | null;
  invalidation: InvalidationResult | null;
  /** Symbols the dump kernel lacked (required ones make the run fail). */
  missingSymbols: string[];
  panicMessage: string | null;
  crashTime: number | null;
  /** Why the run stopped short (the audit log's refusal reason), when it did. */
  refusal: string | null;
}

class Cancelled extends Error {}

export async function runSavecore(opts: SavecoreOptions, ctl: SavecoreControl = {}): Promise<SavecoreResult> {
  return new SavecoreRun(opts, ctl).run();
}

class SavecoreRun {
  private readonly result: SavecoreResult;
  private readonly audit: AuditLog;
  private readonly emit: EventSink;
  private readonly kernelName: string;
  private readonly pageSize: number;
  private readonly now: number;
  /** The partition of the device that is the dump device: asked for, or where the dump was found. */
  private partition: string | undefined;

  constructor(
    private readonly opts: SavecoreOptions,
    private readonly ctl: SavecoreControl,
  ) {
    this.emit = (e: SavecoreEvent) => ctl.onEvent?.(e);
    this.kernelName = opts.kernel ?? '(null)';
    this.pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    this.now = opts.now ?? Math.floor(Date.now() / 1000);
    this.partition = opts.partition;
    // -n only looks: it leaves no trace in the directory.
    this.audit = AuditLog.inDirectory(opts.directory, !opts.testOnly);
    this.result = {
      exitCode: 1, status: 'failed', messages: [], device: opts.device, directory: opts.directory, dumpOffset: opts.dumpOffset ?? null,
      partition: null, absoluteOffset: null, candidates: null, bounds: null, files: null, save: null, invalidation: null, missingSymbols: [], panicMessage: null, crashTime: null, refusal: null,
    };
  }

  private log(priority: LogLine['priority'], message: string): void {
    this.result.messages.push({ priority, message });
    this.emit({ type: 'log', priority, message });
  }

  private logAll(lines: LogLine[]): void {
    for (const l of lines) this.log(l.priority, l.message);
  }

  private finish(status: SavecoreStatus, exitCode: 0 | 1): SavecoreResult {
    this.result.status = status;
    this.result.exitCode = exitCode;
    this.emit({ type: 'phase', phase: 'done' });
    return this.result;
  }

  private async refuse(status: SavecoreStatus, reason: string, extra: Record<string, unknown> = {}): Promise<SavecoreResult> {
    this.result.refusal = reason;
    await this.audit.append({ action: 'refusal', device: this.opts.device, dumpOffset: this.result.dumpOffset, status, reason, ...extra });
    return this.finish(status, 1);
  }

  /** Why there is no namelist when no kernel file was given (the search's own words). */
  private namelistProblem = 'no kernel file given, and no dump header to search for its symbols';

  private async namelistFromDump(kd: Kvm): Promise<void> {
    this.emit({ type: 'phase', phase: 'symbols' });
    const total = kd.machine?.segments.reduce((n, seg) => n + Number(seg.size), 0) ?? 0;
    const meter = new ProgressMeter(this.emit, 'symbols', total);
    const found = await namelistFromDump(kd, { signal: this.ctl.signal, onProgress: (d) => meter.update(d) });
    if (found.source === 'dump-ksyms') this.log('notice', found.note);
    else this.namelistProblem = found.note ?? this.namelistProblem;
  }

  /** The namelist found in the dump (no -N), for the handle invalidation opens. */
  private dumpNamelist(opened: OpenedDump): DumpSource | null {
    return opened.kernel ? null : opened.kd.namelistSource;
  }

  private checkCancel(): void {
    if (this.ctl.signal?.aborted) throw new Cancelled();
  }

  async run(): Promise<SavecoreResult> {
    try {
      return await this.runChecked();
    } catch (e) {
      if (e instanceof Cancelled || this.ctl.signal?.aborted) {
        this.log('warning', 'cancelled: nothing was saved under a final name and the dump was not invalidated');
        await this.audit.append({ action: 'cancel', device: this.opts.device, dumpOffset: this.result.dumpOffset, bounds: this.result.bounds });
        return this.finish('cancelled', 1);
      }
      throw e;
    }
  }

  private async runChecked(): Promise<SavecoreResult> {
    const o = this.opts;
    // Any run that may write here first settles what an interrupted run left 'pending'.
    if (!o.testOnly) for (const r of await reconcilePendingManifests(o.directory, this.audit)) this.log('warning', r);
    const offset = o.dumpOffset ?? (await this.findDump());
    if (offset === null) return this.result;
    this.result.dumpOffset = offset;
    if (o.verbose) this.emit({ type: 'stdout', text: `dumplo = ${offset} (${Math.floor(offset / 512)} * 512)\n` });

    let opened: OpenedDump;
    try {
      opened = await openDump({
        kernelPath: o.kernel, dumpPath: o.device, partition: this.partition, writable: false, signal: this.ctl.signal, wrapDevice: this.ctl.hooks?.wrapDevice,
      });
    } catch (e) {
      if (!(e instanceof OpenError)) throw e;
      this.log('err', e.message);
      return this.refuse('failed', e.message);
    }
    this.result.partition = opened.partition;
    this.result.absoluteOffset = (opened.partition?.start ?? 0) + offset;
    try {
      return await this.withDump(opened, offset);
    } finally {
      await opened.close();
    }
  }

  /**
   * No --dump-offset: scan the device; exactly one dump header must be found. In a partition, first
   * where cpu_dumpconf puts the dump (its end, or block 8: a few reads), then the whole partition.
   */
  private async findDump(): Promise<number | null> {
    const o = this.opts;
    this.emit({ type: 'phase', phase: 'scan' });
    let src: NodeSource;
    try {
      src = await openDiskSource(o.device, { signal: this.ctl.signal });
    } catch (e) {
      this.log('err', (e as Error).message);
      await this.refuse('failed', (e as Error).message);
      return null;
    }
    let candidates: ScanCandidate[];
    try {
      let scanned: DumpSource = src;
      let located: ScanCandidate | null = null;
      let hit: LocatedDump | null = null;
      if (o.partition === undefined) {
        // A whole disk or image: the dump where cpu_dumpconf put it in a NetBSD swap partition,
        // found in seconds, before any full scan. Exactly one makes that partition the dump device.
        const map = await readPartitionMap(src);
        if (map.partitions.length) {
          const found = await locateDumps(src, map, { signal: this.ctl.signal });
          if (found.dumps.length === 1 && found.dumps[0].partition) {
            const p = found.dumps[0].partition;
            this.partition = p.id;
            hit = found.dumps[0];
            this.log('notice', `the dump is in partition ${p.id}${p.name !== p.id ? ` '${p.name}'` : ''} (${p.typeName}) at dumplo ${found.dumps[0].dumplo}: it is the dump device`);
          } else if (found.dumps.length > 1) {
            for (const d of found.dumps) this.log('warning', `dump in partition ${d.partition?.id} at dumplo ${d.dumplo}: ${d.machine}, ${d.memoryBytes} bytes of memory`);
            this.log('err', `${found.dumps.length} dumps found on ${o.device}; choose one with --partition`);
            await this.refuse('choose-dump', 'several dumps found in the partitions');
            return null;
          }
        }
      }
      if (this.partition !== undefined) {
        const view = await openPartition(src, this.partition);
        scanned = view.source;
        hit ??= await locateInRange(scanned, 0, scanned.size, view.partition, { signal: this.ctl.signal });
        if (hit) {
          located = {
            offset: hit.dumplo * 512, machine: hit.machine, headerSize: hit.headerSize, segments: hit.segments, memoryBytes: hit.memoryBytes,
            complete: true, notes: [`found where cpu_dumpconf puts it (${hit.placement === 'ctod1' ? 'block 8' : 'the end of the partition'})`],
          };
        }
      }
      const meter = new ProgressMeter(this.emit, 'scan', scanned.size);
      candidates = located ? [located] : await scanForDumps(scanned, { signal: this.ctl.signal, onProgress: (d) => meter.update(d) });
    } catch (e) {
      if (this.ctl.signal?.aborted) throw new Cancelled();
      if (e instanceof PartitionError) {
        this.log('err', e.message);
        await this.refuse('failed', e.message);
        return null;
      }
      this.log('err', (e as Error).message);
      await this.refuse('failed', (e as Error).message);
      return null;
    } finally {
      await src.close();
    }
    this.result.candidates = candidates;
    this.emit({ type: 'candidates', candidates });
    await this.audit.append({ action: 'scan', device: o.device, ...(this.partition !== undefined ? { partition: this.partition } : {}), candidates });
    if (candidates.length === 1) return candidates[0].offset;
    if (candidates.length === 0 && (await this.isCoreFile())) return 0; // mkheader then says "already has a dump header"
    if (candidates.length === 0) {
      this.log('warning', 'no core dump');
      await this.refuse('no-dump', 'scan found no dump header');
      return null;
    }
    for (const c of candidates) {
      this.log('warning', `dump header at offset ${c.offset} (dumplo ${c.offset / 512}): ${c.machine}, ${c.memoryBytes} bytes of memory${c.complete ? '' : ' (incomplete)'}`);
    }
    this.log('err', `${candidates.length} dumps found on ${o.device}; choose one with --dump-offset`);
    await this.refuse('choose-dump', 'several dump headers found');
    return null;
  }

  /** Whether the device is a savecore core file (format B, plain or .gz): scanning finds no dump in it. */
  private async isCoreFile(): Promise<boolean> {
    try {
      const opened = await openDump({ kernelPath: this.opts.kernel, dumpPath: this.opts.device, partition: this.partition, writable: false, signal: this.ctl.signal });
      const isCore = opened.kd.hasHeader;
      await opened.close();
      return isCore;
    } catch {
      return false;
    }
  }

  private async withDump(opened: OpenedDump, offset: number): Promise<SavecoreResult> {
    const o = this.opts;
    const { kd } = opened;
    this.emit({ type: 'phase', phase: 'check' });

    // Without -N, savecore would use the running kernel's /dev/ksyms; here the crashed kernel's own
    // ksyms, found in the dump, play that part. That needs translation, so mkheader comes first.
    let hdrsz: number | null = null;
    if (!opened.kernel) {
      hdrsz = await kd.mkheader(offset);
      if (hdrsz > 0) await this.namelistFromDump(kd);
    }
    let syms: SymbolLookup | null = null;
    if (hdrsz === null || hdrsz > 0) {
      syms = await lookupDumpSymbols(dumpView(kd), this.kernelName);
      this.result.missingSymbols = [...(syms.missingRequired ? [syms.missingRequired.slice(1)] : []), ...syms.missingOptional];
      this.logAll(syms.log);
      if (!kd.namelistSource) {
        this.log('err', `${this.namelistProblem}: give -N <kernel>`);
        return this.refuse('refused', `${syms.missingRequired ?? 'namelist'} not in namelist`, { missing: this.result.missingSymbols });
      }
      if (syms.missingRequired) return this.refuse('refused', `${syms.missingRequired} not in namelist`, { missing: this.result.missingSymbols });
    }

    hdrsz ??= await kd.mkheader(offset);
    if (hdrsz === 0) {
      this.log('warning', 'no core dump');
      return this.refuse('no-dump', kd.geterr());
    }
    if (hdrsz < 0) {
      this.log('err', `${this.kernelName}: kvm_dump_mkheader: ${kd.geterr()}`);
      return this.refuse('failed', kd.geterr());
    }

    if (syms === null) throw new Error('internal: dump symbols were not looked up');

    if (o.clear && !o.testOnly) return this.clearOnly(opened, offset);

    // Everything savecore decides from memory reads through the strict layers (built now: after mkheader).
    const view = dumpView(kd);
    const presence = await dumpExists(view, opened.kernel, syms, this.pageSize, Boolean(o.verbose));
    this.logAll(presence.log);
    if (presence.fatal) return this.refuse('failed', 'reference dumpmag unreadable');
    if (!presence.present && !o.force) return this.refuse('no-dump', 'dumpmag mismatch or unreadable', { dumpmag: presence.dumpmag, reference: presence.referenceDumpmag });
    if (o.testOnly) return this.finish('dump-present', 0);

    const versions = await compareVersions(view, opened.kernel, syms, this.kernelName);
    this.logAll(versions.log);
    const panic = await readPanicMessage(view);
    for (const line of msgbufComplaints(panic.reasons)) this.log('warning', line);
    this.result.panicMessage = panic.message;
    const syslog = savecoreSyslogLine(panic);
    this.log('alert', syslog);

    const ct = await crashTime(view, this.now);
    this.logAll(ct.log);
    this.result.crashTime = ct.time;
    let space: SpaceCheck | null = null;
    if (ct.ok) {
      space = await checkSpace(o.directory, o.kernel ?? null, presence.dumpbytes);
      this.logAll(space.log);
      if (space.fatal) return this.refuse('failed', 'statfs failed');
    }
    if (!(ct.ok && space?.ok) && !o.force) {
      return this.refuse('refused', ct.ok ? 'not enough free space' : 'crash time unusable', { crashTime: ct.time });
    }
    this.checkCancel();

    return this.save(opened, offset, hdrsz, {
      presence, versions, panic: { ...panic, syslog }, ct, space, symbols: syms,
    });
  }

  /** -c: invalidate without saving (savecore itself exits 0 whatever kvm_dump_inval says, spec 7.3 step 3). */
  private async clearOnly(opened: OpenedDump, offset: number): Promise<SavecoreResult> {
    this.emit({ type: 'phase', phase: 'invalidate' });
    const inv = await invalidateDump(this.opts.device, this.opts.kernel ?? null, offset, this.dumpNamelist(opened),
      this.invalidationSteps({ device: this.opts.device, ...this.where(offset), reason: '-c' }), this.partition);
    this.result.invalidation = inv;
    if (inv.status !== 'invalidated') this.log('err', `${this.opts.device}: kvm_dump_inval: ${inv.error}`);
    await this.audit.append({ action: 'invalidate', device: this.opts.device, ...this.where(offset), reason: '-c', ...inv });
    // savecore -c exits 0 whatever kvm_dump_inval says (spec 7.3 step 3); we exit 1 when the dump
    // was not cleared, so scripts can tell (docs/deviations.md).
    return this.finish('cleared', inv.status === 'invalidated' ? 0 : 1);
  }

  private async save(
    opened: OpenedDump, offset: number, hdrsz: number,
    facts: {
      presence: Awaited<ReturnType<typeof dumpExists>>;
      versions: Awaited<ReturnType<typeof compareVersions>>;
      panic: ManifestInput['panic'];
      ct: Awaited<ReturnType<typeof crashTime>>;
      space: SpaceCheck | null;
      symbols: SymbolLookup;
    },
  ): Promise<SavecoreResult> {
    const o = this.opts;
    const { kd } = opened;
    const dir = o.directory;
    const stale = await removeStalePartials(dir);
    if (stale.length) await this.audit.append({ action: 'cleanup', device: o.device, removed: stale });

    const { bounds, warnings, rewriteFailed: boundsFailed } = await takeBounds(dir);
    for (const w of warnings) this.log('warning', w);
    this.result.bounds = bounds;
    const gz = o.compress ? '.gz' : '';
    const corePath = join(dir, `netbsd.${bounds}.core${gz}`);
    const kernelPath = join(dir, `netbsd.${bounds}${gz}`);
    const manifestPath = join(dir, `netbsd.${bounds}.manifest.json`);
    const reportPath = join(dir, `netbsd.${bounds}.report.txt`);
    const dumpbytes = facts.presence.dumpbytes;
    const taken = await firstExisting([corePath, kernelPath, manifestPath, reportPath]);
    if (taken) {
      this.log('err', existsMessage(taken)); // savecore would overwrite; evidence is never replaced
      return this.refuse('failed', 'archive name taken', { bounds, existing: taken });
    }

    this.emit({ type: 'phase', phase: 'core' });
    let save: SaveResult;
    try {
      save = await saveCore({
        kd,
        memorySource: opened.compressed ? opened.dump : opened.rawDump,
        deviceName: o.device,
        kernelSource: opened.kernel,
        ksyms: ksymsAddresses(facts.symbols),
        corePath, kernelPath, dumpbytes,
        compress: Boolean(o.compress),
        level: o.level ?? DEFAULT_LEVEL,
        blockSize: o.blockSize ?? DEFAULT_BLOCK_SIZE,
        gzipChunkSize: o.gzipChunkSize ?? DEFAULT_GZIP_CHUNK,
        workers: o.workers,
        signal: this.ctl.signal,
        emit: this.emit,
        log: (l) => this.log(l.priority, l.message),
        beforeVerify: this.ctl.hooks?.beforeVerify,
        onBlockCopied: this.ctl.hooks?.onBlockCopied,
        tamperMember: this.ctl.hooks?.tamperMember,
      });
    } catch (e) {
      if (this.ctl.signal?.aborted || (e as Error).name === 'AbortError') throw new Cancelled();
      this.log('err', `${corePath}: ${(e as Error).message}`);
      return this.refuse('failed', (e as Error).message, { bounds });
    }
    this.result.save = save;
    const base = { device: o.device, ...this.where(offset), memoryOffset: kd.dumpOff, dumpbytes, bounds };
    if (save.coreVerification) {
      await this.audit.append({
        action: 'verify', ...base, ok: save.coreVerification.ok && Boolean(save.kernelVerification?.ok),
        core: save.coreVerification, kernel: save.kernelVerification,
      });
    }
    if (!save.ok) {
      if (save.failure === 'verify') this.log('err', `the dump on ${o.device} was NOT invalidated: the written core does not match it`);
      return this.refuse(save.failure === 'verify' ? 'refused' : 'failed', `save failed (${save.failure})`, { bounds });
    }
    await this.audit.append({ action: 'save', ...base, core: save.core, kernel: save.kernel });

    this.emit({ type: 'phase', phase: 'report' });
    const { report, reportFile, writeFailed: reportFailed } = await this.writeReport(kd, reportPath, offset);

    this.emit({ type: 'phase', phase: 'manifest' });
    const manifestInput: ManifestInput = {
      bounds,
      options: this.recordedOptions(),
      device: identityOf(opened.device, o.device),
      partition: opened.partition,
      kd, dumpOffset: offset, dumpOffsetSource: o.dumpOffset === undefined ? 'scan' : 'option', candidates: this.result.candidates,
      headerSize: hdrsz, dumpsizePages: facts.presence.dumpsizePages ?? 0, pageSize: this.pageSize, dumpbytes,
      dumpmag: facts.presence.dumpmag, referenceDumpmag: facts.presence.referenceDumpmag,
      kernelPath: o.kernel ?? null, kernelVersion: facts.versions.running, dumpVersion: facts.versions.dump, versionMismatch: facts.versions.mismatch,
      panic: facts.panic,
      crashTime: { epoch: facts.ct.time, source: facts.ct.source, ok: facts.ct.ok },
      bootTime: await readBootTime(kd), now: this.now,
      space: facts.space && { spaceFreeKiB: facts.space.spaceFreeKiB, neededKiB: facts.space.neededKiB, minfreeKiB: facts.space.minfreeKiB },
      missingSymbols: this.result.missingSymbols, save, reportFile, report,
      invalidation: o.keep ? { status: 'skipped', offset: null, length: null, error: null } : { status: 'pending' },
      warnings: this.result.messages.filter((m) => m.priority === 'warning').map((m) => m.message),
    };
    // Written before the dump is touched, so an invalidated dump always has a complete archive.
    const manifestFailed = await this.writeManifest(manifestPath, manifestInput);
    this.result.files = { core: corePath, kernel: kernelPath, manifest: manifestFailed ? null : manifestPath, report: reportFile ? reportPath : null };

    // A file that failed fails the run; a core short of the dump (savecore saves those) only stops invalidation.
    const incomplete = incompleteArchive({
      dumpbytes, memoryLength: save.core?.memoryLength ?? 0, segmentBytes: segmentBytesOf(kd),
      failures: [boundsFailed, reportFailed, manifestFailed],
    });
    const filesFailed = [boundsFailed, reportFailed, manifestFailed].some((f) => f !== null);
    if (incomplete && (filesFailed || !o.keep)) {
      const text = `the archive in ${dir} is incomplete (${incomplete}); the dump on ${o.device} was NOT invalidated`;
      this.log('err', text);
      this.result.invalidation = { status: 'skipped', offset: null, length: null, error: incomplete };
      return this.refuse('failed', text, { bounds });
    }

    if (!o.keep) {
      this.checkCancel();
      this.emit({ type: 'phase', phase: 'invalidate' });
      const changed = await this.deviceChanged(opened, save.core!.memoryLength, save.core!.memorySha256);
      const inv = changed
        ? { status: 'failed' as const, offset: null, length: null, error: changed }
        : await invalidateDump(o.device, o.kernel ?? null, offset, this.dumpNamelist(opened), this.invalidationSteps({ ...base, manifest: manifestPath }), this.partition);
      this.result.invalidation = inv;
      if (inv.status !== 'invalidated' && !changed) this.log('err', `${o.device}: kvm_dump_inval: ${inv.error}`);
      await this.audit.append({ action: 'invalidate', ...base, ...inv, memorySha256: save.core!.memorySha256 });
      const rewriteFailed = await this.writeManifest(manifestPath, { ...manifestInput, invalidation: inv });
      if (changed) return this.finish('refused', 1);
      // The dump's fate is in the audit log; the manifest still says 'pending' and the next run reconciles it.
      if (rewriteFailed) return this.finish('failed', 1);
      // Saved, but the dump is still valid although invalidation was asked for: say so in the exit status.
      if (inv.status !== 'invalidated') return this.finish('saved', 1);
    } else {
      this.result.invalidation = { status: 'skipped', offset: null, length: null, error: null };
    }
    return this.finish('saved', 0);
  }

  /** Where the dump is, for the audit log: its offset, and with a partition that partition and the offset on the disk. */
  private where(offset: number): Record<string, unknown> {
    const p = this.result.partition;
    return p ? { partition: p.id, partitionStart: p.start, dumpOffset: offset, absoluteOffset: p.start + offset } : { dumpOffset: offset };
  }

  /** The intent is on disk before the device is touched: a run killed after the write is never silent. */
  private invalidationSteps(what: { device: string; [key: string]: unknown }): InvalidationSteps {
    return {
      beforeWrite: async () => (await this.audit.append({ action: 'invalidate-intent', ...what }))
        ? null
        : `the audit log could not record the intent (${this.audit.failures.at(-1)})`,
      afterWrite: this.ctl.hooks?.afterInvalidate,
    };
  }

  /** Re-read the dump's memory just before invalidating: a dump that changed since it was saved stays. */
  private async deviceChanged(opened: OpenedDump, dumpbytes: number, savedSha256: string): Promise<string | null> {
    const src = opened.compressed ? opened.dump : opened.rawDump;
    const hash = streamSha256();
    const meter = new ProgressMeter(this.emit, 'verify', dumpbytes);
    let done = 0;
    try {
      for await (const block of readRegion(src, opened.kd.dumpOff, dumpbytes, this.opts.blockSize ?? DEFAULT_BLOCK_SIZE, 4, this.ctl.signal)) {
        await hash.update(block);
        meter.update((done += block.length));
      }
    } catch (e) {
      await hash.dispose();
      if (this.ctl.signal?.aborted) throw new Cancelled();
      return this.deviceChangedMessage(`cannot be re-read (${(e as Error).message})`);
    }
    return (await hash.digest()) === savedSha256 ? null : this.deviceChangedMessage('changed since it was read');
  }

  private deviceChangedMessage(what: string): string {
    const text = `the dump on ${this.opts.device} ${what}; NOT invalidated`;
    this.log('err', text);
    return text;
  }

  /**
   * The triage report. A report that cannot be built (the dump's data defeats triage) is a warning
   * and no file; a report that was built but could not be written is an incomplete archive.
   */
  private async writeReport(kd: Kvm, path: string, dumpOffset: number): Promise<{ report: unknown; reportFile: ManifestInput['reportFile']; writeFailed: string | null }> {
    let report;
    let objects: Awaited<ReturnType<typeof objectsSectionsFor>> | null;
    try {
      // The dump header's offset on the device is known here: the report records it.
      report = await buildTriageReport(dumpView(kd), { dumpOffset });
      objects = this.opts.debug ? await objectsSectionsFor(this.opts.debug, { kd, dump: kd.dumpSource, kernel: kd.kernelSource }) : null;
    } catch (e) {
      this.log('warning', `${path}: triage report not written: ${(e as Error).message}`);
      return { report: null, reportFile: null, writeFailed: null };
    }
    const text = formatReportText(report) + (objects?.text ?? '');
    try {
      const sha256 = await writeFileVerified(path, text);
      return {
        report: JSON.parse(JSON.stringify(report, bigintAsHex)),
        reportFile: { name: path.slice(path.lastIndexOf('/') + 1), size: Buffer.byteLength(text, 'utf8'), sha256 },
        writeFailed: null,
      };
    } catch (e) {
      const why = `${path}: ${fileErrorText(e)}`;
      this.log('err', why);
      return { report: null, reportFile: null, writeFailed: why };
    }
  }

  /** Write (or rewrite) the manifest durably and read it back; the failure's text, or null. */
  private async writeManifest(path: string, input: ManifestInput): Promise<string | null> {
    try {
      await writeFileVerified(path, JSON.stringify(buildManifest(input), bigintAsHex, 2) + '\n');
      return null;
    } catch (e) {
      const why = `${path}: ${fileErrorText(e)}`;
      this.log('err', why);
      return why;
    }
  }

  private recordedOptions(): Record<string, unknown> {
    const o = this.opts;
    return {
      clear: Boolean(o.clear), force: Boolean(o.force), testOnly: Boolean(o.testOnly), verbose: Boolean(o.verbose),
      compress: Boolean(o.compress), level: o.level ?? DEFAULT_LEVEL, keep: Boolean(o.keep), kernel: o.kernel ?? null,
      dumpOffset: o.dumpOffset ?? null, partition: this.partition ?? null, now: this.now, pageSize: this.pageSize,
      blockSize: o.blockSize ?? DEFAULT_BLOCK_SIZE, gzipChunkSize: o.compress ? o.gzipChunkSize ?? DEFAULT_GZIP_CHUNK : null,
    };
  }
}

/** check_kmem's own words for a message buffer it gives up on (spec 7.4); other reasons are ours. */
/** The ksyms_* addresses when the dump kernel has them all (savecore requires them; we fall back). */
function ksymsAddresses(syms: SymbolLookup): KsymsAddresses | null {
  const at: Partial<KsymsAddresses> = {};
  for (const name of KSYMS_SYMBOLS) {
    const va = syms.values.get(name);
    if (va === undefined) return null;
    at[name] = va;
  }
  return at as KsymsAddresses;
}

function msgbufComplaints(reasons: string[]): string[] {
  const words = ['msgbuf magic incorrect', "couldn't allocate space for msgbuf data"];
  return reasons.flatMap((r) => words.filter((w) => r.startsWith(w.split(' ').slice(0, 2).join(' '))));
}

function identityOf(src: OpenedDump['rawDump'], path: string): DeviceIdentity {
  const id = (src as Partial<NodeSource>).identity;
  return {
    path, realPath: id?.realPath ?? null, dev: id?.dev ?? null, ino: id?.ino ?? null, rdev: id?.rdev ?? null,
    kind: id?.mode ?? src.kind, size: id?.size ?? src.size,
  };
}

/** strerror for system errors, the message for a read-back mismatch. */
function fileErrorText(e: unknown): string {
  return e instanceof ReadBackMismatch ? e.message : strerror(errnoOf(e));
}

/** Bytes of memory the dump header's segments describe. */
function segmentBytesOf(kd: Kvm): number {
  return (kd.machine?.segments ?? []).reduce((n, seg) => n + Number(seg.size), 0);
}

/**
 * Why an archive may not stand in for the dump, or null when it can: invalidation destroys the
 * original, so every file must be on disk and read back, and the core must hold the whole dump.
 */
export function incompleteArchive(a: { dumpbytes: number; memoryLength: number; segmentBytes: number; failures: (string | null)[] }): string | null {
  const failed = a.failures.filter((f): f is string => f !== null);
  if (failed.length) return `not written: ${failed.join('; ')}`;
  if (a.segmentBytes <= 0) return 'the dump header describes no memory';
  if (a.dumpbytes <= 0) return `the dump size is ${a.dumpbytes} bytes`;
  if (a.memoryLength !== a.dumpbytes) return `the core holds ${a.memoryLength} bytes of memory, the dump ${a.dumpbytes}`;
  if (a.dumpbytes < a.segmentBytes) return `the dump size (${a.dumpbytes} bytes) is less than the ${a.segmentBytes} bytes its segments describe`;
  return null;
}

/** Whether a directory exists (the CLI checks it before running). */
export async function directoryExists(path: string): Promise<boolean> {
  try {
    return (await fsp.stat(path)).isDirectory();
  } catch {
    return false;
  }
}
