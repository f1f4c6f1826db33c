/**
 * Outputs that never destroy what we did not create and never leave half-written files: a file or
 * folder is built under a temporary name beside its path (io/temporaries.ts) and renamed into place
 * when complete. An existing output is replaced only when io/artefacts.ts recognises it as ours
 * (anything else is refused before any work starts), and a folder is replaced by two renames:
 * the old one aside, the new one in, then the old one removed. A process killed between the two
 * renames leaves the complete old output under its `.old` name, which the next run that writes
 * into that folder renames back (cleanStaleTemporaries), so a complete output is never lost.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { FILE_KIND_NAMES, FOLDER_NAMES, type FileKind, type FolderKind, isFolderOf, isReplaceableFile, strangersInModel } from './artefacts.js';
import { FileError } from './ioError.js';
import { cleanStaleTemporaries, temporaryPath, trackTemporary, untrackTemporary } from './temporaries.js';

/**
 * An output path holds something simplenet did not write (a dataset, a folder of photos, another
 * program's file), so it is refused rather than replaced; nothing was written. The message names
 * the path and what is there.
 * @example
 * try { await detector.export('photos/'); } catch (e) { if (e instanceof OutputRefusedError) console.error(e.message); }
 */
export class OutputRefusedError extends Error {
  override name = 'OutputRefusedError';
}

const isFsError = (e: unknown) => typeof (e as NodeJS.ErrnoException)?.code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';

/** Node's own fs errors rethrown naming `path`; anything else (a decode error, a bug) unchanged. */
function nameFsError(path: string, e: unknown): unknown {
  return isFsError(e) ? new FileError(path, 'cannot write', e) : e;
}

const MODEL_FILES = new Set(['simplenet.json', 'backbone.onnx', 'heads.safetensors', 'training_log.csv']);

/**
 * Throws unless a file output may be written at `path`: nothing there, or a file of `kind` that
 * simplenet wrote; never a folder, never a model folder's own files.
 * @throws OutputRefusedError naming the path and what is there.
 */
export function checkOutputFile(path: string, kind: FileKind): void {
  if (strangersInModel(dirname(path)) !== undefined && MODEL_FILES.has(basename(path))) {
    throw new OutputRefusedError(`${path}: is part of the simplenet model in ${dirname(path)}; refusing to overwrite it (choose another path)`);
  }
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) throw new OutputRefusedError(`${path}: is a folder; give the path of a file to write`);
  if (!isReplaceableFile(path, kind)) {
    throw new OutputRefusedError(
      `${path}: exists and is not ${FILE_KIND_NAMES[kind]} written by simplenet; refusing to replace it (choose another path or remove it yourself)`,
    );
  }
}

/**
 * Throws unless a folder output of `kind` may be written at `path`: nothing there, an empty
 * folder, or a finished output of the same kind with nothing in it that a user put there.
 * @throws OutputRefusedError naming the path and what is there.
 */
export function checkOutputFolder(path: string, kind: FolderKind): void {
  if (!existsSync(path)) return;
  const what = FOLDER_NAMES[kind];
  if (!statSync(path).isDirectory()) throw new OutputRefusedError(`${path}: is a file, not a folder; simplenet writes ${what} there and replaces only its own`);
  const entries = readdirSync(path);
  if (entries.length === 0 || isFolderOf(path, kind)) return;
  const strangers = strangersInModel(path);
  if (kind === 'model' && strangers) {
    throw new OutputRefusedError(
      `${path}: this model folder also holds files simplenet did not write (${strangers.slice(0, 3).join(', ')}${strangers.length > 3 ? ', …' : ''}); ` +
        'move them out or choose another --out',
    );
  }
  const other = (Object.keys(FOLDER_NAMES) as FolderKind[]).find((k) => k !== kind && isFolderOf(path, k));
  const is = other ? `is ${FOLDER_NAMES[other]}, not ${what}` : `exists and is not ${what} (it holds ${entries.length} entries, e.g. '${entries[0]}')`;
  throw new OutputRefusedError(`${path}: ${is}; refusing to replace it (choose another path or remove it yourself)`);
}

/**
 * Readies `path` for an output of `kind` before any work starts (a long training run must not end
 * in a refusal): restores or removes what dead runs left beside it, then checks what is there.
 * @throws OutputRefusedError when `path` holds something simplenet will not replace.
 * @example await prepareOutput(flags.out, 'model');
 */
export async function prepareOutput(path: string, kind: FolderKind | FileKind): Promise<void> {
  await cleanStaleTemporaries(dirname(path));
  if (kind in FOLDER_NAMES) checkOutputFolder(path, kind as FolderKind);
  else checkOutputFile(path, kind as FileKind);
}

/** Writes and flushes a new file (the data is on disk before the rename that publishes it). */
export async function writeFileDurable(path: string, data: Uint8Array | string): Promise<void> {
  // 'wx': a file that already exists is refused (EEXIST), never adopted, so whoever cleans up after
  // a failure removes only what was created here.
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncFolder(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    await fh.sync().finally(() => fh.close());
  } catch {
    // Not every file system lets a folder be flushed; the rename itself is still atomic.
  }
}

/**
 * Writes `data` to `path` atomically, replacing an existing file only when it is a `kind` of ours.
 * @throws OutputRefusedError when `path` holds something else; FileError naming `path` on I/O failure.
 * @example await writeFileAtomic('runs/bottle/metrics.json', json, 'metrics-json');
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, kind: FileKind): Promise<void> {
  const parent = dirname(path);
  await cleanStaleTemporaries(parent);
  checkOutputFile(path, kind);
  const tmp = temporaryPath(path, 'tmp');
  trackTemporary(tmp, 'tmp', path);
  try {
    await mkdir(parent, { recursive: true });
    await writeFileDurable(tmp, data);
    await rename(tmp, path);
    await syncFolder(parent);
  } catch (e) {
    // EEXIST: the temporary's name was taken (writeFileDurable refused it), so it is not ours to remove.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') await rm(tmp, { force: true }).catch(() => undefined);
    throw nameFsError(path, e);
  } finally {
    untrackTemporary(tmp);
  }
}

/**
 * Builds a folder under a temporary name beside `path` and puts it in place only when `fill`
 * succeeds; an existing output of the same `kind` is replaced crash-safely (see the file comment),
 * anything else at `path` is refused before `fill` runs.
 * @throws OutputRefusedError when `path` holds something that is not ours; FileError naming
 * `path` on I/O failure; whatever `fill` throws (the temporary is removed first).
 * @example await writeDirAtomic('runs/bottle', 'model', async (tmp) => writeModelFiles(tmp));
 */
export async function writeDirAtomic<T>(path: string, kind: FolderKind, fill: (tmpDir: string) => Promise<T>): Promise<T> {
  const parent = dirname(path);
  await cleanStaleTemporaries(parent);
  checkOutputFolder(path, kind);
  const tmp = temporaryPath(path, 'tmp');
  let old: string | undefined;
  // Set once `mkdir(tmp)` (not recursive: it fails on a folder that exists) has made the temporary:
  // the recursive removal below only ever deletes a folder this call created.
  let made = false;
  try {
    await mkdir(parent, { recursive: true }).catch((e) => Promise.reject(nameFsError(parent, e)));
    await mkdir(tmp).catch((e) => Promise.reject(nameFsError(path, e)));
    made = true;
    trackTemporary(tmp, 'tmp', path);
    const result = await fill(tmp);
    // Checked again: something may have appeared at `path` while `fill` ran.
    checkOutputFolder(path, kind);
    if (existsSync(path)) {
      const aside = temporaryPath(path, 'old');
      await rename(path, aside);
      // Only once the previous output is there is `old` ours to restore or remove (a signal before
      // the rename finds nothing tracked; after it, the next run's cleanStaleTemporaries restores it).
      old = aside;
      trackTemporary(old, 'old', path);
    }
    await rename(tmp, path);
    made = false;
    untrackTemporary(tmp);
    if (old) {
      // The new output is in place; an old copy that resists removal is the next run's to clean.
      await rm(old, { recursive: true, force: true }).catch(() => undefined);
      untrackTemporary(old);
    }
    await syncFolder(parent);
    return result;
  } catch (e) {
    if (made) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    untrackTemporary(tmp);
    if (old && !existsSync(path) && existsSync(old)) await rename(old, path).catch(() => undefined);
    if (old) untrackTemporary(old);
    throw nameFsError(path, e);
  }
}
