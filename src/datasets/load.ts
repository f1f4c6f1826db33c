/** One entry point for every dataset format (datasets/formats.ts): the spec is checked, then loaded. */
import type { AnomalyDataset } from './dataset.js';
import { DatasetError } from './dataset.js';
import type { FolderOptions } from './folder.js';
import { datasetFormat } from './formats.js';

/** The builtin formats' names (more can be registered with registerDatasetFormat). */
export const DATASET_FORMATS = ['mvtec', 'visa', 'mvtec3d', 'loco', 'folder'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/**
 * Which dataset to load: a builtin format with its root folder and category, or the folder
 * format with its options (`FolderOptions`). Registered formats take their own fields.
 * @example
 * const mvtec: DatasetSpec = { format: 'mvtec', root: 'mvtec_ad', category: 'bottle' };
 * const mine: DatasetSpec = { format: 'folder', normalDir: 'photos/good', abnormalDirs: ['photos/bad'] };
 */
export type DatasetSpec = { format: 'mvtec' | 'visa' | 'mvtec3d' | 'loco'; root: string; category: string } | ({ format: 'folder' } & FolderOptions);

/**
 * Loads the images of a dataset (paths and labels; nothing is decoded yet).
 * @throws DatasetError naming the field of a malformed spec, or the file or folder that is wrong.
 * @example const dataset = await loadDataset({ format: 'mvtec', root: 'mvtec_ad', category: 'bottle' });
 */
export async function loadDataset(spec: DatasetSpec | ({ format: string } & Record<string, unknown>)): Promise<AnomalyDataset> {
  const { format: name, ...rest } = spec as { format: string } & Record<string, unknown>;
  const format = datasetFormat(name);
  const parsed = format.schema.safeParse(rest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(spec)');
    throw new DatasetError(`dataset spec for format '${name}': field '${field}': ${issue.message}`);
  }
  return format.load(parsed.data);
}
