/** What every dataset format gives the engine: good training images and a labelled test split. */

/**
 * One image of a dataset: its file, ground-truth label and defect type, and its mask(s) when it is
 * defective and the dataset has masks.
 * @example
 * const s: Sample = { path: 'mvtec_ad/bottle/test/broken_large/000.png', label: 1, defectType: 'broken_large', maskPath: 'mvtec_ad/bottle/ground_truth/broken_large/000_mask.png' };
 */
export interface Sample {
  /** The image file. */
  path: string;
  /** 1 = defective, 0 = good. */
  label: 0 | 1;
  /** 'good' or the defect type (folder name in MVTec AD). */
  defectType: string;
  /** Ground-truth mask; absent for good images (all zero) and for datasets without masks. */
  maskPath?: string;
  /** Further masks whose union with maskPath is the image's mask (MVTec LOCO: one file per defect). */
  extraMaskPaths?: string[];
}

/**
 * A loaded dataset: the good training images and the labelled test split, as paths (nothing
 * decoded yet). From `loadDataset`; `Detector.evaluate` and `train` take one or a spec.
 * @example
 * const ds: AnomalyDataset = await loadDataset({ format: 'mvtec', root: 'mvtec_ad', category: 'bottle' });
 * console.log(ds.train.length, ds.test.filter((s) => s.label === 1).length, ds.hasMasks);
 */
export interface AnomalyDataset {
  /** The format's name, e.g. 'mvtec'. */
  format: string;
  /** The dataset's root folder. */
  root: string;
  /** The category (e.g. 'bottle'); for the folder format, its `category` option or the good folder's name. */
  category: string;
  /** Good images to train on (all label 0). */
  train: Sample[];
  /** Good and defective images to evaluate on. */
  test: Sample[];
  /** True when every defective test image has a mask, so pixel metrics exist. */
  hasMasks: boolean;
}

export { IMAGE_EXTENSIONS } from '../images/decode.js';

/**
 * A dataset is not usable as given: a malformed spec (naming the field), an unknown format, a
 * missing folder or an empty image list. The message names what is wrong.
 * @example
 * try { await loadDataset(spec); } catch (e) { if (e instanceof DatasetError) console.error(`bad dataset: ${e.message}`); }
 */
export class DatasetError extends Error {
  override name = 'DatasetError';
}
