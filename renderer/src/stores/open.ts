// The Open view's data: the form, devices, recent dumps and scan results.
import { defineStore } from 'pinia';
import type { OpError } from '../../../contract/errors.ts';
import type { DeviceEntry, DiskSurveyResult, JobEvent, MachineName, RecentEntry, ScanResult } from '../../../contract/results.ts';
import { api } from '../api/index.ts';
import { watchJobs } from '../api/job-watch.ts';

export const useOpen = defineStore('open', {
  state: () => ({
    dumpPath: '',
    kernelPath: '',
    dumpOffset: '',
    /** The partition of a whole disk or image that is the dump device (dumpOffset relative to it). */
    partition: '',
    machine: '' as MachineName | '',
    /** The partition map and dumps of the disk or image in dumpPath ("Find dumps"). */
    survey: null as DiskSurveyResult | null,
    surveying: false,
    devices: [] as DeviceEntry[],
    devicesNote: null as string | null,
    devicesLoading: false,
    recent: [] as RecentEntry[],
    scan: null as ScanResult | null,
    scanning: false,
    /** The running scan job and its last progress event (a whole disk takes a while). */
    scanJob: null as string | null,
    scanProgress: null as JobEvent | null,
    error: null as OpError | null,
  }),
  actions: {
    async loadRecent() {
      const r = await api.listRecent({});
      if (r.ok) this.recent = r.value.recent;
    },
    async loadDevices() {
      this.devicesLoading = true;
      try {
        const r = await api.listDevices({});
        if (r.ok) {
          this.devices = r.value.devices;
          this.devicesNote = r.value.note;
        } else this.devicesNote = r.error.message;
      } finally {
        this.devicesLoading = false;
      }
    },
    /** Scan as a job: progress events until done, failed or cancelled. */
    async runScan() {
      this.error = null;
      this.scan = null;
      this.scanProgress = null;
      this.scanning = true;
      const watcher = watchJobs(api, (e) => {
        this.scanProgress = e;
      });
      try {
        const r = await api.startScan({ path: this.dumpPath });
        if (!r.ok) {
          this.error = r.error;
          return;
        }
        this.scanJob = r.value.jobId;
        const end = await watcher.follow(r.value.jobId);
        if (end.state === 'done' && end.scan) this.scan = end.scan;
        else if (end.state === 'failed') this.error = { code: 'internal', message: end.message ?? 'scan failed' };
      } finally {
        watcher.close();
        this.scanning = false;
        this.scanJob = null;
      }
    },
    /** The partition map of the disk or image typed in, and the dumps in its NetBSD swap partitions. */
    async runSurvey() {
      this.error = null;
      this.survey = null;
      this.surveying = true;
      try {
        const r = await api.surveyDisk({ path: this.dumpPath.trim() });
        if (r.ok) this.survey = r.value;
        else this.error = r.error;
      } finally {
        this.surveying = false;
      }
    },
    async cancelScan() {
      if (this.scanJob) await api.cancelJob({ jobId: this.scanJob });
    },
    async forget(e: RecentEntry) {
      const r = await api.forgetRecent({ dumpPath: e.dumpPath, kernelPath: e.kernelPath, dumpOffset: e.dumpOffset });
      if (r.ok) this.recent = r.value.recent;
    },
    fillFrom(e: RecentEntry) {
      this.dumpPath = e.dumpPath;
      this.kernelPath = e.kernelPath ?? '';
      this.dumpOffset = e.dumpOffset === null ? '' : String(e.dumpOffset);
      this.partition = e.partition ?? '';
      this.machine = e.machine ?? '';
    },
  },
});
