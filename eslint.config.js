// Layering rules (as VS Code does with its layers): core/ is pure TypeScript and must not reach
// Node, Electron or Vue; only main/electron/ may import electron; the renderer never imports Node.
import tseslint from 'typescript-eslint';

// Presenting readers (triage, crash facts, ksyms discovery, savecore's checks, the app's memory
// reads) read through the strict layers only: libkvm's handle (kvm_read's quirks return foreign or
// stale bytes as memory) is for the libkvm API — CLI kvm commands, wrtheader/inval, mkheader.
const LIBKVM_HANDLE = {
  regex: '(^|/)(kvm\\.ts|kvm/(handle|io|errbuf)\\.ts)$',
  message: 'presenting readers use the strict layers (a DumpView from core/kvm/view.ts), not the libkvm handle.',
};
const STRICT_CORE = ['core/triage/**/*.ts', 'core/crash/**/*.ts', 'core/ksyms/**/*.ts', 'core/layers/**/*.ts', 'core/objects/**/*.ts'];
const STRICT_MAIN = ['main/jobs/savecore/checks.ts', 'main/app/ops/memory-ops.ts', 'main/app/adapters/triage.ts', 'main/app/ops/savecore-preview.ts'];

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
    files: STRICT_CORE,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: nodeModules, message: 'core/ and contract/ are pure TypeScript: read through DumpSource, not Node APIs.' },
          { group: ['electron', 'vue', 'pinia', '**/main/**', '**/renderer/**', '**/preload/**'], message: 'core/ and contract/ may not depend on the app layers.' },
          LIBKVM_HANDLE,
        ],
      }],
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
    files: STRICT_MAIN,
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['electron'], message: 'only main/electron/ imports electron; the rest of main/ runs under plain Node.' }, LIBKVM_HANDLE] }],
    },
  },
  {
    files: ['renderer/**/*.ts', 'preload/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: nodeModules, message: 'the renderer and preload are sandboxed: no Node APIs.' }, { group: ['**/core/**', '**/main/**'], message: 'the renderer talks to main only through the contract.' }] }],
    },
  },
);
