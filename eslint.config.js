// Layering rules (as VS Code does with its layers): core/ is pure TypeScript and must not reach
// Node, Electron or Vue; only main/electron/ may import electron; the renderer never imports Node.
import tseslint from 'typescript-eslint';

const nodeModules = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'worker_threads', 'zlib', 'crypto', 'http', 'net', 'stream', 'buffer'];

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'release/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
  },
  {
    files: ['core/**/*.ts', 'contract/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: nodeModules, message: 'core/ and contract/ are pure TypeScript: read through DumpSource, not Node APIs.' },
          { group: ['electron', 'vue', 'pinia', '**/main/**', '**/renderer/**', '**/preload/**'], message: 'core/ and contract/ may not depend on the app layers.' },
        ],
      }],
      'no-restricted-globals': ['error', { name: 'Buffer', message: 'use Uint8Array in core/' }, { name: 'process', message: 'core/ does not know about the process' }],
    },
  },
  {
    files: ['main/**/*.ts'],
    ignores: ['main/electron/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['electron'], message: 'only main/electron/ imports electron; the rest of main/ runs under plain Node.' }] }],
    },
  },
  {
    files: ['renderer/**/*.ts', 'preload/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: nodeModules, message: 'the renderer and preload are sandboxed: no Node APIs.' }, { group: ['**/core/**', '**/main/**'], message: 'the renderer talks to main only through the contract.' }] }],
    },
  },
);
