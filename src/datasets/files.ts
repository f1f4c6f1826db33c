/** Directory helpers shared by the dataset formats. */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, parse } from 'node:path';
import { DatasetError, IMAGE_EXTENSIONS } from './dataset.js';

/** Image files directly in `dir`, sorted by name. */
export async function listImages(dir: string, extensions: readonly string[] = IMAGE_EXTENSIONS): Promise<string[]> {
  const names = await readdir(dir);
  const exts = extensions.map((e) => e.toLowerCase());
  return names
    .filter((n) => !n.startsWith('.') && exts.includes(extname(n).toLowerCase()))
    .sort()
    .map((n) => join(dir, n));
}

export async function isDir(p: string): Promise<boolean> {
  return existsSync(p) && (await stat(p)).isDirectory();
}

export async function subdirs(p: string): Promise<string[]> {
  const names = await readdir(p);
  const out: string[] = [];
  for (const n of names.sort()) if (!n.startsWith('.') && (await isDir(join(p, n)))) out.push(n);
  return out;
}

/** Masks by image stem; `<stem>_mask.*` and `<stem>.*` both name the mask of `<stem>`. */
export async function masksByStem(dir: string, extensions?: readonly string[]): Promise<Map<string, string>> {
  const masks = new Map<string, string>();
  for (const m of await listImages(dir, extensions)) masks.set(parse(m).name.replace(/_mask$/, ''), m);
  return masks;
}

/** `<root>/<category>`, or a DatasetError naming what the root holds instead. */
export async function categoryDir(root: string, category: string): Promise<string> {
  if (!(await isDir(root))) throw new DatasetError(`${root}: dataset root is not a directory`);
  const catDir = join(root, category);
  if (!(await isDir(catDir))) {
    const known = await subdirs(root);
    throw new DatasetError(`${catDir}: unknown category '${category}'${known.length ? ` (found: ${known.join(', ')})` : ' (the root holds no categories)'}`);
  }
  return catDir;
}
