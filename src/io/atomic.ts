/** Writes that never leave a half-written file or folder behind: write beside, then rename. */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Builds a directory under a temporary name beside `path` and renames it into place only when
 * `fill` succeeds; an existing directory at `path` is replaced only then.
 */
export async function writeDirAtomic<T>(path: string, fill: (tmpDir: string) => Promise<T>): Promise<T> {
  const parent = dirname(path);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  await mkdir(tmp);
  try {
    const result = await fill(tmp);
    await rm(path, { recursive: true, force: true });
    await rename(tmp, path);
    return result;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
