/**
 * File-system errors as one line that names the path and the real cause. Node's own messages
 * ("ENOSPC: no space left on device, write") name the system call, not the file, and a caller
 * that guesses the cause (every read failure as "unsupported format") misleads the user.
 */

const CAUSES: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EISDIR: 'is a folder, expected a file',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder is not empty',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  EXDEV: 'cannot move across file systems',
  EBUSY: 'resource busy',
  // Ours (io/readRegular.ts): a device, FIFO or socket where a file was expected.
  ENOTREGULAR: 'not a regular file (a device, pipe or socket)',
};

/** The human cause of a Node file-system error ("permission denied (EACCES)"), or its message. */
export function ioCause(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (code && CAUSES[code]) return `${CAUSES[code]} (${code})`;
  const msg = err instanceof Error ? err.message : String(e);
  return msg.replace(/\s+/g, ' ').trim();
}

/**
 * A file-system error that names the path it concerns and why, in one line ("permission denied
 * (EACCES)"); `code` is Node's error code and `cause` the original error.
 * @example
 * try { await decodeImage('missing.png'); } catch (e) { if (e instanceof FileError && e.code === 'ENOENT') console.error(`${e.path} is gone`); }
 */
export class FileError extends Error {
  override name = 'FileError';
  /** Node's error code, e.g. 'ENOENT', 'EACCES'; undefined when the cause had none. */
  readonly code: string | undefined;

  constructor(
    /** The path concerned. */
    readonly path: string,
    what: string,
    cause: unknown,
  ) {
    super(`${path}: ${what}: ${ioCause(cause)}`, { cause });
    this.code = (cause as NodeJS.ErrnoException)?.code;
  }
}

/**
 * Runs a file-system operation and rethrows its failure as a FileError naming `path`.
 * @example await withPath(out, 'cannot write', () => writeFile(out, bytes));
 */
export async function withPath<T>(path: string, what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw new FileError(path, what, e);
  }
}
