// Native open/save dialogs for the pickFile / pickSaveFile operations.

import { dialog, type BrowserWindow } from 'electron';
import type { Dialogs } from '../app/handlers.ts';

export function electronDialogs(window: () => BrowserWindow | null): Dialogs {
  return {
    async pickFile(opts) {
      const w = window();
      const options: Electron.OpenDialogOptions = {
        title: opts.title,
        filters: opts.filters,
        // Devices (/dev/…) and dump files often sit in hidden or package directories.
        properties: ['openFile', 'showHiddenFiles', 'treatPackageAsDirectory'],
      };
      const r = w ? await dialog.showOpenDialog(w, options) : await dialog.showOpenDialog(options);
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    async pickSaveFile(opts) {
      const w = window();
      if (opts.directory) {
        const options: Electron.OpenDialogOptions = { title: opts.title, defaultPath: opts.defaultPath, properties: ['openDirectory', 'createDirectory'] };
        const r = w ? await dialog.showOpenDialog(w, options) : await dialog.showOpenDialog(options);
        return r.canceled ? null : (r.filePaths[0] ?? null);
      }
      const options: Electron.SaveDialogOptions = { title: opts.title, defaultPath: opts.defaultPath, properties: ['showOverwriteConfirmation', 'createDirectory'] };
      const r = w ? await dialog.showSaveDialog(w, options) : await dialog.showSaveDialog(options);
      return r.canceled ? null : (r.filePath ?? null);
    },
  };
}
