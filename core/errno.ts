// errno values as NetBSD's strerror(3) names them, so error text matches kvm_geterr() byte for byte
// even when the dump is read on Linux, macOS or Windows.

export type Errno =
  | 0 | 'EPERM' | 'ENOENT' | 'EIO' | 'ENXIO' | 'EBADF' | 'ENOMEM' | 'EACCES' | 'EFAULT' | 'EBUSY'
  | 'EEXIST' | 'ENODEV' | 'ENOTDIR' | 'EISDIR' | 'EINVAL' | 'ENFILE' | 'EMFILE' | 'EFBIG' | 'ENOSPC'
  | 'ESPIPE' | 'EROFS' | 'EPIPE' | 'EDQUOT' | 'EINTR' | 'EAGAIN' | 'ECANCELED' | 'EOVERFLOW';

const NETBSD_STRERROR: Record<Exclude<Errno, 0>, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  ENXIO: 'Device not configured',
  EBADF: 'Bad file descriptor',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EBUSY: 'Device busy',
  EEXIST: 'File exists',
  ENODEV: 'Operation not supported by device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  ESPIPE: 'Illegal seek',
  EROFS: 'Read-only file system',
  EPIPE: 'Broken pipe',
  EDQUOT: 'Disc quota exceeded',
  EINTR: 'Interrupted system call',
  EAGAIN: 'Resource temporarily unavailable',
  ECANCELED: 'Operation canceled',
  EOVERFLOW: 'Value too large to be stored in data type',
};

/** NetBSD's strerror text; errno 0 is "Undefined error: 0" as on NetBSD. */
export function strerror(errno: Errno | string): string {
  if (errno === 0) return 'Undefined error: 0';
  return (NETBSD_STRERROR as Record<string, string>)[errno] ?? `Unknown error: ${errno}`;
}

/** Narrow an arbitrary code (e.g. Node's err.code) to an Errno, defaulting to EIO. */
export function toErrno(code: unknown): Errno {
  if (code === 0) return 0;
  if (typeof code === 'string' && code in NETBSD_STRERROR) return code as Errno;
  return 'EIO';
}

/** An I/O failure from a source or sink, carrying the errno the C code would have seen. */
export class IoError extends Error {
  constructor(readonly errno: Errno, message: string) {
    super(message);
    this.name = 'IoError';
  }
}

/** The errno of any thrown value: IoError, a Node system error (err.code), or EIO. */
export function errnoOf(e: unknown): Errno {
  if (e instanceof IoError) return e.errno;
  if (e && typeof e === 'object' && 'code' in e) return toErrno((e as { code: unknown }).code);
  return 'EIO';
}
