/// <reference types="vite/client" />
import type { KvmdumpApi } from '../../contract/client.ts';

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

declare global {
  interface Window {
    /** Present in Electron (exposed by preload/index.ts); absent in a browser (serve mode). */
    kvmdump?: KvmdumpApi;
  }
}
