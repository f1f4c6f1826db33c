/** One entry point for every dataset format the CLI accepts. */
import type { AnomalyDataset } from './dataset.js';
import { DatasetError } from './dataset.js';
import { type FolderOptions, loadFolder } from './folder.js';
import { loadMvtec } from './mvtec.js';
import { loadVisa } from './visa.js';

export const DATASET_FORMATS = ['mvtec', 'visa', 'folder'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export type DatasetSpec =
  | { format: 'mvtec' | 'visa'; root: string; category: string }
  | ({ format: 'folder' } & FolderOptions);

export async function loadDataset(spec: DatasetSpec): Promise<AnomalyDataset> {
  switch (spec.format) {
    case 'mvtec':
      return loadMvtec(spec.root, spec.category);
    case 'visa':
      return loadVisa(spec.root, spec.category);
    case 'folder':
      return loadFolder(spec);
    default:
      throw new DatasetError(`unknown dataset format '${(spec as { format: string }).format}': expected ${DATASET_FORMATS.join(', ')}`);
  }
}
