// Where the app's own files are, whether it runs from TypeScript sources (tests), from dist/
// (the CLI) or from out/ (Electron): found by walking up to the package.json, not by counting
// directories.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'kvmdump-workbench';

export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours; keep walking
      }
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${from}`);
  }
}

export function packageVersion(root = packageRoot()): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The window icon (packaged alongside; electron-builder makes the platform icons from it). */
export const appIconPath = (root = packageRoot()) => join(root, 'build', 'icon.png');

/** The built renderer (electron-vite build → out/renderer). */
export const rendererDir = (root = packageRoot()) => join(root, 'out', 'renderer');

/** Per-user settings for serve mode (Electron uses app.getPath('userData') instead). */
export function defaultUserDataDir(platform: NodeJS.Platform = process.platform, env = process.env): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'kvmdump workbench');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'kvmdump workbench');
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'kvmdump-workbench');
}
