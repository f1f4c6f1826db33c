/**
 * The candidate datasets under the data root, for the training form's pickers: MVTec-style roots
 * (categories with `train/good`) and plain folders of images ('folder' format). The walk is
 * bounded in depth and in folders read, skips hidden entries and never follows a symlink, so it
 * neither leaves the root nor hangs on a huge tree.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { IMAGE_EXTENSIONS } from '../datasets/dataset.js';
import type { DataRoot } from './dataRoot.js';

/** One candidate: its path relative to the root, the format to train it with, its good images. */
export interface DatasetEntry {
  path: string;
  format: string;
  /** For formats with categories: the category folders that have good training images. */
  categories?: string[];
  /** Good training images (for a categorised root, summed over its categories). */
  goodImages: number;
}

export interface ListOptions {
  /** Folder levels below the root to look at (default 4). */
  maxDepth?: number;
  /** Folders read at most (default 2000): a bound on the work, not on the answer. */
  maxFolders?: number;
  /** Entries answered at most (default 200). */
  maxEntries?: number;
}

const EXTS = new Set(IMAGE_EXTENSIONS.map((e) => e.toLowerCase()));
const isImage = (d: Dirent) => d.isFile() && !d.name.startsWith('.') && EXTS.has(extname(d.name).toLowerCase());

/**
 * Lists the candidate datasets under `root`, sorted by path.
 * @example const entries = await listDatasets(new DataRoot('/data'));
 */
export async function listDatasets(root: DataRoot, opts: ListOptions = {}): Promise<DatasetEntry[]> {
  const maxDepth = opts.maxDepth ?? 4;
  let budget = opts.maxFolders ?? 2000;
  const maxEntries = opts.maxEntries ?? 200;
  const out: DatasetEntry[] = [];
  const read = async (dir: string): Promise<Dirent[]> => {
    if (budget-- <= 0) return [];
    try {
      // withFileTypes reports a symlink as a symlink: it is neither a folder nor a file here.
      return await readdir(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  const dirsOf = (entries: Dirent[]) =>
    entries
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();

  const goodOf = async (category: string): Promise<number> => {
    const train = (await read(join(category, 'train'))).find((d) => d.name === 'good' && d.isDirectory());
    return train ? (await read(join(category, 'train', 'good'))).filter(isImage).length : 0;
  };

  const walk = async (dir: string, depth: number): Promise<void> => {
    if (out.length >= maxEntries || budget <= 0) return;
    const entries = await read(dir);
    const rel = root.relative(dir);
    const images = entries.filter(isImage).length;
    if (images > 0) out.push({ path: rel, format: 'folder', goodImages: images });
    const subs = dirsOf(entries);
    // An MVTec-style root: some sub-folders are categories with train/good images.
    const categories: string[] = [];
    let good = 0;
    for (const s of subs) {
      const n = await goodOf(join(dir, s));
      if (n > 0) {
        categories.push(s);
        good += n;
      }
    }
    if (categories.length > 0) {
      out.push({ path: rel, format: 'mvtec', categories, goodImages: good });
      return;
    }
    if (depth >= maxDepth) return;
    for (const s of subs) await walk(join(dir, s), depth + 1);
  };
  await walk(root.root, 0);
  return out.slice(0, maxEntries).sort((a, b) => a.path.localeCompare(b.path));
}
