// The Open view's data: the form, devices, recent dumps and scan results.
import { defineStore } from 'pinia';
import type { OpError } from '../../../contract/errors.ts';
import type { DeviceEntry, MachineName, RecentEntry, ScanResult } from '../../../contract/results.ts';
import { api } from '../api/index.ts';

export const useOpen = defineStore('open', {
  state: () => ({
    dumpPath: '',
    kernelPath: '',
    dumpOffset: '',
    machine: '' as MachineName | '',
    devices: [] as DeviceEntry[],
    devicesNote: null as string | null,
    devicesLoading: false,
    recent: [] as RecentEntry[],
    scan: null as ScanResult | null,
    scanning: false,
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
    async runScan() {
      this.scanning = true;
      this.error = null;
      this.scan = null;
      try {
        const r = await api.scan({ path: this.dumpPath });
        if (r.ok) this.scan = r.value;
        else this.error = r.error;
      } finally {
        this.scanning = false;
      }
    },
    fillFrom(e: RecentEntry) {
      this.dumpPath = e.dumpPath;
      this.kernelPath = e.kernelPath ?? '';
      this.dumpOffset = e.dumpOffset === null ? '' : String(e.dumpOffset);
      this.machine = e.machine ?? '';
    },
  },
});
