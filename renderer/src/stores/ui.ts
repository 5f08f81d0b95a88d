// Which view is showing, and what the app told us about itself at start-up.
import { defineStore } from 'pinia';
import type { AppInfo } from '../../../contract/results.ts';
import { api } from '../api/index.ts';

export const VIEWS = [
  { name: 'open', label: 'Open', needsDump: false },
  { name: 'summary', label: 'Summary', needsDump: true },
  { name: 'header', label: 'Header', needsDump: true },
  { name: 'segments', label: 'Segments', needsDump: true },
  { name: 'hex', label: 'Memory', needsDump: true },
  { name: 'symbols', label: 'Symbols', needsDump: true },
  { name: 'export', label: 'Export', needsDump: true },
  { name: 'processes', label: 'Processes', needsDump: true },
  { name: 'cpus', label: 'CPUs', needsDump: true },
  { name: 'mounts', label: 'Mounts', needsDump: true },
  { name: 'modules', label: 'Modules', needsDump: true },
  { name: 'stack', label: 'Stack', needsDump: true },
] as const;

export type ViewName = (typeof VIEWS)[number]['name'];

export const useUi = defineStore('ui', {
  state: () => ({
    view: 'open' as ViewName,
    info: null as AppInfo | null,
    infoError: null as string | null,
  }),
  actions: {
    show(view: ViewName) {
      this.view = view;
    },
    /** After a dump opens: the crash summary first (what crashed, when, why); the header when it failed. */
    showOpened(hasHeader: boolean) {
      this.view = hasHeader ? 'summary' : 'header';
    },
    async loadInfo() {
      const r = await api.appInfo({});
      if (r.ok) this.info = r.value;
      else this.infoError = r.error.message;
      return this.info;
    },
  },
});
