/**
 * The user's own data, as anomalib's Folder: a directory of good images for training, optional
 * good test images (else a seeded split of the good ones), optional directories of defective
 * images and an optional mask directory (masks named like their images, `_mask` suffix allowed).
 */
import { basename, parse } from 'node:path';
import { Rng } from '../core/rng.js';
import { type AnomalyDataset, DatasetError, IMAGE_EXTENSIONS, type Sample } from './dataset.js';
import { isDir, listImages, masksByStem } from './files.js';

/**
 * The folder format's spec (besides `format: 'folder'`): your own images in plain folders, as
 * anomalib's Folder dataset.
 * @example
 * const dataset = await loadDataset({ format: 'folder', normalDir: 'photos/good', abnormalDirs: ['photos/scratch', 'photos/dent'], maskDir: 'photos/masks' });
 */
export interface FolderOptions {
  /** Good images for training (and, without `normalTestDir`, a seeded share for testing). */
  normalDir: string;
  /** Good images for testing; without it `testSplit` of normalDir is held out (seeded). */
  normalTestDir?: string;
  /** Folders of defective test images; each folder's name is the defect type. */
  abnormalDirs?: readonly string[];
  /** Masks named like their images (any image extension, optional `_mask` suffix). */
  maskDir?: string;
  /** Image file extensions to read. Default IMAGE_EXTENSIONS. */
  extensions?: readonly string[];
  /** Fraction of normalDir held out for testing when normalTestDir is absent (anomalib: 0.2). */
  testSplit?: number;
  /** Seed of that split. Default 0 (`train` and `Detector.evaluate` pass the training seed). */
  seed?: number;
  /** A name for the dataset in reports. Default: the last folder name of `normalDir`. */
  category?: string;
}

async function images(dir: string, what: string, extensions: readonly string[]): Promise<string[]> {
  if (!(await isDir(dir))) throw new DatasetError(`${dir}: ${what} is not a directory`);
  return listImages(dir, extensions);
}

export async function loadFolder(opts: FolderOptions): Promise<AnomalyDataset> {
  const extensions = opts.extensions ?? IMAGE_EXTENSIONS;
  const testSplit = opts.testSplit ?? 0.2;
  if (!(testSplit >= 0 && testSplit < 1)) throw new RangeError(`loadFolder: testSplit must be in [0, 1), got ${testSplit}`);
  const normal = await images(opts.normalDir, 'the normal (good) image directory', extensions);
  if (normal.length === 0) throw new DatasetError(`${opts.normalDir}: no images (extensions ${extensions.join(' ')})`);

  let train = normal;
  let goodTest: string[] = [];
  if (opts.normalTestDir) {
    goodTest = await images(opts.normalTestDir, 'the normal test directory', extensions);
  } else if (testSplit > 0 && normal.length > 1) {
    const order = new Rng(opts.seed ?? 0).shuffle(normal.map((_, i) => i));
    const nTest = Math.min(normal.length - 1, Math.max(1, Math.round(normal.length * testSplit)));
    const held = new Set(order.slice(0, nTest));
    train = normal.filter((_, i) => !held.has(i));
    goodTest = normal.filter((_, i) => held.has(i));
  }

  if (opts.maskDir && !(await isDir(opts.maskDir))) throw new DatasetError(`${opts.maskDir}: the mask directory is not a directory`);
  const masks = opts.maskDir ? await masksByStem(opts.maskDir, extensions) : undefined;
  const test: Sample[] = goodTest.map((path) => ({ path, label: 0, defectType: 'good' }));
  for (const dir of opts.abnormalDirs ?? []) {
    for (const path of await images(dir, 'an abnormal image directory', extensions)) {
      const stem = parse(path).name;
      const maskPath = masks?.get(stem);
      if (masks && !maskPath) throw new DatasetError(`${path}: no mask named '${stem}' in ${opts.maskDir}`);
      masks?.delete(stem);
      test.push({ path, label: 1, defectType: basename(dir), maskPath });
    }
  }
  const orphan = masks?.values().next().value as string | undefined;
  if (orphan) throw new DatasetError(`${orphan}: mask without a matching defective image`);
  return {
    format: 'folder',
    root: opts.normalDir,
    category: opts.category ?? basename(opts.normalDir),
    train: train.map((path) => ({ path, label: 0, defectType: 'good' })),
    test,
    hasMasks: Boolean(opts.maskDir) && test.some((s) => s.label === 1),
  };
}
