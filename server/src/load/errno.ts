// The errno values of x86_64 and arm64 Linux (include/uapi/asm-generic/errno*.h) that a module
// load can return (EIO, EAGAIN and ENODEV are what init() functions commonly return), with their
// names and the text strerror(3) gives them in glibc.
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const ENOEXEC = 8;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const EFBIG = 27;
export const ETXTBSY = 26;
export const ENOSPC = 28;
export const EROFS = 30;
export const ERANGE = 34;
export const ENODATA = 61;
export const ENOPKG = 65;
export const EBADMSG = 74;
export const EOPNOTSUPP = 95;
export const ENOKEY = 126;
export const EKEYREJECTED = 129;

const names: Record<number, [string, string]> = {
  [EPERM]: ['EPERM', 'Operation not permitted'],
  [ENOENT]: ['ENOENT', 'No such file or directory'],
  [ESRCH]: ['ESRCH', 'No such process'],
  [EINTR]: ['EINTR', 'Interrupted system call'],
  [EIO]: ['EIO', 'Input/output error'],
  [ENOEXEC]: ['ENOEXEC', 'Exec format error'],
  [EBADF]: ['EBADF', 'Bad file descriptor'],
  [EAGAIN]: ['EAGAIN', 'Resource temporarily unavailable'],
  [ENOMEM]: ['ENOMEM', 'Cannot allocate memory'],
  [EFAULT]: ['EFAULT', 'Bad address'],
  [EBUSY]: ['EBUSY', 'Device or resource busy'],
  [EEXIST]: ['EEXIST', 'File exists'],
  [ENODEV]: ['ENODEV', 'No such device'],
  [EINVAL]: ['EINVAL', 'Invalid argument'],
  [ETXTBSY]: ['ETXTBSY', 'Text file busy'],
  [EFBIG]: ['EFBIG', 'File too large'],
  [ENOSPC]: ['ENOSPC', 'No space left on device'],
  [EROFS]: ['EROFS', 'Read-only file system'],
  [ERANGE]: ['ERANGE', 'Numerical result out of range'],
  [ENODATA]: ['ENODATA', 'No data available'],
  [ENOPKG]: ['ENOPKG', 'Package not installed'],
  [EBADMSG]: ['EBADMSG', 'Bad message'],
  [EOPNOTSUPP]: ['EOPNOTSUPP', 'Operation not supported'],
  [ENOKEY]: ['ENOKEY', 'Required key not available'],
  [EKEYREJECTED]: ['EKEYREJECTED', 'Key was rejected by service'],
};

export function errnoName(errno: number): string {
  return names[errno]?.[0] ?? `E${errno}`;
}

export function strerror(errno: number): string {
  return names[errno]?.[1] ?? `Unknown error ${errno}`;
}
