// Argument building blocks shared by the operation schemas. Addresses are "0x…" strings because a
// 64-bit kernel address does not fit a JS number; byte offsets and sizes stay numbers (< 2^53).

import { z } from 'zod';
import type { MachineName } from '../core/machines/machine.ts';

/** Largest read the hex viewer (or anyone) may ask for in one call. */
export const MAX_READ_LENGTH = 1 << 20;
/** Upper bounds that keep one call cheap and one response small. */
export const MAX_NLIST_NAMES = 1000;
export const MAX_SYMBOL_RESULTS = 1000;
export const MAX_PATH_LENGTH = 4096;

export const hexAddress = z
  .string()
  .regex(/^0x[0-9a-fA-F]{1,16}$/, 'an address is a "0x…" hex string of at most 64 bits');

export const filePath = z
  .string()
  .min(1, 'a path is required')
  .max(MAX_PATH_LENGTH)
  .refine((p) => !p.includes('\0'), 'a path cannot contain NUL');

export const byteCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const sessionId = z.string().regex(/^s[0-9a-f]{8,64}$/, 'not a session id');
export const jobId = z.string().regex(/^j[0-9a-f]{8,64}$/, 'not a job id');

export const machineName = z.enum(['amd64', 'i386', 'i386pae', 'aarch64'] as const satisfies readonly MachineName[]);

/** The address spaces a strict read can be made in: kernel virtual, physical, dump-file offsets. */
export const memorySpace = z.enum(['virtual', 'physical', 'file']);

export const noArgs = z.strictObject({});

export const fileFilter = z.strictObject({
  name: z.string().max(200),
  extensions: z.array(z.string().regex(/^[A-Za-z0-9*._-]{1,20}$/)).max(20),
});

export { fromHexAddress, toHexAddress } from './hex.ts';
