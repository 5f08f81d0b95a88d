// Unguessable ids for sessions and jobs: a renderer can only name what it was handed.
import { randomBytes } from 'node:crypto';

export const newSessionId = (): string => `s${randomBytes(12).toString('hex')}`;
export const newJobId = (): string => `j${randomBytes(12).toString('hex')}`;
