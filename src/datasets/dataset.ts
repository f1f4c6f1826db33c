/** What every dataset format gives the engine: good training images and a labelled test split. */

export interface Sample {
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

export interface AnomalyDataset {
  format: string;
  root: string;
  category: string;
  train: Sample[];
  test: Sample[];
  /** True when every defective test image has a mask, so pixel metrics exist. */
  hasMasks: boolean;
}

export { IMAGE_EXTENSIONS } from '../images/decode.js';

export class DatasetError extends Error {
  override name = 'DatasetError';
}
