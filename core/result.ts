// The one result shape of fallible core calls that do not throw: a value, or a reason for humans.

export type Result<T> = { ok: true; value: T } | { ok: false; reason: string };

export const okResult = <T>(value: T): Result<T> => ({ ok: true, value });
export const failResult = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
