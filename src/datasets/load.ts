/** One entry point for every dataset format the CLI accepts. */
import type { AnomalyDataset } from './dataset.js';
import { DatasetError } from './dataset.js';
import { type FolderOptions, loadFolder } from './folder.js';
import { loadLoco } from './loco.js';
import { loadMvtec } from './mvtec.js';
import { loadMvtec3d } from './mvtec3d.js';
import { loadVisa } from './visa.js';

export const DATASET_FORMATS = ['mvtec', 'visa', 'mvtec3d', 'loco', 'folder'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export type DatasetSpec = { format: 'mvtec' | 'visa' | 'mvtec3d' | 'loco'; root: string; category: string } | ({ format: 'folder' } & FolderOptions);

export async function loadDataset(spec: DatasetSpec): Promise<AnomalyDataset> {
  switch (spec.format) {
    case 'mvtec':
      return loadMvtec(spec.root, spec.category);
    case 'visa':
      return loadVisa(spec.root, spec.category);
    case 'mvtec3d':
      return loadMvtec3d(spec.root, spec.category);
    case 'loco':
      return loadLoco(spec.root, spec.category);
    case 'folder':
      return loadFolder(spec);
    default:
      throw new DatasetError(`unknown dataset format '${(spec as { format: string }).format}': expected ${DATASET_FORMATS.join(', ')}`);
  }
}
