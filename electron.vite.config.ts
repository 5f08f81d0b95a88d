// Builds the desktop app into out/: main (Electron main process), preload (sandboxed, so one
// CommonJS file with everything inlined) and renderer (Vue).

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';

const root = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  main: {
    build: {
      rollupOptions: { input: { index: resolve(root, 'main/electron/index.ts') } },
    },
  },
  preload: {
    build: {
      // A sandboxed preload cannot load other files: bundle its few imports into it.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(root, 'preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    plugins: [vue()],
    build: {
      rollupOptions: { input: { index: resolve(root, 'renderer/index.html') } },
    },
  },
});
